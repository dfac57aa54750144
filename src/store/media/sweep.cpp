// The orphan sweep and transient compute results (store/media/sweep.hpp says when each runs and why
// it is safe with other processes on the same home).
#include "store/media/sweep.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "store/media/media.hpp"
#include "util/process.hpp"

namespace pxt::media {

namespace fs = std::filesystem;

namespace {

std::mutex g_users_mu;
std::map<std::string, int>& user_fds() {
  static std::map<std::string, int> fds;  // media dir -> fd holding the shared lock
  return fds;
}

// The fd holding this process's lock on media_dir, taking it first if needed; -1 on failure.
int user_fd(const fs::path& media_dir) {
  std::lock_guard lock(g_users_mu);
  auto& fds = user_fds();
  std::string key = media_dir.lexically_normal().string();
  if (!key.empty() && key.back() == '/') key.pop_back();
  if (auto it = fds.find(key); it != fds.end()) return it->second;
  // Beside media/, not in it: everything in media/ is a media file or a folder of them.
  fs::path lock_file = fs::path(key).parent_path() / "media.lock";
  int fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  // Blocks only while another process sweeps (an exclusive lock held for the sweep's duration).
  if (fd >= 0 && ::flock(fd, LOCK_SH) != 0) {
    ::close(fd);
    fd = -1;
  }
  if (fd >= 0) fds.emplace(key, fd);
  return fd;
}

bool lower_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// "<32 lowercase hex>" optionally followed by ".ext" (1-10 letters or digits).
bool own_file_name(std::string_view name) {
  if (name.size() < 32 || !lower_hex(name.substr(0, 32))) return false;
  std::string_view ext = name.substr(32);
  if (ext.empty()) return true;
  if (ext.front() != '.' || ext.size() < 2 || ext.size() > 11) return false;
  for (char c : ext.substr(1))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  return true;
}

bool own_dir_name(std::string_view name) { return name.size() == 2 && lower_hex(name); }

bool before(const timespec& a, const timespec& b) {
  return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

// Whether `file` may go under the basis (store/media/sweep.hpp): it predates the stamp by both mtime
// and ctime, and, with another process on the home, was last modified before grace_cutoff.
bool removable(const fs::path& file, const SweepBasis& b, time_t grace_cutoff) {
  struct stat st {};
  if (!b.stamped || ::lstat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  if (!before(st.st_mtim, b.start) || !before(st.st_ctim, b.start)) return false;
  return b.sole_user || st.st_mtim.tv_sec < grace_cutoff;
}

bool remove_if_stale(const fs::directory_entry& file, const SweepBasis& b, time_t grace_cutoff,
                     SweepReport& r) {
  if (!removable(file.path(), b, grace_cutoff)) {
    ++r.young_kept;
    return false;
  }
  std::error_code ec;
  return fs::remove(file.path(), ec);
}

// Plain files (no symlinks) of dir whose names pass own_file_name, in any order.
template <class F>
void for_own_files(const fs::path& dir, F&& f) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code e2;
    if (!it->is_symlink(e2) && it->is_regular_file(e2) && own_file_name(it->path().filename().native()))
      f(*it);
  }
}

// The subfolders "xx" of dir (two lowercase hex characters, not symlinks).
template <class F>
void for_own_dirs(const fs::path& dir, F&& f) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code e2;
    std::string name = it->path().filename().string();
    if (own_dir_name(name) && !it->is_symlink(e2) && it->is_directory(e2)) f(*it, name);
  }
}

