#pragma once
// A pool of connections to one database (one per distinct db_connect, internal to src/export).
// Thread-safe.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "export/sql_backend.hpp"

namespace pxt {

class ConnectionPool {
 public:
  explicit ConnectionPool(SqlUrl url) : url_(std::move(url)) {}

  // An idle usable connection, else a new one; waits while kMaxOpen are in use. Errors (io):
  // cannot connect, or every connection stayed busy past the wait limit.
  Result<std::unique_ptr<SqlConnection>> acquire();
  // A fresh connection replacing one found broken (the caller keeps its slot). Errors (io).
  Result<std::unique_ptr<SqlConnection>> reconnect();
  // Gives a connection back; a broken one (or nullptr) only frees its slot.
  void release(std::unique_ptr<SqlConnection> c);

  const SqlUrl& url() const { return url_; }

 private:
  static constexpr size_t kMaxOpen = 32;
  SqlUrl url_;
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<SqlConnection>> idle_;
  size_t in_use_ = 0;
};

// The shared pool of a db_connect URL, created on first use. Thread-safe.
std::shared_ptr<ConnectionPool> pool_for(const SqlUrl& url, const std::string& db_connect);

}  // namespace pxt
