#include <doctest/doctest.h>

#include <set>

#include "cli/commands.hpp"

using namespace pxt;

TEST_CASE("the command table") {
  CliContext ctx;
  CLI::App app("test", "pxt");
  std::set<std::string> names;
  for (const auto& entry : command_table()) {
    CAPTURE(entry.name);
    CLI::App* sub = entry.add(app, ctx);
    REQUIRE(sub != nullptr);
    CHECK(sub->get_name() == entry.name);  // the table's name is the command users type
    CHECK(std::string(entry.help).size() > 10);
    CHECK(std::string(entry.help).find('\n') == std::string::npos);
    CHECK(names.insert(entry.name).second);
  }
  for (const char* required : {"create-dir", "create-table", "drop", "drop-dir", "mv", "ls", "describe",
                               "columns", "count", "insert", "rows", "update", "delete", "schema", "serve"}) {
    CHECK_MESSAGE(names.count(required) == 1, required);
  }
}

TEST_CASE("unknown commands suggest the closest") {
  CHECK(unknown_command_message("lss") == "unknown command 'lss', did you mean 'ls'?");
  CHECK(unknown_command_message("desribe") == "unknown command 'desribe', did you mean 'describe'?");
  CHECK(unknown_command_message("create-tabel") ==
        "unknown command 'create-tabel', did you mean 'create-table'?");
  CHECK(unknown_command_message("xyzzy") == "unknown command 'xyzzy'");
}

TEST_CASE("usage_take turns argument mistakes into usage errors") {
  CHECK(usage_take(Result<int>(3)) == 3);
  CHECK_THROWS_AS(usage_take(Result<int>(make_error(Errc::invalid_argument, "bad"))), UsageError);
  CHECK_THROWS_AS(usage_take(Result<void>(make_error(Errc::invalid_argument, "bad"))), UsageError);
}
