// Background jobs: the pxt$jobs table of the SQLite store, the Jobs queue and workers (outcomes,
// queue limit, shutdown, orphan recovery, TTL) and the HTTP side through ServeApp.
#include <doctest/doctest.h>

#include <unistd.h>

#include <chrono>
#include <future>
#include <thread>

#include "serve/app/app.hpp"
#include "serve/http/access_log.hpp"
#include "serve/http/metrics.hpp"
#include "serve/http/response.hpp"
#include "serve/jobs/jobs.hpp"
#include "serve/jobs/routes.hpp"
#include "serve_test_support.hpp"
#include "test_store_fixture.hpp"

using namespace pxt;
using namespace pxt::test;

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

JobRecord job_record(std::string id, std::string owner, int64_t created = 1) {
  JobRecord j;
  j.id = std::move(id);
  j.route = "POST /x";
  j.owner = std::move(owner);
  j.created_ms = created;
  return j;
}

// Polls until the job leaves pending/running (at most 60 s: a loaded machine is slow, not wrong).
JobRecord wait_done(Store& store, const std::string& id) {
  for (int i = 0; i < 6000; ++i) {
    auto j = store.job_get(id).take();
    REQUIRE(j.has_value());
    if (j->status == "done" || j->status == "error") return *j;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL("job " << id << " did not finish");
  return {};
}

JobWork answer(int status, std::string body) {
  return [status, body](httplib::Response& res) {
    res.status = status;
    res.body = body;
  };
}

// A dead owner on this host: a pid beyond the kernel's limit never exists.
std::string dead_owner() {
  std::string self = job_owner_self();
  return self.substr(0, self.find(':')) + ":2147483646:1";
}

}  // namespace

TEST_CASE("sqlite jobs: create, start once, finish once, list unfinished, expire") {
  StoreFixture f;
  Store& s = f.s();
  REQUIRE(s.job_create(job_record("a", "me")).ok());
  CHECK(s.job_create(job_record("a", "me")).error().code == Errc::already_exists);
  auto got = s.job_get("a").take();
  REQUIRE(got);
  CHECK(got->status == "pending");
  CHECK(got->route == "POST /x");
  CHECK(got->finished_ms == 0);
  CHECK_FALSE(s.job_get("zz").take().has_value());

  CHECK(s.job_start("a", "me").take());
  CHECK_FALSE(s.job_start("a", "other").take());  // never run twice
  CHECK(s.jobs_unfinished().take().size() == 1);

  JobRecord done = job_record("a", "me");
  done.status = "done";
  done.result = R"({"id":1})";
  done.finished_ms = 1000;
  CHECK(s.job_finish(done).take());
  JobRecord again = done;
  again.status = "error";
  again.error = "late";
  CHECK_FALSE(s.job_finish(again).take());  // an outcome is final
  got = s.job_get("a").take();
  CHECK(got->status == "done");
  CHECK(got->result == R"({"id":1})");
  CHECK(got->error.empty());
  CHECK(s.jobs_unfinished().take().empty());

  REQUIRE(s.job_create(job_record("b", "me")).ok());
  CHECK(s.jobs_expire(1000).take() == 0);  // finished at 1000: not before 1000
  CHECK(s.jobs_expire(1001).take() == 1);  // unfinished "b" is never expired
  CHECK_FALSE(s.job_get("a").take().has_value());
  CHECK(s.job_get("b").take().has_value());

  JobRecord bad = job_record("b", "me");
  bad.status = "running";
  CHECK(s.job_finish(bad).error().code == Errc::internal);
}

TEST_CASE("sqlite jobs: the table survives reopening the store") {
  StoreFixture f;
  REQUIRE(f.s().job_create(job_record("keep", "me")).ok());
  f.store.reset();
  f.store = Store::open(StoreOptions{f.home}).take();
  CHECK(f.s().job_get("keep").take().has_value());
}

TEST_CASE("job_error_text takes the detail the route answered") {
  CHECK(job_error_text(R"({"detail":"row not found"})") == "row not found");
  CHECK(job_error_text(R"({"detail":[{"loc":["body","id"]}]})") == R"([{"loc":["body","id"]}])");
  CHECK(job_error_text(R"({"other":1})") == R"({"other":1})");
  CHECK(job_error_text("not json") == "not json");
}

