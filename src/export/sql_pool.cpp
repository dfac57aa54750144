#include "export/sql_pool.hpp"

#include <chrono>
#include <map>

namespace pxt {

namespace {
constexpr auto kAcquireWait = std::chrono::seconds(15);
}

Result<std::unique_ptr<SqlConnection>> ConnectionPool::reconnect() {
  return url_.backend == SqlBackend::Postgres ? connect_postgres(url_) : connect_sqlite(url_);
}

Result<std::unique_ptr<SqlConnection>> ConnectionPool::acquire() {
  std::unique_ptr<SqlConnection> c;
  {
    std::unique_lock lock(mu_);
    if (!freed_.wait_for(lock, kAcquireWait, [&] { return !idle_.empty() || in_use_ < kMaxOpen; }))
      return make_error(
          Errc::io, "all " + std::to_string(kMaxOpen) + " connections to " + url_.redacted + " stayed busy");
    ++in_use_;
    if (!idle_.empty()) {
      c = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (c) return c;
  auto fresh = reconnect();
  if (!fresh) release(nullptr);
  return fresh;
}

void ConnectionPool::release(std::unique_ptr<SqlConnection> c) {
  {
    std::lock_guard lock(mu_);
    --in_use_;
    if (c && c->usable()) idle_.push_back(std::move(c));
  }
  freed_.notify_one();
  // A broken connection is closed here, outside the lock.
}

std::shared_ptr<ConnectionPool> pool_for(const SqlUrl& url, const std::string& db_connect) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<ConnectionPool>> pools;
  std::lock_guard lock(mu);
  auto& p = pools[db_connect];
  if (!p) p = std::make_shared<ConnectionPool>(url);
  return p;
}

}  // namespace pxt
