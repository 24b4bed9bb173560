#include "store/file/file_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <system_error>
#include <utility>
#include <vector>

namespace nimbus::store {

namespace {

constexpr size_t kMaxSegmentBytes = 255;  // NAME_MAX on every Linux filesystem we target
constexpr int kCreateAttempts = 16;

// Closes a descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now and reports close()'s errno (0 on success); writes can fail only here on NFS.
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

std::string EtagOf(const struct stat& st) {
  int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%llx-%llx-%llx-%llx", static_cast<unsigned long long>(st.st_dev),
                static_cast<unsigned long long>(st.st_ino),
                static_cast<unsigned long long>(st.st_size),
                static_cast<unsigned long long>(mtime_ns));
  return buf;
}

ObjectInfo InfoOf(std::string key, const struct stat& st) {
  return ObjectInfo{std::move(key), static_cast<uint64_t>(st.st_size), EtagOf(st),
                    static_cast<int64_t>(st.st_mtim.tv_sec)};
}

bool IsTempName(std::string_view name) { return name.starts_with(FileStore::kTempPrefix); }

// Why a key cannot name a file inside the root, or "" when it can.
std::string KeyProblem(std::string_view key) {
  if (key.empty()) return "empty key";
  if (key.front() == '/') return "leading '/'";
  if (key.find('\0') != std::string_view::npos) return "NUL byte";
  size_t start = 0;
  while (true) {
    size_t slash = key.find('/', start);
    std::string_view segment = key.substr(start, slash - start);
    if (segment.empty()) return "empty path segment";
    if (segment == "." || segment == "..") return "'.' or '..' segment";
    if (IsTempName(segment)) return "segment starting with the reserved temp prefix";
    if (segment.size() > kMaxSegmentBytes) return "path segment longer than 255 bytes";
    if (slash == std::string_view::npos) return "";
    start = slash + 1;
  }
}

ErrorKind KindOfErrno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return ErrorKind::kNotFound;
    case EACCES:
    case EPERM:
    case EROFS:
      return ErrorKind::kAccessDenied;
    case ENAMETOOLONG:
      return ErrorKind::kInvalidArgument;
    case EAGAIN:
    case EINTR:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case EBUSY:
      return ErrorKind::kTransient;
    default:
      return ErrorKind::kPermanent;
  }
}

std::string Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

// mkdir -p: creates missing ancestors as well; an existing directory is success.
int MakeDirectories(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0777) == 0) return 0;
  int err = errno;
  if (err == EEXIST) return 0;  // a file in the way shows up as ENOTDIR when it is used
  if (err != ENOENT || dir == "/") return err;
  std::string parent = Parent(dir);
  if (parent == dir) return err;
  if (int parent_err = MakeDirectories(parent); parent_err != 0) return parent_err;
  if (::mkdir(dir.c_str(), 0777) == 0 || errno == EEXIST) return 0;
  return errno;
}

int WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return 0;
}

std::string TempName() {
  static std::atomic<uint64_t> counter{0};
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%lx-%llx", static_cast<long>(::getpid()),
                static_cast<unsigned long long>(counter.fetch_add(1, std::memory_order_relaxed)));
  return std::string(FileStore::kTempPrefix) + buf;
}

// Whether any object (regular file, not temp) lies under `dir`; stops at the first one.
bool DirHasObject(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return false;
  bool found = false;
  std::vector<std::string> subdirs;
  while (!found) {
    struct dirent* e = ::readdir(d);
    if (e == nullptr) break;
    std::string_view name = e->d_name;
    if (name == "." || name == ".." || IsTempName(name)) continue;
    std::string path = dir + "/" + std::string(name);
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (S_ISREG(st.st_mode)) found = true;
    if (S_ISDIR(st.st_mode)) subdirs.push_back(std::move(path));
  }
  ::closedir(d);
  for (size_t i = 0; !found && i < subdirs.size(); ++i) found = DirHasObject(subdirs[i]);
  return found;
}

}  // namespace