TEST_CASE("job owners: this process is alive, a gone pid is not, another host is left alone") {
  CHECK(job_owner_alive(job_owner_self()));
  CHECK_FALSE(job_owner_alive(dead_owner()));
  std::string self = job_owner_self();
  std::string wrong_start = self.substr(0, self.rfind(':')) + ":1";  // our pid, another start time
  CHECK_FALSE(job_owner_alive(wrong_start));
  CHECK(job_owner_alive("some-other-host.example:1:1"));
  CHECK_FALSE(job_owner_alive("garbage"));
  CHECK_FALSE(job_owner_alive(self.substr(0, self.find(':')) + ":x:1"));
}

TEST_CASE("jobs: success stores the body, an error status its detail, an exception a 500 detail") {
  FakeStore store;
  auto jobs = Jobs::start(store, JobOptions{2, 100, 60, 5}).take();
  auto ok = jobs->submit("POST /a", answer(200, R"({"id":7})")).take();
  auto bad = jobs->submit("POST /a", answer(404, R"({"detail":"row not found"})")).take();
  auto boom = jobs->submit("POST /a", [](httplib::Response&) { throw std::runtime_error("secret"); }).take();
  CHECK(ok.size() == 22);
  CHECK(ok != bad);
  JobRecord r = wait_done(store, ok);
  CHECK(r.status == "done");
  CHECK(r.result == R"({"id":7})");
  CHECK(r.route == "POST /a");
  CHECK(r.finished_ms >= r.created_ms);
  r = wait_done(store, bad);
  CHECK(r.status == "error");
  CHECK(r.error == "row not found");
  r = wait_done(store, boom);
  CHECK(r.status == "error");
  CHECK(r.error == "internal server error");
  std::string page;
  metrics::collect(page);
  CHECK(page.find("pxt_jobs_finished_total{status=\"done\"} 1\n") != std::string::npos);
  CHECK(page.find("pxt_jobs_finished_total{status=\"error\"} 2\n") != std::string::npos);
  CHECK(page.find("pxt_jobs_queued 0\n") != std::string::npos);
  CHECK(jobs->shutdown());
  JobCounts c = jobs->counts();
  CHECK(c.done == 1);
  CHECK(c.error == 2);
  CHECK(c.queued == 0);
  CHECK(c.running == 0);
}

TEST_CASE(
    "jobs: a full queue refuses with busy; shutdown interrupts queued jobs and waits for running ones") {
  FakeStore store;
  auto jobs = Jobs::start(store, JobOptions{1, 1, 60, 5}).take();
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<void> started;
  auto first = jobs->submit("POST /a",
                            [&, gate](httplib::Response& res) {
                              started.set_value();
                              gate.wait();
                              res.status = 200;
                              res.body = "{}";
                            })
                   .take();
  started.get_future().wait();
  auto second = jobs->submit("POST /a", answer(200, "{}")).take();
  auto third = jobs->submit("POST /a", answer(200, "{}"));
  REQUIRE_FALSE(third.ok());
  CHECK(third.error().code == Errc::busy);
  CHECK(third.error().message.find("job queue is full") != std::string::npos);
  CHECK(jobs->counts().queued == 1);
  CHECK(jobs->counts().running == 1);
  CHECK(jobs->counts().rejected == 1);

  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    release.set_value();
  });
  CHECK(jobs->shutdown());  // waits for the running job
  releaser.join();
  CHECK(store.job_get(first).take()->status == "done");
  auto queued = store.job_get(second).take();
  CHECK(queued->status == "error");
  CHECK(queued->error == kJobInterrupted);
  auto after = jobs->submit("POST /a", answer(200, "{}"));
  CHECK(after.error().code == Errc::busy);
}

TEST_CASE("jobs: shutdown gives up after the wait and marks the running job interrupted") {
  FakeStore store;
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  {
    auto jobs = Jobs::start(store, JobOptions{1, 10, 60, 0}).take();
    std::promise<void> started;
    auto id = jobs->submit("POST /a",
                           [&started, gate](httplib::Response& res) {
                             started.set_value();
                             gate.wait();
                             res.status = 200;
                           })
                  .take();
    started.get_future().wait();
    CHECK_FALSE(jobs->shutdown());
    auto j = store.job_get(id).take();
    CHECK(j->status == "error");
    CHECK(j->error == kJobInterrupted);
    // Let the stuck worker finish before the test's objects go away (a real server exits here).
    release.set_value();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(store.job_get(id).take()->status == "error");  // the late outcome does not overwrite it
  }
}

