// SQL functions for the end-to-end tests only: registered when the environment has
// PXT_TEST_FUNCTIONS=1 (store/functions/registry.cpp), never otherwise, so a production server
// pays nothing for them. They let a test hold a write or a read at a known point and know that it
// got there, instead of sleeping and hoping (tests/cli/lib.sh: gate_wait, gate_open).
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "store/functions/builtins.hpp"

namespace pxt {

namespace {

Result<Value> sleep_ms(const std::vector<Value>& args) {
  if (args.size() != 1 || !std::holds_alternative<int64_t>(args[0])) {
    return make_error(Errc::invalid_argument, "pxt_sleep_ms(ms) expects an integer");
  }
  int64_t ms = std::get<int64_t>(args[0]);
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return Value(ms);
}

// How long a gate waits before the call fails: far above any test's patience, so a test that
// never opens its gate fails instead of hanging its server.
constexpr auto kGateLimit = std::chrono::seconds(120);

// pxt_gate(path, value): appends the value to PATH.started (one line a call: the test sees the
// call has started), then waits until PATH exists, then returns value. A NULL path returns value
// at once.
Result<Value> gate(const std::vector<Value>& args) {
  if (args.size() != 2)
    return make_error(Errc::invalid_argument, "pxt_gate(path, value) takes two arguments");
  if (is_null(args[0])) return args[1];
  const auto* path = std::get_if<std::string>(&args[0]);
  if (path == nullptr)
    return make_error(Errc::invalid_argument, "pxt_gate(path, value): path must be a string");
  std::string line = "null\n";
  if (const auto* v = std::get_if<int64_t>(&args[1])) line = std::to_string(*v) + "\n";
  const std::string started = *path + ".started";
  int fd = ::open(started.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(Errc::io, "pxt_gate(): cannot create '" + started + "'");
  ssize_t n = ::write(fd, line.data(), line.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size()))
    return make_error(Errc::io, "pxt_gate(): cannot write '" + started + "'");
  const auto until = std::chrono::steady_clock::now() + kGateLimit;
  std::error_code ec;
  while (!std::filesystem::exists(*path, ec)) {
    if (std::chrono::steady_clock::now() > until)
      return make_error(Errc::internal, "pxt_gate(): '" + *path + "' did not appear within 120 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return args[1];
}

SqlFunction ahead(SqlFunction f) {
  f.compute_ahead = true;
  return f;
}

}  // namespace

std::vector<SqlFunction> test_functions() {
  return {
      // pxt_sleep_ms(ms): sleeps, returns ms; inside the write (it holds the writer lock).
      SqlFunction{"pxt_sleep_ms", 1, ColumnType::Int, false, sleep_ms},
      // pxt_sleep_ahead_ms(ms): the same, computed ahead of the write's transaction like
      // document_text (tests/cli/test_serve_slow_functions.sh shows it holds up no other writer).
      ahead(SqlFunction{"pxt_sleep_ahead_ms", 1, ColumnType::Int, true, sleep_ms}),
      // pxt_gate(path, value) inside the write, pxt_gate_ahead(path, value) computed ahead.
      SqlFunction{"pxt_gate", 2, ColumnType::Int, false, gate},
      ahead(SqlFunction{"pxt_gate_ahead", 2, ColumnType::Int, true, gate}),
  };
}

}  // namespace pxt