FileStore::FileStore(std::string root_dir) {
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(root_dir, ec);
  root_ = ec ? root_dir : abs.lexically_normal().string();
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string FileStore::Describe() const { return StoreUrl{"file", "", root_}.ToString(); }

Result<std::string> FileStore::PathOf(std::string_view key) const {
  std::string problem = KeyProblem(key);
  if (!problem.empty()) {
    return InvalidArgumentError(Describe() + ": invalid key '" + std::string(key) + "' (" +
                                problem + ")");
  }
  std::string path = root_;
  if (path != "/") path += '/';
  path += key;
  return path;
}

Status FileStore::ErrnoStatus(int err, std::string_view what, std::string_view key) const {
  return Status(KindOfErrno(err), Describe() + ": " + std::string(what) + " '" + std::string(key) +
                                      "': " + std::strerror(err));
}

// ---------------------------------------------------------------------------------------------
// Get / Head

Future<Result<GetResult>> FileStore::Get(std::string key, ByteRange range) {
  return ReadyFuture(GetNow(key, range));
}

Result<GetResult> FileStore::GetNow(const std::string& key, ByteRange range) {
  NIMBUS_ASSIGN_OR_RETURN(std::string path, PathOf(key));
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus(errno, "reading", key);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "reading", key);
  if (!S_ISREG(st.st_mode)) return NotFoundError(Describe() + ": no object '" + key + "'");

  auto [begin, end] = range.Resolve(static_cast<uint64_t>(st.st_size));
  GetResult out;
  out.data = Buffer::Allocate(end - begin);
  size_t done = 0;
  while (done < out.data.size()) {
    ssize_t n = ::pread(fd.get(), out.data.data() + done, out.data.size() - done,
                        static_cast<off_t>(begin + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "reading", key);
    }
    // Objects are never modified in place, so running short means someone edited the file.
    if (n == 0) return PermanentError(Describe() + ": '" + key + "' shrank while being read");
    done += static_cast<size_t>(n);
  }
  out.info = InfoOf(key, st);
  return out;
}

Future<Result<ObjectInfo>> FileStore::Head(std::string key) { return ReadyFuture(HeadNow(key)); }

Result<ObjectInfo> FileStore::HeadNow(const std::string& key) {
  NIMBUS_ASSIGN_OR_RETURN(std::string path, PathOf(key));
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "reading", key);
  if (!S_ISREG(st.st_mode)) return NotFoundError(Describe() + ": no object '" + key + "'");
  return InfoOf(key, st);
}

// ---------------------------------------------------------------------------------------------
// Put

Future<Result<PutResult>> FileStore::Put(std::string key, Buffer data, PutOptions options) {
  return ReadyFuture(PutNow(key, data, options));
}

