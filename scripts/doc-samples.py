#!/usr/bin/env python3
"""Doc samples: the command samples in README.md and docs/*.md, rerun and compared.

Usage:
  scripts/doc-samples.py [--check] [--bin PATH] [--only FILE]...   compare; exit 1 with a diff if stale
  scripts/doc-samples.py --update [--bin PATH] [--only FILE]...    rewrite the samples from fresh runs

A sample is a fenced code block directly preceded by a marker comment:

  <!-- sample -->
  <!-- sample: OPTION=VALUE ... -->
  <!-- sample: OPTION=VALUE ...
  SETUP COMMANDS (bash, run before the sample; their output is not shown)
  -->

In the block, a line starting with `$ ` is a command, continued on the next line while a line ends with
`\\`; every other line is the output of the command above it, and is what --update rewrites. Options
(values may be quoted as in a shell):

  keep=REGEX    abridge: keep only the output lines REGEX matches (Python re.search); each run of
                dropped lines becomes one line `...`, indented like the first line it stands for
  needs=traces  the sample reads public traces as ../shared/traces/PATH; when a PATH it names (in the
                setup or the commands) is missing from $RACKSCALE_TRACES (default: ../shared/traces
                beside the checkout), the sample is skipped with the reason; with
                RACKSCALE_REQUIRE_TRACES=1 (CI) a missing trace is a failure
  exit=N        the exit status of a command without its own annotation (default 0)
  check=no      neither checked nor updated (say why with why="..."); --all runs these too
  why=TEXT      the reason for check=no

Exit status: a command line may end with a comment `# exit N` (or `# exit N: why`), the status it must
exit with; other commands must exit with the block's exit= (0 by default). A status that differs is
stale like a changed output: --update writes or corrects the `# exit N` comment.

How commands run: each sample in a fresh temporary directory, with bash, stdin from /dev/null, stderr
merged into stdout (so an error sample shows its message), LC_ALL=C, and the commands of one sample in
one shell (a `cd` carries over). The directory holds symlinks to the checkout's examples/, scenarios/,
scripts/, bench/, web/, docs/ and tests/; build/rackscale is the binary given by --bin, and build/ is
first on PATH so that a bare `rackscale` is that binary too; ../shared/traces is the traces directory.
Outputs (out/..., w.csv) land in the temporary directory, never in the checkout.

Wall-clock figures: an output line that matches TIMING (below: "wall", "solved in", a line starting
with "total", or "in N s") holds timings that differ run to run; --check compares such lines with every
number in them masked, so only their words must agree. --update writes the fresh values.

Trailing whitespace of output lines and trailing empty output lines of a block are dropped.

Exit status of this script: 0 when every sample run agrees with the doc (or --update finished), 1 when
one differs or fails, 77 when no sample could run (all skipped: no traces, check=no), 2 on bad usage or a
malformed marker.
"""

import argparse
import concurrent.futures
import difflib
import os
import re
import shlex
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TIMING = re.compile(r"\bwall\b|\bsolved in\b|^\s*total\s|\bin [0-9][0-9.]* s\b")
NUMBER = re.compile(r"[0-9][0-9,]*(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?")
MARKER_ONE = re.compile(r"^<!--\s*sample(?::\s*(.*?))?\s*-->\s*$")
MARKER_OPEN = re.compile(r"^<!--\s*sample(?::\s*(.*?))?\s*$")
FENCE = re.compile(r"^```")
EXIT_NOTE = re.compile(r"(\s+#\s*exit\s+)([0-9]+)")
TRACE_REF = re.compile(r"\.\./shared/traces/([^\s'\"`;|&)]+)")
LINKED = ("examples", "scenarios", "scripts", "bench", "web", "docs", "tests")
OPTIONS = ("keep", "needs", "exit", "check", "why")


class MarkerError(Exception):
    pass


