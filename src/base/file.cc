#include "base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>

namespace rackscale {

int64_t FindBinary(std::string_view head) {
  size_t control = 0;
  for (size_t i = 0; i < head.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(head[i]);
    if (c == 0) return static_cast<int64_t>(i);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') ++control;
  }
  return control * 10 > head.size() ? 0 : -1;
}

namespace {

constexpr size_t kSniffBytes = 64 << 10;

Error NotText(const std::string& source, std::string_view what, int64_t at) {
  return Error::InvalidInput(source, 0, "",
                             fmt::format("not a {} file: binary data{}", what,
                                         at > 0 ? fmt::format(" (a NUL byte at offset {})", at) : ""));
}

Error TooBig(const std::string& source, std::string_view how) {
  return Error::InvalidInput(source, 0, "", fmt::format("{}: refused (at most {} GiB in memory)", how, kMaxInputBytes >> 30));
}

}  // namespace

Result<std::string> Gunzip(std::string_view data, const std::string& source, size_t limit, std::string_view what) {
  std::string out;
  out.reserve(std::min(data.size() * 4, limit));
  z_stream zs{};
  // 16 + MAX_WBITS: gzip wrapper only.
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
    return Error::Io(source, "cannot initialise zlib");
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  char buf[1 << 16];
  const size_t ratio_limit = std::max(kInflateRatioFloor, data.size() * kMaxInflateRatio);
  while (true) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    const size_t before = out.size();
    out.append(buf, sizeof buf - zs.avail_out);
    // Binary data (a bomb of zeros) is refused after the first 64 KiB.
    if (before < kSniffBytes && out.size() >= kSniffBytes) {
      if (int64_t at = FindBinary(std::string_view(out).substr(0, kSniffBytes)); at >= 0) {
        inflateEnd(&zs);
        return NotText(source, what, at);
      }
    }
    if (out.size() > limit || out.size() > ratio_limit) {
      inflateEnd(&zs);
      return Error::InvalidInput(
          source, 0, "",
          fmt::format("{} bytes of gzip data inflate to more than {} bytes ({}x so far, at most {}x and {} GiB): "
                      "refused as a decompression bomb",
                      data.size(), out.size(), out.size() / std::max<size_t>(1, data.size() - zs.avail_in),
                      kMaxInflateRatio, limit >> 30));
    }
    if (rc == Z_STREAM_END) {
      // Concatenated gzip members: keep going while input remains.
      if (zs.avail_in == 0) break;
      if (inflateReset(&zs) != Z_OK) break;
      continue;
    }
    if (rc != Z_OK) break;
    if (zs.avail_in == 0 && zs.avail_out != 0) {
      rc = Z_DATA_ERROR;  // truncated stream
      break;
    }
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    return Error::InvalidInput(source, 0, "",
                               fmt::format("corrupt or truncated gzip data (zlib: {})",
                                           zs.msg ? zs.msg : "unexpected end of input"));
  }
  return out;
}

Result<std::string> ReadFileMaybeGz(const std::string& path, std::string_view what) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return Error::Io(path, fmt::format("cannot open: {}", std::strerror(errno)));
  }
  struct stat st;
  if (::fstat(::fileno(f), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      std::fclose(f);
      return Error::Io(path, "is a directory");
    }
    if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) > kMaxInputBytes) {
      std::fclose(f);
      return TooBig(path, fmt::format("{} bytes", st.st_size));
    }
  }
  std::string data;
  char buf[1 << 16];
  size_t n;
  bool sniffed = false;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    data.append(buf, n);
    // A device or pipe has no size: the same bounds apply while reading,
    // and binary data (/dev/zero, /dev/urandom) is refused at once.
    if (!sniffed && data.size() >= kSniffBytes) {
      sniffed = true;
      const bool gz = static_cast<unsigned char>(data[0]) == 0x1f && static_cast<unsigned char>(data[1]) == 0x8b;
      if (!gz) {
        if (int64_t at = FindBinary(std::string_view(data).substr(0, kSniffBytes)); at >= 0) {
          std::fclose(f);
          return NotText(path, what, at);
        }
      }
    }
    if (data.size() > kMaxInputBytes) {
      std::fclose(f);
      return TooBig(path, fmt::format("more than {} bytes", kMaxInputBytes));
    }
  }
  bool failed = std::ferror(f) != 0;
  const int err = errno;
  std::fclose(f);
  if (failed) return Error::Io(path, fmt::format("read error: {}", std::strerror(err)));
  if (data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
      static_cast<unsigned char>(data[1]) == 0x8b) {
    auto inflated = Gunzip(data, path, kMaxInputBytes, what);
    if (!inflated) return inflated;
    data = std::move(*inflated);
  }
  if (int64_t at = FindBinary(std::string_view(data).substr(0, kSniffBytes)); at >= 0) return NotText(path, what, at);
  return data;
}

namespace {

// Writes all of `data` to descriptor `fd`.
bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Replaces the regular file (or creates) `path` through a unique temporary
// file in the same directory. `name` is what errors call it.
Status ReplaceRegular(const std::string& path, std::string_view data, const std::string& name) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  std::string tmp = dir + "/." + base + ".tmp-XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) return Error::Io(name, fmt::format("cannot create: {}", std::strerror(errno)));
  // mkstemp makes 0600; outputs are ordinary files (0666 less the umask).
  const mode_t mask = ::umask(0);
  ::umask(mask);
  bool ok = ::fchmod(fd, 0666 & ~mask) == 0 && WriteAll(fd, data);
  const int err = errno;
  ok = (::close(fd) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = ok ? errno : err;
    std::remove(tmp.c_str());
    return Error::Io(name, fmt::format("cannot write: {}", std::strerror(e)));
  }
  return Status::Ok();
}

}  // namespace

