#!/usr/bin/env bash
# Installs rackscale's build and test dependencies from Debian's packages, then the
# chart libraries that HTML reports inline (web/package-lock.json) with npm ci.
# Idempotent: packages already present are left alone, apt is not touched at all
# when nothing is missing, and npm only runs when web/node_modules is missing or
# differs from the lock file. Uses sudo only when not running as root (apt only).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libcli11-dev libfmt-dev nlohmann-json3-dev libtomlplusplus-dev zlib1g-dev
  libssl-dev
  libcpp-httplib-dev libsqlite3-dev sqlite3   # the control plane: HTTP API and its store (rackscale serve)
  libglpk-dev                # the capacity planner's MILP solver (rackscale plan)
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev   # libFuzzer targets (make fuzz)
  mawk time curl             # bench/run-bench.sh: the text-pass baseline, /usr/bin/time; bench/ctl-vs-slurm.sh: curl
  python3 jq                 # scripts/doc-samples.py (ctest doc_samples) and the jq samples it runs
  chromium                   # headless browser for the HTML report tests (tests/browser.cc)
  slurm-wlm munge            # tests/slurm/mc_array_test.sh: Monte-Carlo slices on a real Slurm array
)
# npm (with nodejs) fetches the chart libraries in web/; any npm already on PATH will do.
if ! command -v npm >/dev/null 2>&1; then
  packages+=(npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# web/node_modules: every package at the version web/package-lock.json pins, and the
# three browser builds that cmake/embed_js.cmake inlines. Prints what differs, if anything.
web="$(cd "$(dirname "$0")/.." && pwd)/web"
web_check() {
  node - "$web" <<'JS'
const fs = require("fs"), path = require("path");
const web = process.argv[2];
const lock = JSON.parse(fs.readFileSync(path.join(web, "package-lock.json"), "utf8"));
const bad = [];
if (!fs.existsSync(path.join(web, "node_modules"))) {
  bad.push("web/node_modules missing");
} else {
  for (const [where, entry] of Object.entries(lock.packages || {})) {
    if (!where.startsWith("node_modules/")) continue;
    let have = null;
    try { have = JSON.parse(fs.readFileSync(path.join(web, where, "package.json"), "utf8")).version; } catch (e) {}
    if (have !== entry.version) bad.push(`${where.slice(13)} ${have || "missing"} (lock: ${entry.version})`);
  }
  for (const f of ["vega/build/vega.min.js", "vega-lite/build/vega-lite.min.js", "vega-embed/build/vega-embed.min.js"]) {
    if (!fs.existsSync(path.join(web, "node_modules", f))) bad.push(`${f} missing`);
  }
}
const v = (n) => (lock.packages[`node_modules/${n}`] || {}).version;
console.log(bad.length ? bad.slice(0, 3).join(", ") + (bad.length > 3 ? `, ${bad.length - 3} more` : "")
                       : `vega ${v("vega")}, vega-lite ${v("vega-lite")}, vega-embed ${v("vega-embed")}`);
process.exit(bad.length ? 1 : 0);
JS
}
if state=$(web_check); then
  echo "install-deps: web/node_modules matches web/package-lock.json ($state)"
else
  # --loglevel=error: vega-lite's engines field asks for node >= 22 for its command-line
  # tools, which the browser builds used here do not need.
  npm ci --prefix "$web" --no-audit --no-fund --loglevel=error >/dev/null || {
    echo "install-deps: npm ci in web/ failed (was: $state; is the npm registry reachable?)" >&2
    exit 1
  }
  was=$state
  state=$(web_check) || { echo "install-deps: web/node_modules still differs after npm ci: $state" >&2; exit 1; }
  echo "install-deps: ran npm ci in web/ ($was; now $state)"
fi