class Sample:
    def __init__(self, path, marker_line, options, setup, open_idx, close_idx, body):
        self.path = path                  # relative to ROOT
        self.marker_line = marker_line    # 1-based, for messages
        self.options = options
        self.setup = setup
        self.open_idx = open_idx          # index of the opening fence in the file's lines
        self.close_idx = close_idx        # index of the closing fence
        self.body = body                  # lines between the fences
        self.commands = parse_body(body, self.where())
        self.keep = re.compile(options["keep"]) if "keep" in options else None
        self.default_exit = int(options.get("exit", "0"))
        self.checked = options.get("check", "yes") != "no"

    def where(self):
        return f"{self.path}:{self.marker_line}"

    def trace_refs(self):
        text = self.setup + "\n" + "\n".join("\n".join(c) for c, _ in self.commands)
        return sorted(set(TRACE_REF.findall(text)))


def parse_options(text, where):
    try:
        words = shlex.split(text or "")
    except ValueError as e:
        raise MarkerError(f"{where}: marker options: {e}")
    options = {}
    for w in words:
        key, eq, value = w.partition("=")
        if not eq or key not in OPTIONS:
            raise MarkerError(f"{where}: unknown marker option '{w}' (known: {', '.join(OPTIONS)}, as KEY=VALUE)")
        options[key] = value
    if "needs" in options and options["needs"] != "traces":
        raise MarkerError(f"{where}: needs= takes 'traces'")
    if "check" in options and options["check"] not in ("yes", "no"):
        raise MarkerError(f"{where}: check= takes 'yes' or 'no'")
    if options.get("check") == "no" and not options.get("why"):
        raise MarkerError(f"{where}: check=no needs why=\"...\"")
    if "exit" in options and not options["exit"].isdigit():
        raise MarkerError(f"{where}: exit= takes a number")
    if "keep" in options:
        try:
            re.compile(options["keep"])
        except re.error as e:
            raise MarkerError(f"{where}: keep=: {e}")
    return options


def parse_body(body, where):
    """[(command lines, output lines)] of a block."""
    commands = []
    i = 0
    while i < len(body):
        line = body[i]
        if not line.startswith("$ "):
            if not commands:
                raise MarkerError(f"{where}: a sample block starts with a `$ ` command line, not {line!r}")
            commands[-1][1].append(line)
            i += 1
            continue
        cmd = [line]
        while cmd[-1].endswith("\\") and i + 1 < len(body):
            i += 1
            cmd.append(body[i])
        commands.append((cmd, []))
        i += 1
    if not commands:
        raise MarkerError(f"{where}: a sample block holds at least one `$ ` command")
    return commands