Status WriteFile(const std::string& path, std::string_view data) {
  if (path.empty()) return Error::Io("''", "no file name");
  std::string target = path;
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    // Write through the link: replace what it points to, keep the link.
    char* real = ::realpath(path.c_str(), nullptr);
    if (real == nullptr) {
      return Error::Io(path, fmt::format("a symbolic link that cannot be followed: {}", std::strerror(errno)));
    }
    target = real;
    std::free(real);
  }
  if (::stat(target.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Error::Io(path, "is a directory");
    if (!S_ISREG(st.st_mode)) {
      // A device, FIFO or socket: written in place, never replaced.
      const int fd = ::open(target.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0) return Error::Io(path, fmt::format("cannot open: {}", std::strerror(errno)));
      bool ok = WriteAll(fd, data);
      const int err = errno;
      ok = (::close(fd) == 0) && ok;
      if (!ok) return Error::Io(path, fmt::format("cannot write: {}", std::strerror(err)));
      return Status::Ok();
    }
  }
  return ReplaceRegular(target, data, path);
}

Result<std::unique_ptr<OutputDir>> OutputDir::Open(const std::string& dir) {
  if (dir.empty()) return Error::Io("''", "no directory name");
  std::unique_ptr<OutputDir> o(new OutputDir());
  o->dir_ = dir;
  while (o->dir_.size() > 1 && o->dir_.back() == '/') o->dir_.pop_back();
  struct stat st;
  if (::stat(o->dir_.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return Error::Io(dir, "exists and is not a directory");
    o->dir_existed_ = true;
    o->staging_ = fmt::format("{}/.rackscale-staging-{}", o->dir_, ::getpid());
  } else {
    // Parents that do not exist yet are created now and removed again if
    // the run fails.
    std::filesystem::path parent = std::filesystem::path(o->dir_).parent_path();
    std::vector<std::string> missing;
    for (std::filesystem::path p = parent; !p.empty(); p = p.parent_path()) {
      if (::stat(p.c_str(), &st) == 0) {
        if (!S_ISDIR(st.st_mode)) return Error::Io(dir, fmt::format("{} is not a directory", p.string()));
        break;
      }
      missing.push_back(p.string());
      if (p == p.parent_path()) break;
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
      if (::mkdir(it->c_str(), 0777) != 0 && errno != EEXIST) {
        return Error::Io(dir, fmt::format("cannot create directory {}: {}", *it, std::strerror(errno)));
      }
      o->created_parents_.push_back(*it);
    }
    const std::string base = std::filesystem::path(o->dir_).filename().string();
    o->staging_ = fmt::format("{}/.{}.rackscale-staging-{}", parent.empty() ? "." : parent.string(), base, ::getpid());
  }
  std::error_code ec;
  std::filesystem::remove_all(o->staging_, ec);  // a previous crash of this PID
  if (::mkdir(o->staging_.c_str(), 0777) != 0) {
    return Error::Io(dir, fmt::format("cannot create directory {}: {}", o->staging_, std::strerror(errno)));
  }
  return o;
}

OutputDir::~OutputDir() {
  if (committed_) return;
  std::error_code ec;
  if (!staging_.empty()) std::filesystem::remove_all(staging_, ec);
  for (auto it = created_parents_.rbegin(); it != created_parents_.rend(); ++it) ::rmdir(it->c_str());
}

Status OutputDir::Write(const std::string& name, std::string_view data) {
  const std::string path = staging_ + "/" + name;
  if (size_t slash = name.rfind('/'); slash != std::string::npos) {
    std::error_code ec;
    std::filesystem::create_directories(staging_ + "/" + name.substr(0, slash), ec);
    if (ec) return Error::Io(dir_ + "/" + name, fmt::format("cannot create directory: {}", ec.message()));
  }
  if (Status s = ReplaceRegular(path, data, dir_ + "/" + name); !s) return s;
  if (std::find(written_.begin(), written_.end(), name) == written_.end()) written_.push_back(name);
  return Status::Ok();
}

Status OutputDir::Commit() {
  if (committed_) return Status::Ok();
  if (!dir_existed_) {
    if (std::rename(staging_.c_str(), dir_.c_str()) != 0) {
      return Error::Io(dir_, fmt::format("cannot create: {}", std::strerror(errno)));
    }
    committed_ = true;
    return Status::Ok();
  }
  // Nothing is moved unless everything can be: no output replaces a
  // directory, a symlink or a device.
  struct stat st;
  for (const std::string& name : written_) {
    const std::string target = dir_ + "/" + name;
    if (::lstat(target.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
      return Error::Io(target, "exists and is not a regular file: not replaced");
    }
  }
  for (const std::string& name : written_) {
    const std::string target = dir_ + "/" + name;
    if (size_t slash = name.rfind('/'); slash != std::string::npos) {
      std::error_code ec;
      std::filesystem::create_directories(dir_ + "/" + name.substr(0, slash), ec);
      if (ec) return Error::Io(target, fmt::format("cannot create directory: {}", ec.message()));
    }
    if (std::rename((staging_ + "/" + name).c_str(), target.c_str()) != 0) {
      return Error::Io(target, fmt::format("cannot write: {}", std::strerror(errno)));
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(staging_, ec);
  committed_ = true;
  return Status::Ok();
}

Status MakeDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Error::Io(path, fmt::format("cannot create directory: {}", ec.message()));
  return Status::Ok();
}

}  // namespace rackscale