Result<PutResult> FileStore::PutNow(const std::string& key, const Buffer& data,
                                    const PutOptions& options) {
  if (options.if_none_match_any && !options.if_match.empty()) {
    return InvalidArgumentError("If-None-Match and If-Match are exclusive");
  }
  NIMBUS_ASSIGN_OR_RETURN(std::string path, PathOf(key));
  const std::string dir = Parent(path);

  // Create the temp file. A concurrent delete may prune the directory between our mkdir and
  // open (ENOENT), so that pair is retried.
  std::string temp;
  int fd = -1;
  int err = 0;
  for (int attempt = 0; attempt < kCreateAttempts && fd < 0; ++attempt) {
    err = MakeDirectories(dir);
    if (err != 0) break;
    temp = dir + "/" + TempName();
    fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    err = fd < 0 ? errno : 0;
    if (err != ENOENT && err != EEXIST && err != EINTR) break;
  }
  if (fd < 0) {
    if (err == ENOTDIR || err == EEXIST) {
      return PermanentError(Describe() + ": cannot write '" + key +
                            "': an object exists where a directory of keys is needed");
    }
    return ErrnoStatus(err, "writing", key);
  }

  Fd file(fd);
  struct stat st;
  err = WriteAll(file.get(), data.data(), data.size());
  if (err == 0 && ::fstat(file.get(), &st) != 0) err = errno;
  if (int close_err = file.Close(); err == 0) err = close_err;
  if (err != 0) {
    ::unlink(temp.c_str());
    return ErrnoStatus(err, "writing", key);
  }
  // rename() and link() keep the inode and mtime, so this is the etag of the installed object.
  PutResult result{EtagOf(st)};

  std::lock_guard lock(commit_mu_);
  if (options.if_none_match_any) {
    // link() never replaces an existing name, which makes create-only atomic.
    int rc = ::link(temp.c_str(), path.c_str());
    err = rc == 0 ? 0 : errno;
    ::unlink(temp.c_str());
    if (err == EEXIST) {
      struct stat existing;
      if (::lstat(path.c_str(), &existing) == 0 && S_ISDIR(existing.st_mode)) {
        return PermanentError(Describe() + ": cannot write '" + key +
                              "': other keys use it as a directory");
      }
      return Status(ErrorKind::kPreconditionFailed,
                    Describe() + ": object '" + key + "' already exists (If-None-Match: *)");
    }
    if (err != 0) return ErrnoStatus(err, "writing", key);
    return result;
  }
  if (!options.if_match.empty()) {
    struct stat current;
    bool matches = ::stat(path.c_str(), &current) == 0 && S_ISREG(current.st_mode) &&
                   EtagOf(current) == options.if_match;
    if (!matches) {
      ::unlink(temp.c_str());
      return Status(ErrorKind::kPreconditionFailed,
                    Describe() + ": object '" + key + "' is not at generation " + options.if_match);
    }
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    err = errno;
    ::unlink(temp.c_str());
    if (err == EISDIR || err == ENOTEMPTY || err == EEXIST) {
      return PermanentError(Describe() + ": cannot write '" + key +
                            "': other keys use it as a directory");
    }
    return ErrnoStatus(err, "writing", key);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Delete

Future<Status> FileStore::Delete(std::string key) { return ReadyFuture(DeleteNow(key)); }

Status FileStore::DeleteNow(const std::string& key) {
  NIMBUS_ASSIGN_OR_RETURN(std::string path, PathOf(key));
  {
    std::lock_guard lock(commit_mu_);
    if (::unlink(path.c_str()) != 0) {
      int err = errno;
      // Missing, or a directory of other keys: either way no object by this name.
      if (err == ENOENT || err == ENOTDIR || err == EISDIR) return Status::Ok();
      return ErrnoStatus(err, "deleting", key);
    }
  }
  // Prune directories the delete emptied; rmdir refuses non-empty ones, which ends the walk.
  for (std::string dir = Parent(path); dir.size() > root_.size(); dir = Parent(dir)) {
    if (::rmdir(dir.c_str()) != 0) break;
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// List

Future<Result<ListResult>> FileStore::List(ListOptions options) {
  return ReadyFuture(ListNow(options));
}

Result<ListResult> FileStore::ListNow(const ListOptions& options) {
  if (options.page_size < 1) {
    return InvalidArgumentError("list page_size must be at least 1, got " +
                                std::to_string(options.page_size));
  }
  const std::string& prefix = options.prefix;
  const std::string& delimiter = options.delimiter;

  // Start at the directory the prefix names ("a/b/c" -> <root>/a/b, entries starting with "c").
  size_t last_slash = prefix.rfind('/');
  std::string start_rel = last_slash == std::string::npos ? "" : prefix.substr(0, last_slash + 1);
  std::string name_filter = prefix.substr(start_rel.size());
  ListResult out;
  if (!start_rel.empty()) {
    // A prefix whose directory part no valid key can have matches nothing (and must not walk
    // outside the root, e.g. "../").
    std::string_view dir_part(start_rel.data(), start_rel.size() - 1);
    if (!KeyProblem(dir_part).empty()) return out;
  }

  std::vector<ObjectInfo> objects;
  std::set<std::string> common;
  // With delimiter "/" a subdirectory is one common prefix and need not be walked, only probed.
  const bool collapse_dirs = delimiter == "/";
  const std::string base = root_ == "/" ? "" : root_;

  struct Pending {
    std::string rel;  // "" or "a/b/"
    bool top;
  };
  std::vector<Pending> stack{{start_rel, true}};
  while (!stack.empty()) {
    Pending current = std::move(stack.back());
    stack.pop_back();
    std::string dir_path = base + "/" + current.rel;
    DIR* d = ::opendir(dir_path.c_str());
    if (d == nullptr) {
      int err = errno;
      // Vanished (concurrent delete pruned it) or never existed: nothing to list.
      if (err == ENOENT || err == ENOTDIR) continue;
      return ErrnoStatus(err, "listing", current.rel);
    }
    while (struct dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name == "." || name == ".." || IsTempName(name)) continue;
      if (current.top && !name.starts_with(name_filter)) continue;
      std::string rel = current.rel + std::string(name);
      struct stat st;
      // lstat: symlinked directories are not followed (no cycles, nothing outside the root).
      if (::lstat((dir_path + std::string(name)).c_str(), &st) != 0) continue;
      if (S_ISLNK(st.st_mode) &&
          (::stat((dir_path + std::string(name)).c_str(), &st) != 0 || !S_ISREG(st.st_mode))) {
        continue;
      }
      if (S_ISREG(st.st_mode)) {
        objects.push_back(InfoOf(std::move(rel), st));
      } else if (S_ISDIR(st.st_mode)) {
        if (collapse_dirs) {
          if (DirHasObject(dir_path + std::string(name))) common.insert(rel + "/");
        } else {
          stack.push_back({rel + "/", false});
        }
      }
    }
    ::closedir(d);
  }

  // Group by the delimiter exactly as S3 does: a key whose remainder after the prefix contains
  // the delimiter contributes the text up to and including it as a common prefix.
  std::sort(objects.begin(), objects.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  for (ObjectInfo& object : objects) {
    size_t cut = delimiter.empty() ? std::string::npos : object.key.find(delimiter, prefix.size());
    if (cut == std::string::npos) {
      out.objects.push_back(std::move(object));
    } else {
      common.insert(object.key.substr(0, cut + delimiter.size()));
    }
  }
  out.common_prefixes.assign(common.begin(), common.end());
  return out;
}

}  // namespace nimbus::store