def find_samples(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        lines = f.read().split("\n")
    samples = []
    i = 0
    while i < len(lines):
        m1 = MARKER_ONE.match(lines[i])
        m2 = None if m1 else MARKER_OPEN.match(lines[i])
        if not m1 and not m2:
            i += 1
            continue
        where = f"{path}:{i + 1}"
        options = parse_options((m1 or m2).group(1), where)
        setup = []
        j = i + 1
        if m2:
            while j < len(lines) and lines[j].strip() != "-->":
                if "-->" in lines[j]:
                    raise MarkerError(f"{where}: end the marker's setup with a line holding only -->")
                setup.append(lines[j])
                j += 1
            if j == len(lines):
                raise MarkerError(f"{where}: marker comment not closed (a line holding only -->)")
            j += 1
        if j >= len(lines) or not FENCE.match(lines[j]):
            raise MarkerError(f"{where}: a sample marker must be directly followed by a ``` code block")
        k = j + 1
        while k < len(lines) and lines[k] != "```":
            k += 1
        if k == len(lines):
            raise MarkerError(f"{where}: code block not closed")
        s = Sample(path, i + 1, options, "\n".join(setup), j, k, lines[j + 1:k])
        if s.trace_refs() and options.get("needs") != "traces":
            raise MarkerError(f"{where}: the sample reads ../shared/traces: add needs=traces to its marker")
        samples.append(s)
        i = k + 1
    return lines, samples


def traces_dir():
    env = os.environ.get("RACKSCALE_TRACES", "")
    return env if env else os.path.join(os.path.dirname(ROOT), "shared", "traces")


def traces_required():
    v = os.environ.get("RACKSCALE_REQUIRE_TRACES", "")
    return v not in ("", "0")


def make_sandbox(tmp, binary):
    work = os.path.join(tmp, "main")
    os.makedirs(os.path.join(work, "build"))
    os.symlink(binary, os.path.join(work, "build", "rackscale"))
    for name in LINKED:
        if os.path.exists(os.path.join(ROOT, name)):
            os.symlink(os.path.join(ROOT, name), os.path.join(work, name))
    os.makedirs(os.path.join(tmp, "shared"))
    if os.path.isdir(traces_dir()):
        os.symlink(os.path.abspath(traces_dir()), os.path.join(tmp, "shared", "traces"))
    return work


def run_sample(sample, binary, timeout):
    """(new body lines, error text or None)."""
    with tempfile.TemporaryDirectory(prefix="doc-samples-") as tmp:
        work = make_sandbox(tmp, binary)
        env = dict(os.environ)
        env["PATH"] = os.path.join(work, "build") + os.pathsep + env.get("PATH", "")
        env["LC_ALL"] = "C"
        if sample.setup.strip():
            p = subprocess.run(["bash", "-euo", "pipefail", "-c", sample.setup], cwd=work, env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=timeout)
            if p.returncode != 0:
                out = p.stdout.decode("utf-8", "replace")
                return None, f"setup failed with status {p.returncode}:\n{out}"
        token = f"@@doc-samples-{os.getpid()}-{id(sample)}@@"
        script = ["exec 2>&1 </dev/null"]
        for cmd, _ in sample.commands:
            script.append("\n".join([cmd[0][2:]] + cmd[1:]))
            script.append(f"printf '%s%d\\n' '{token}' $?")
        try:
            p = subprocess.run(["bash", "-c", "\n".join(script)], cwd=work, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, f"timed out after {timeout} s"
        out = p.stdout.decode("utf-8", "replace")
    parts = re.split(re.escape(token) + r"([0-9]+)\n", out)
    if len(parts) != 2 * len(sample.commands) + 1 or parts[-1]:
        return None, f"the commands did not all run (shell status {p.returncode}); output:\n{out}"
    body = []
    for n, (cmd, _) in enumerate(sample.commands):
        text, status = parts[2 * n], int(parts[2 * n + 1])
        body.extend(annotate(cmd, status, sample.default_exit))
        body.extend(abridge([l.rstrip() for l in text.splitlines()], sample.keep))
    while body and body[-1] == "":
        body.pop()
    return body, None


def annotate(cmd, status, default):
    """The command's lines, with its `# exit N` comment made to say `status`."""
    cmd = list(cmd)
    for i in range(len(cmd) - 1, -1, -1):
        m = EXIT_NOTE.search(cmd[i])
        if m:
            if int(m.group(2)) != status:
                cmd[i] = cmd[i][:m.start(2)] + str(status) + cmd[i][m.end(2):]
            return cmd
    if status != default:
        cmd[-1] = cmd[-1] + f"  # exit {status}"
    return cmd


def abridge(lines, keep):
    if keep is None:
        return lines
    out = []
    dropped = None
    for line in lines:
        if keep.search(line):
            if dropped is not None:
                out.append(dropped)
                dropped = None
            out.append(line)
        elif dropped is None:
            dropped = line[:len(line) - len(line.lstrip())] + "..."
    if dropped is not None:
        out.append(dropped)
    return out


def masked(lines):
    return [NUMBER.sub("#", l) if TIMING.search(l) else l for l in (x.rstrip() for x in lines)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 epilog="The marker syntax and the rules are in this script's docstring.")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="compare (the default)")
    mode.add_argument("--update", action="store_true", help="rewrite the samples in place")
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "rackscale"), help="the rackscale binary")
    ap.add_argument("--only", action="append", metavar="FILE", help="only this markdown file (repeatable)")
    ap.add_argument("--all", action="store_true", help="also run the samples marked check=no")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="samples run at once")
    ap.add_argument("--timeout", type=int, default=300, help="seconds per sample")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per sample")
    args = ap.parse_args()

    binary = os.path.abspath(args.bin)
    if not os.access(binary, os.X_OK):
        print(f"doc-samples: {args.bin}: no executable rackscale binary (build first, or --bin PATH)", file=sys.stderr)
        return 2
    if args.only:
        files = [os.path.relpath(os.path.abspath(f), ROOT) for f in args.only]
    else:
        docs = os.path.join(ROOT, "docs")
        files = ["README.md"] + sorted(os.path.join("docs", f) for f in os.listdir(docs) if f.endswith(".md"))
    parsed = {}
    try:
        for f in files:
            parsed[f] = find_samples(f)
    except (MarkerError, OSError) as e:
        print(f"doc-samples: {e}", file=sys.stderr)
        return 2

    tdir = traces_dir()
    todo, notes, failures = [], [], []
    total = 0
    for f in files:
        for s in parsed[f][1]:
            total += 1
            if not s.checked and not args.all:
                notes.append(f"not checked {s.where()}: {s.options['why']}")
                continue
            if s.options.get("needs") == "traces":
                missing = [r for r in s.trace_refs() if not os.path.exists(os.path.join(tdir, r))]
                if not os.path.isdir(tdir) or missing:
                    what = ", ".join(missing) if missing else "the traces directory"
                    msg = (f"{s.where()}: needs {what}, not in {tdir} "
                           f"(scripts/fetch-traces.sh, or set RACKSCALE_TRACES)")
                    if traces_required():
                        failures.append(f"FAIL {msg} (RACKSCALE_REQUIRE_TRACES is set)")
                    else:
                        notes.append(f"skipped {msg}")
                    continue
            todo.append(s)

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda s: run_sample(s, binary, args.timeout), todo))

    fresh = {}   # sample -> new body, for samples that ran
    stale = []
    for s, (body, err) in zip(todo, results):
        if err is not None:
            failures.append(f"FAIL {s.where()}: {err}")
            continue
        fresh[id(s)] = body
        same = masked(body) == masked(s.body)
        if not same:
            stale.append(s)
        if args.verbose:
            print(f"{'ok   ' if same else 'STALE'} {s.where()}")

    for n in notes:
        print(f"doc-samples: {n}")
    changed_files = []
    diff_text = []
    for f in files:
        lines, samples = parsed[f]
        new = list(lines)
        # Replace from the bottom so that indexes above stay valid.
        for s in reversed(samples):
            if id(s) not in fresh:
                continue
            if not args.update and s not in stale:
                continue
            new[s.open_idx + 1:s.close_idx] = fresh[id(s)]
        if new == lines:
            continue
        if args.update:
            with open(os.path.join(ROOT, f), "w", encoding="utf-8") as out:
                out.write("\n".join(new))
            changed_files.append(f)
        else:
            diff_text.extend(difflib.unified_diff([l + "\n" for l in lines], [l + "\n" for l in new],
                                                  f"a/{f}", f"b/{f}"))
    for fl in failures:
        print(f"doc-samples: {fl}", file=sys.stderr)
    ran = len(fresh)
    if args.update:
        print(f"doc-samples: {total} samples, {ran} run, {len(stale)} were stale; "
              f"rewrote {', '.join(changed_files) if changed_files else 'nothing'}")
    else:
        if diff_text:
            sys.stdout.write("".join(diff_text))
        print(f"doc-samples: {total} samples, {ran} run, {len(stale)} differ from the doc, "
              f"{len(failures)} failed"
              + ("; to accept the fresh output: scripts/doc-samples.py --update" if stale else ""))
    if failures or (stale and not args.update):
        return 1
    if ran == 0:
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
