// Jobs on a store shared by many processes (PostgreSQL): a claim takes each pending job once,
// leases tell live runners from dead ones, unfinished jobs keep their media. These cases need a
// PostgreSQL store: they run in unit-postgres (tests/unit/store_conformance_pg.sh) and are skipped
// elsewhere.
#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "test_store_fixture.hpp"
#include "util/process.hpp"

using namespace pxt;
using namespace pxt::test;

TEST_SUITE_BEGIN("store postgres");

namespace {

JobRecord job(std::string id, std::string route = "POST /x", int64_t created = 1) {
  JobRecord j;
  j.id = std::move(id);
  j.route = std::move(route);
  j.owner = "host:1:1";
  j.created_ms = created;
  j.payload = R"({"values":[1],"present":[true]})";
  return j;
}

}  // namespace

TEST_CASE_FIXTURE(StoreFixture, "postgres jobs: concurrent claims take every pending job exactly once") {
  if (!on_postgres()) return;
  REQUIRE(s().shared());
  for (int i = 0; i < 60; ++i) REQUIRE(s().job_create(job("j" + std::to_string(i), "POST /x", i)).ok());
  REQUIRE(s().job_create(job("other", "POST /y")).ok());
  std::mutex mu;
  std::multiset<std::string> claimed;
  std::vector<std::thread> threads;
  for (int k = 0; k < 6; ++k) {
    threads.emplace_back([&, k] {
      auto other = Store::open(StoreOptions{home, test_store_url()}).take();  // another "process"
      while (true) {
        auto got = other->job_claim({"POST /x"}, "runner" + std::to_string(k)).take();
        if (!got) return;
        CHECK(got->payload == R"({"values":[1],"present":[true]})");
        std::lock_guard lock(mu);
        claimed.insert(got->id);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(claimed.size() == 60);
  std::set<std::string> distinct(claimed.begin(), claimed.end());
  CHECK(distinct.size() == 60);
  CHECK(s().job_get("other").take()->status == "pending");  // another route: not claimed
  CHECK_FALSE(s().job_start("j0", "late").take());          // claimed: never started twice
}

TEST_CASE_FIXTURE(StoreFixture,
                  "postgres jobs: a runner without a live lease has its running jobs interrupted") {
  if (!on_postgres()) return;
  // Opening the store registered this process's lease.
  auto live = s().live_processes().take();
  CHECK(std::find(live.begin(), live.end(), process_tag()) != live.end());
  for (const char* id : {"a", "b", "c"}) REQUIRE(s().job_create(job(id)).ok());
  CHECK(s().job_start("a", process_tag()).take());
  CHECK(s().job_start("b", "gone.example:7:7").take());  // a runner that holds no lease
  CHECK(s().jobs_interrupt_expired("interrupted by shutdown", 5).take() == 1);
  auto b = s().job_get("b").take();
  CHECK(b->status == "error");
  CHECK(b->error == "interrupted by shutdown");
  CHECK(s().job_get("a").take()->status == "running");
  CHECK(s().job_get("c").take()->status == "pending");  // pending: left for others to claim
  JobRecord late = job("b");
  late.status = "done";
  late.result = "{}";
  late.finished_ms = 9;
  CHECK_FALSE(s().job_finish(late).take());  // an interrupted job stays interrupted
  // A second store of this process closing does not end the lease the first one holds.
  Store::open(StoreOptions{home, test_store_url()}).take().reset();
  live = s().live_processes().take();
  CHECK(std::find(live.begin(), live.end(), process_tag()) != live.end());
}

TEST_CASE_FIXTURE(StoreFixture, "postgres jobs: media of unfinished jobs count as references") {
  if (!on_postgres()) return;
  JobRecord j = job("m");
  j.media = {"ab/abababababababababababababababab.png"};
  REQUIRE(s().job_create(j).ok());
  std::vector<std::string> names;
  s().media_names([&](std::string_view n) { names.emplace_back(n); }).take();
  CHECK(names == j.media);
  JobRecord done = job("m");
  done.status = "error";
  done.error = "x";
  done.finished_ms = 3;
  REQUIRE(s().job_finish(done).take());
  names.clear();
  s().media_names([&](std::string_view n) { names.emplace_back(n); }).take();
  CHECK(names.empty());
}

TEST_CASE_FIXTURE(StoreFixture, "postgres: a catalog change by another process reaches this one") {
  if (!on_postgres()) return;
  auto other = Store::open(StoreOptions{home, test_store_url()}).take();
  TableDef t = make("t", {col("x", ColumnType::Int)});
  s().insert(t, {"x"}, {{int64_t(1)}}).take();
  CHECK(other->get_table("t").take().id == t.id);
  other->drop_table("t", false).take();
  TableDef again = other->create_table(t, IfExists::error).take();
  // Same path, new table: the old definition is refused at once, by the statement's guard.
  CHECK(s().insert(t, {"x"}, {{int64_t(2)}}).error().code == Errc::schema_changed);
  CHECK(s().count(t, {}).error().code == Errc::schema_changed);
  CHECK(s().insert(again, {"x"}, {{int64_t(3)}}).ok());
}

TEST_SUITE_END();
