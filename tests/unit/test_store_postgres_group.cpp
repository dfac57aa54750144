// Group commit of one-row inserts on a PostgreSQL store (store/postgres/group.cpp): rows inserted
// at the same moment by many threads share one transaction, and each still gets its own answer.
// Needs a PostgreSQL store: runs in unit-postgres (tests/unit/store_conformance_pg.sh).
#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <thread>

#include "test_store_fixture.hpp"

using namespace pxt;
using namespace pxt::test;

TEST_SUITE_BEGIN("store postgres");

namespace {

std::string with_param(const std::string& url, const char* param) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + param;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

TEST_CASE_FIXTURE(StoreFixture, "postgres group commit: concurrent inserts each get their own row or 409") {
  if (!on_postgres()) return;
  TableDef t = make("items",
                    {col("id", ColumnType::Int, true), col("prompt", ColumnType::String),
                     computed("result", "upper(prompt)")},
                    {"id"});
  // One batch at a time: every insert arriving while one runs waits and joins the next.
  auto grouped = Store::open(StoreOptions{home, with_param(test_store_url(), "group_commit=1")}).take();
  REQUIRE(s().insert(t, {"id", "prompt"}, {{I(-1), S("taken")}}).ok());
  Error dup_alone = s().insert(t, {"id", "prompt"}, {{I(-1), S("again")}}).error();

  // 12 threads x 40 rows; every 4th row of a thread reuses the id -1 (stored above) or an id
  // another thread also inserts, so many batches hold a row that must fail alone.
  constexpr int kThreads = 12, kRows = 40;
  struct Outcome {
    int64_t id;
    std::string prompt;
    Result<std::vector<Row>> got;
  };
  std::mutex mu;
  std::vector<Outcome> outcomes;
  std::vector<std::thread> threads;
  for (int k = 0; k < kThreads; ++k) {
    threads.emplace_back([&, k] {
      for (int i = 0; i < kRows; ++i) {
        int64_t id = i % 4 == 3 ? (i % 8 == 3 ? -1 : 1000 + i) : int64_t(k) * 100 + i;
        std::string prompt = "t" + std::to_string(k) + " r" + std::to_string(i);
        auto got = grouped->insert(t, {"id", "prompt"}, {{I(id), S(prompt)}});
        std::lock_guard lock(mu);
        outcomes.push_back({id, prompt, std::move(got)});
      }
    });
  }
  for (auto& th : threads) th.join();

  std::map<int64_t, std::string> acknowledged;  // id -> the prompt whose insert said stored
  for (const Outcome& o : outcomes) {
    if (o.got.ok()) {
      REQUIRE(o.got.value().size() == 1);
      const Row& r = o.got.value()[0];
      CHECK(num(r[0]) == o.id);
      CHECK(str(r[1]) == o.prompt);
      CHECK(str(r[2]) == upper(o.prompt));
      CHECK_MESSAGE(acknowledged.emplace(o.id, o.prompt).second, "id ", o.id, " acknowledged twice");
    } else {
      // Only a duplicate fails, with the error a lone duplicate gets.
      CHECK_MESSAGE((o.id == -1 || o.id >= 1000), "id ", o.id, ": ", o.got.error().message);
      CHECK(o.got.error().code == dup_alone.code);
      CHECK(o.got.error().message.find("already exists") != std::string::npos);
    }
  }
  // Every unique id once, each shared id 1000+i once, -1 never again.
  CHECK(acknowledged.size() == size_t(kThreads * kRows * 3 / 4 + kRows / 8));
  CHECK(acknowledged.count(-1) == 0);
  // Stored is exactly what was acknowledged (nothing of a failed batch half-stored).
  std::map<int64_t, std::string> stored;
  for (const Row& r : rows(t))
    if (num(r[0]) != -1) stored.emplace(num(r[0]), str(r[1]));
  CHECK(stored == acknowledged);
  // The rows did share transactions (else this tested single inserts only).
  CHECK(grouped->writes_grouped() > 0);
  MESSAGE("rows committed in groups: ", grouped->writes_grouped(), " of ", acknowledged.size());
}

TEST_CASE_FIXTURE(StoreFixture, "postgres group commit: group_commit=0 turns it off; a bad value is named") {
  if (!on_postgres()) return;
  TableDef t = make("items", {col("id", ColumnType::Int, true)}, {"id"});
  auto off = Store::open(StoreOptions{home, with_param(test_store_url(), "group_commit=0")}).take();
  std::vector<std::thread> threads;
  for (int k = 0; k < 6; ++k)
    threads.emplace_back([&, k] {
      for (int i = 0; i < 20; ++i) CHECK(off->insert(t, {"id"}, {{I(k * 100 + i)}}).ok());
    });
  for (auto& th : threads) th.join();
  CHECK(rows(t).size() == 120);
  CHECK(off->writes_grouped() == 0);
  auto bad = Store::open(StoreOptions{home, with_param(test_store_url(), "group_commit=-1")});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("group_commit='-1'") != std::string::npos);
}

TEST_SUITE_END();
