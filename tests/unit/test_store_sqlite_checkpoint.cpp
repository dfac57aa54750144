// Background checkpoints keep the WAL bounded under a steady stream of writes from several threads
// (the WAL only restarts when the checkpoint thread holds writers for a final pass), and the
// restarts lose nothing.
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_store.hpp"
#include "test_store_fixture.hpp"

using namespace pxt;
using namespace pxt::test;

namespace {

Value S(const std::string& s) { return Value(s); }
Value I(int64_t i) { return Value(i); }

std::uintmax_t file_size_or_zero(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : n;
}

}  // namespace

TEST_CASE_FIXTURE(StoreFixture, "the WAL restarts and stays bounded under writes that never pause") {
  auto t = make(
      "t", {col("id", ColumnType::Int, true), col("body", ColumnType::String), col("n", ColumnType::Int)},
      {"id"});
  constexpr int kRows = 64;
  std::vector<Row> seed;
  for (int i = 0; i < kRows; ++i) seed.push_back({I(i), S(""), I(0)});
  s().insert(t, {"id", "body", "n"}, seed).take();

  // Each update rewrites one row with a 16 KB body: about 5 WAL frames (20 KB) per commit, so the
  // writers below put over 1.5x the bound through the WAL while the database stays ~1 MB.
  const std::string body(16 * 1024, 'x');
  const std::uintmax_t bound = uintmax_t(sqlite::kWalForcePages) * 4096 + (32u << 20);
  constexpr int kThreads = 4;
  constexpr int kUpdatesPerThread = 6000;
  std::atomic<bool> done{false};
  std::uintmax_t largest = 0;
  std::thread watcher([&] {
    while (!done) {
      largest = std::max(largest, file_size_or_zero(home + "/pxt.db-wal"));
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < kThreads; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 1; i <= kUpdatesPerThread; ++i) {
        int64_t id = (w + kThreads * i) % kRows;  // ids w, w+4, ...: this writer's own rows
        auto r = s().update(t, Filter{{{"id", I(id)}}, ""}, {{"body", S(body)}, {"n", I(i)}});
        if (!r.ok() || r->size() != 1) ++failures;
      }
    });
  }
  for (auto& th : writers) th.join();
  done = true;
  watcher.join();

  CHECK(failures == 0);
  std::uintmax_t written = uintmax_t(kThreads) * kUpdatesPerThread * body.size();
  INFO("largest WAL " << (largest >> 20) << " MB, body bytes written " << (written >> 20) << " MB");
  REQUIRE(written > bound * 3 / 2);
  CHECK(largest > 0);
  CHECK(largest <= bound);
  // Every row holds its writer's last update (each id belongs to one writer): nothing was lost
  // across the restarts.
  std::vector<int64_t> expected(kRows, 0);
  for (int w = 0; w < kThreads; ++w) {
    for (int i = 1; i <= kUpdatesPerThread; ++i) expected[(w + kThreads * i) % kRows] = i;
  }
  auto got = rows(t);
  REQUIRE(got.size() == size_t(kRows));
  for (const Row& r : got) {
    CHECK(str(r[1]).size() == body.size());
    CHECK(num(r[2]) == expected[num(r[0])]);
  }
}