TEST_CASE("jobs: start marks jobs of dead processes interrupted and removes expired ones") {
  FakeStore store;
  REQUIRE(store.job_create(job_record("dead", dead_owner())).ok());
  REQUIRE(store.job_create(job_record("remote", "other-host.example:1:1")).ok());
  REQUIRE(store.job_create(job_record("live", job_owner_self())).ok());
  REQUIRE(store.job_create(job_record("old", "x")).ok());
  JobRecord old = job_record("old", "x");
  old.status = "done";
  old.result = "{}";
  old.finished_ms = now_ms() - 120000;
  REQUIRE(store.job_finish(old).ok());

  auto jobs = Jobs::start(store, JobOptions{1, 10, 60, 1}).take();
  auto dead = store.job_get("dead").take();
  CHECK(dead->status == "error");
  CHECK(dead->error == kJobInterrupted);
  CHECK(store.job_get("remote").take()->status == "pending");
  CHECK(store.job_get("live").take()->status == "pending");
  CHECK_FALSE(store.job_get("old").take().has_value());
}

TEST_CASE("jobs: get hides a finished job past its TTL before the cleanup removes it") {
  FakeStore store;
  auto jobs = Jobs::start(store, JobOptions{1, 10, 2, 1}).take();
  auto id = jobs->submit("POST /a", answer(200, "{}")).take();
  const int64_t finished = wait_done(store, id).finished_ms;
  // Visible within its TTL (2 s). Judged only when this thread got here within it: on a loaded
  // machine more than the TTL can pass between two lines, and then there is nothing to check.
  auto visible = jobs->get(id).take().has_value();
  if (now_ms() - finished < 1900) CHECK(visible);
  // The TTL itself is what is waited for here (time, not another thread's progress).
  while (now_ms() - finished <= 2100) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK_FALSE(jobs->get(id).take().has_value());
  CHECK_FALSE(jobs->get("unknown").take().has_value());
}

TEST_CASE("ServeApp: a background route answers a handle at once; /jobs reports the synchronous body") {
  FakeStore store;
  ServiceSpec service;
  service.prefix = "/v1";
  service.job_workers = 1;
  std::vector<BoundRoute> routes = {table_route(RouteType::Insert, "/users", "/v1"),
                                    table_route(RouteType::Insert, "/users/bg", "/v1")};
  routes[1].spec.background = true;
  auto app = ServeApp::create(store, service, routes).take();
  store.rows = {user_row(7, "ann")};
  auto call = [&](const std::string& method, const std::string& path, const std::string& body) {
    httplib::Request req = json_request(method, path, body);
    req.headers.emplace("Host", "h:1");  // not a trusted proxy: the URL uses the server's address
    req.remote_addr = "127.0.0.1";
    req.local_addr = "127.0.0.1";
    req.local_port = 8000;
    httplib::Response res;
    log_request_start();
    app->handle(req, res);
    return res;
  };
  auto sync = call("POST", "/v1/users", R"({"id": 7, "name": "ann"})");
  REQUIRE(sync.status == 200);
  int calls_before = store.calls;

  auto bad = call("POST", "/v1/users/bg", R"({"name": "ann"})");
  CHECK(bad.status == 422);  // validated before any job exists
  CHECK(store.jobs.empty());

  auto handle = call("POST", "/v1/users/bg", R"({"id": 7, "name": "ann"})");
  REQUIRE(handle.status == 200);
  rapidjson::Document doc;
  doc.Parse(handle.body.c_str());
  std::string id = doc["id"].GetString();
  CHECK(std::string(doc["job_url"].GetString()) == "http://127.0.0.1:8000/v1/jobs/" + id);
  JobRecord r = wait_done(store, id);
  CHECK(r.result == sync.body);
  CHECK(r.route == "POST /v1/users/bg");
  CHECK(store.calls == calls_before + 1);

  auto status = call("GET", "/v1/jobs/" + id, "");
  CHECK(status.status == 200);
  CHECK(status.body == R"({"status":"done","result":)" + sync.body + R"(,"error":null})");
  CHECK(call("GET", "/v1/jobs/nope", "").status == 404);
  CHECK(call("GET", "/v1/jobs/" + id + "/x", "").status == 404);

  store.fail = make_error(Errc::not_found, "row not found");
  auto failing = call("POST", "/v1/users/bg", R"({"id": 8})");
  doc.Parse(failing.body.c_str());
  r = wait_done(store, doc["id"].GetString());
  auto err = call("GET", "/v1/jobs/" + r.id, "");
  // The job's error is the synchronous answer's detail: Pixeltable's error object, as JSON text.
  CHECK(
      err.body ==
      R"({"status":"error","result":null,"error":"{\"error_code\":\"PATH_NOT_FOUND\",\"message\":\"row not found\",\"retryable\":false}"})");
}