// PXT_TEST_MEDIA_SWEEP_GATE (sweep.hpp): notes GATE.waiting, then waits for GATE (or a cancel,
// or ten minutes, so a forgotten gate cannot hold a server's sweep forever).
template <class Cancelled>
void hold_at_test_gate(const std::string& gate, Cancelled&& cancelled) {
  int fd = ::open((gate + ".waiting").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) ::close(fd);
  const auto until = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  std::error_code ec;
  while (!cancelled() && !fs::exists(gate, ec) && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

}  // namespace

void register_user(const fs::path& media_dir) { (void)user_fd(media_dir); }

bool own_name(std::string_view rel) {
  return rel.size() > 3 && own_dir_name(rel.substr(0, 2)) && rel[2] == '/' && own_file_name(rel.substr(3)) &&
         rel.substr(3, 2) == rel.substr(0, 2);
}

SweepBasis prepare_sweep(const fs::path& media_dir) {
  SweepBasis b;
  int fd = user_fd(media_dir);
  if (fd < 0) return b;
  b.sole_user = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
  // A refused conversion dropped the shared lock (Linux): take it back before stamping, so the
  // stamp is always taken while this process is a registered user.
  if (!b.sole_user) ::flock(fd, LOCK_SH);
  struct stat st {};
  b.stamped = ::futimens(fd, nullptr) == 0 && ::fstat(fd, &st) == 0;
  b.start = st.st_mtim;
  if (b.sole_user) ::flock(fd, LOCK_SH);
  return b;
}

Result<SweepReport> sweep_orphans(Store& store, const SweepBasis& given, const std::atomic<bool>* cancel) {
  auto cancelled = [&] { return cancel != nullptr && cancel->load(); };
  // A store shared by processes on other machines: their locks on media.lock may not reach this
  // one (a shared mount), so their leases count too (read after the stamp: see sweep.hpp).
  SweepBasis basis = given;
  if (store.shared() && basis.sole_user) {
    auto live = store.live_processes();
    if (!live) basis.sole_user = false;
    for (const auto& owner : live ? *live : std::vector<std::string>())
      if (tag_host(owner) != process_host()) basis.sole_user = false;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const fs::path dir = store.media_dir();
  SweepReport r;
  r.sole_user = basis.sole_user;
  // Read after the stamp (prepare_sweep ran before): see store/media/sweep.hpp.
  // 64-bit hashes of the names, sorted: 8 bytes a row instead of a string node (100,000 rows:
  // 0.8 MB, not ~10 MB that malloc would keep as the idle server's RSS). A collision can only
  // make an orphan look referenced and keep it, never remove a referenced file.
  std::vector<uint64_t> referenced;
  const std::hash<std::string_view> hash;
  PXT_CHECK(store.media_names([&](std::string_view name) { referenced.push_back(hash(name)); }));
  std::sort(referenced.begin(), referenced.end());
  referenced.erase(std::unique(referenced.begin(), referenced.end()), referenced.end());
  r.referenced = static_cast<int64_t>(referenced.size());
  r.scan_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Tests hold the window between reading the references and walking the folder, the one in
  // which a write in flight has a file on disk and no committed row (test_serve_media_sweep.sh).
  if (const char* gate = std::getenv("PXT_TEST_MEDIA_SWEEP_GATE")) hold_at_test_gate(gate, cancelled);
  const time_t grace_cutoff =
      std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() - kSweepGrace);
  std::string rel;
  for_own_dirs(dir, [&](const fs::directory_entry& sub, const std::string& name) {
    if (cancelled()) return;  // a folder at most after the cancel
    for_own_files(sub.path(), [&](const fs::directory_entry& file) {
      ++r.files;
      rel = name;
      rel += '/';
      rel += file.path().filename().native();
      if (std::binary_search(referenced.begin(), referenced.end(), hash(rel)) || !own_name(rel)) return;
      if (remove_if_stale(file, basis, grace_cutoff, r)) ++r.orphans_removed;
    });
  });
  if (!cancelled())
    for_own_files(dir / ".tmp", [&](const fs::directory_entry& file) {
      ++r.files;
      if (remove_if_stale(file, basis, grace_cutoff, r)) ++r.temp_removed;
    });
  r.cancelled = cancelled();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

Result<std::string> make_transient(const fs::path& media_dir, std::string_view rel) {
  std::string to = std::string(kTransientDir) + "/" + std::string(rel);
  std::error_code ec;
  auto from = resolve(media_dir, rel, true);
  if (!from) return from.error();
  fs::create_directories((media_dir / to).parent_path(), ec);
  if (!ec) fs::rename(*from, media_dir / to, ec);
  if (ec) {
    remove(media_dir, rel);
    return make_error(io_errc(ec.value()),
                      "cannot move compute result '" + std::string(rel) + "': " + ec.message());
  }
  return to;
}

std::chrono::seconds transient_ttl() {
  if (const char* v = std::getenv("PXT_TRANSIENT_MEDIA_TTL_S")) {
    char* end = nullptr;
    long long n = std::strtoll(v, &end, 10);
    if (end != v && *end == '\0' && n > 0) return std::chrono::seconds(n);
  }
  return std::chrono::hours(1);
}

}  // namespace pxt::media

namespace pxt::media {

int64_t sweep_transient(const fs::path& media_dir, std::chrono::seconds ttl) {
  const auto cutoff = fs::file_time_type::clock::now() - ttl;
  int64_t removed = 0;
  for_own_dirs(media_dir / kTransientDir, [&](const fs::directory_entry& sub, const std::string&) {
    for_own_files(sub.path(), [&](const fs::directory_entry& file) {
      std::error_code ec;
      auto t = file.last_write_time(ec);
      if (!ec && t < cutoff && fs::remove(file.path(), ec)) ++removed;
    });
  });
  return removed;
}

}  // namespace pxt::media
