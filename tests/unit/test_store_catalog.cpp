// The store's catalog through the Store interface: directories, tables, listing, moves, and a
// second store on the same data. Part of the store conformance suite (test_store_fixture.hpp):
// every backend must pass it.
#include "test_store_fixture.hpp"
#include "util/strings.hpp"

using namespace pxt;
using namespace pxt::test;

TEST_SUITE_BEGIN("store conformance");

TEST_CASE_FIXTURE(StoreFixture, "directories nest and their parents must exist") {
  CHECK(s().create_dir("a", IfExists::error).ok());
  CHECK(s().create_dir("a/b", IfExists::error).ok());
  auto e = s().create_dir("nope.y", IfExists::error);
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().code == Errc::not_found);
  CHECK(e.error().message == "parent directory 'nope' does not exist");
  CHECK(s().create_dir("b.y", IfExists::error).error().message ==
        "parent directory 'b' does not exist, did you mean 'a'?");
  e = s().create_dir("a", IfExists::error);
  CHECK(e.error().code == Errc::already_exists);
  CHECK(e.error().message == "directory 'a' already exists");
  CHECK(s().create_dir("a", IfExists::ignore).ok());
  CHECK(s().create_dir("a.b", IfExists::replace).ok());
  CHECK(s().create_dir("a", IfExists::replace).error().message ==
        "directory 'a' is not empty; it cannot be replaced");
  CHECK(s().create_dir("a/b c", IfExists::error).error().message.find("'b c' is not an identifier") !=
        std::string::npos);
  auto all = s().list("", true).take();
  REQUIRE(all.size() == 2);
  CHECK(all[0].path == "a");
  CHECK(all[1].path == "a.b");
  CHECK(all[1].kind == CatalogEntry::Kind::Dir);
}

TEST_CASE_FIXTURE(StoreFixture, "create_table validates names, keys and parents") {
  s().create_dir("app", IfExists::error).take();
  TableDef d;
  d.path = "app/users";
  d.columns = {col("id", ColumnType::Int), col("name", ColumnType::String)};
  d.primary_key = {"id"};
  TableDef t = s().create_table(d, IfExists::error).take();
  CHECK(t.path == "app.users");
  CHECK(t.id > 0);
  CHECK(t.version == 1);
  CHECK(t.columns[0].required);  // primary key columns become required
  CHECK(t.primary_key == std::vector<std::string>{"id"});

  auto err = [&](TableDef def) { return s().create_table(def, IfExists::error).error().message; };
  TableDef bad = d;
  bad.path = "nope.t";
  CHECK(err(bad) == "parent directory 'nope' does not exist");
  bad = d;
  bad.path = "app.t2";
  bad.columns.push_back(col("Name", ColumnType::Int));
  CHECK(err(bad) == "duplicate column 'Name' (same as 'name')");
  bad.columns = {col("my col", ColumnType::Int)};
  bad.primary_key = {};
  CHECK(err(bad).find("invalid column name 'my col': not an identifier") == 0);
  bad.columns = {col("rowid", ColumnType::Int)};
  CHECK(err(bad) == "invalid column name 'rowid': the name is reserved");
  bad.columns = {};
  CHECK(err(bad) == "table 'app.t2' needs at least one column");
  bad.columns = {col("id", ColumnType::Int), computed("c", "id * 2", ColumnType::Int)};
  bad.primary_key = {"idd"};
  CHECK(err(bad) == "primary key column 'idd' is not a column of the table, did you mean 'id'?");
  bad.primary_key = {"c"};
  CHECK(err(bad) == "primary key column 'c' is a computed column; key columns must be inputs");
  bad.columns = {col("doc", ColumnType::Json)};
  bad.primary_key = {"doc"};
  CHECK(err(bad) == "primary key column 'doc' has type Json, which cannot be part of a key");
  bad = d;
  bad.path = "app";
  CHECK(s().create_table(bad, IfExists::error).error().message == "'app' already exists and is a directory");
  CHECK(s().create_table(d, IfExists::error).error().code == Errc::already_exists);
  CHECK(s().create_table(d, IfExists::error).error().message == "table 'app.users' already exists");
}

TEST_CASE_FIXTURE(StoreFixture, "IfExists ignore keeps the table; replace makes a new one") {
  TableDef t = make("t", {col("a", ColumnType::String)});
  s().insert(t, {"a"}, {{std::string("x")}}).take();
  TableDef other;
  other.path = "t";
  other.columns = {col("b", ColumnType::Int)};
  TableDef kept = s().create_table(other, IfExists::ignore).take();
  CHECK(kept.id == t.id);
  CHECK(kept.columns[0].name == "a");
  TableDef replaced = s().create_table(other, IfExists::replace).take();
  CHECK(replaced.id != t.id);
  CHECK(replaced.columns[0].name == "b");
  CHECK(rows(replaced).empty());
}

TEST_CASE_FIXTURE(StoreFixture, "get_table suggests existing paths") {
  s().create_dir("app", IfExists::error).take();
  make("app.users", {col("id", ColumnType::Int)});
  CHECK(s().get_table("app/users").take().path == "app.users");
  auto e = s().get_table("app.usres");
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().code == Errc::not_found);
  CHECK(e.error().message == "table 'app.usres' does not exist, did you mean 'app.users'?");
  CHECK(s().get_table("app").error().message == "'app' is a directory, not a table");
  // The directory left out: the suggestion comes from the last part of the path.
  CHECK(s().get_table("usres").error().message == "table 'usres' does not exist, did you mean 'app.users'?");
  CHECK(s().get_table("zzz").error().message == "table 'zzz' does not exist");
}

TEST_CASE_FIXTURE(StoreFixture, "a computed column's declared type must be one its expression gives") {
  auto err = [&](std::vector<ColumnDef> cols) {
    TableDef d;
    d.path = "typed";
    d.columns = std::move(cols);
    auto r = s().create_table(d, IfExists::error);
    return r.ok() ? std::string() : r.error().message;
  };
  CHECK(err({col("s", ColumnType::String), computed("u", "upper(s)", ColumnType::Int)}) ==
        "computed column 'u' is declared Int, but its expression 'upper(s)' gives a String: declare it as "
        "String, or leave the type out to have it inferred");
  CHECK(err({col("n", ColumnType::Int), computed("f", "n * 1.5", ColumnType::Float),
             computed("b", "n > 2", ColumnType::Timestamp)})
            .find("computed column 'b' is declared Timestamp, but its expression 'n > 2' gives a Bool") == 0);
  CHECK(s().list("", false).take().empty());
  // Sound declarations: a number in a Float, a comparison in an Int, anything as text, and
  // expressions whose type cannot be inferred.
  CHECK(err({col("s", ColumnType::String), computed("n", "length(s)", ColumnType::Float),
             computed("c", "s > 'a'", ColumnType::Int), computed("t", "length(s)", ColumnType::String),
             computed("j", "upper(s)", ColumnType::Json), computed("a", "length(s) * 2", ColumnType::Int)}) ==
        "");
}

TEST_CASE_FIXTURE(StoreFixture, "list shows a level or everything below") {
  s().create_dir("a", IfExists::error).take();
  s().create_dir("a.b", IfExists::error).take();
  make("a.t1", {col("x", ColumnType::Int)});
  make("a.b.t2", {col("x", ColumnType::Int)});
  make("top", {col("x", ColumnType::Int)});
  auto paths = [&](std::string_view dir, bool rec) {
    std::vector<std::string> out;
    for (auto& e : s().list(dir, rec).take()) out.push_back(e.path);
    return out;
  };
  CHECK(paths("", false) == std::vector<std::string>{"a", "top"});
  CHECK(paths("a", false) == std::vector<std::string>{"a.b", "a.t1"});
  CHECK(paths("a", true) == std::vector<std::string>{"a.b", "a.b.t2", "a.t1"});
  CHECK(s().list("zz", false).error().message == "directory 'zz' does not exist");
  CHECK(s().list("a.bb", false).error().message == "directory 'a.bb' does not exist, did you mean 'a.b'?");
  CHECK(s().list("top", false).error().message == "'top' is a table, not a directory");
}

TEST_CASE_FIXTURE(StoreFixture, "drop_table and drop_dir") {
  s().create_dir("d", IfExists::error).take();
  s().create_dir("d.e", IfExists::error).take();
  TableDef t = make("d.e.t", {col("x", ColumnType::Int)});
  make("d.u", {col("x", ColumnType::Int)});
  CHECK(s().drop_table("d.uu", false).error().message == "table 'd.uu' does not exist, did you mean 'd.u'?");
  auto e = s().drop_dir("d", false);
  REQUIRE_FALSE(e.ok());
  CHECK(
      e.error().message ==
      "directory 'd' is not empty (2 table(s), 1 directory(ies)); drop it with force to delete its contents");
  CHECK(s().list("", true).take().size() == 4);  // nothing dropped
  CHECK(s().drop_table("d.u", false).ok());
  CHECK(s().get_table("d.u").error().code == Errc::not_found);
  CHECK(s().drop_dir("d", true).ok());
  CHECK(s().list("", true).take().empty());
  CHECK(s().drop_dir("d", false).error().code == Errc::not_found);
  // The dropped table's storage is gone too: re-creating the path works and starts empty.
  s().create_dir("d", IfExists::error).take();
  s().create_dir("d.e", IfExists::error).take();
  TableDef again = make("d.e.t", {col("x", ColumnType::Int)});
  CHECK(again.id != t.id);
}

TEST_CASE_FIXTURE(StoreFixture, "move renames tables and whole directories") {
  s().create_dir("a", IfExists::error).take();
  s().create_dir("a.sub", IfExists::error).take();
  s().create_dir("b", IfExists::error).take();
  TableDef t = make("a.sub.t", {col("x", ColumnType::Int)});
  s().insert(t, {"x"}, {{int64_t(7)}}).take();
  CHECK(s().move("a.sub.t", "b.t").ok());
  TableDef moved = s().get_table("b.t").take();
  CHECK(moved.id == t.id);
  CHECK(rows(moved).size() == 1);
  CHECK(s().insert(t, {"x"}, {{int64_t(8)}}).error().code == Errc::schema_changed);
  CHECK(s().move("b", "a.sub.b2").ok());
  CHECK(s().get_table("a.sub.b2.t").ok());
  CHECK(s().move("a", "a.sub.x").error().message == "cannot move directory 'a' into itself ('a.sub.x')");
  CHECK(s().move("zz", "q").error().code == Errc::not_found);
  CHECK(s().move("a.sub", "nope.sub").error().message == "parent directory 'nope' does not exist");
  s().create_dir("c", IfExists::error).take();
  CHECK(s().move("a", "c").error().message == "'c' already exists");
}

TEST_CASE_FIXTURE(StoreFixture, "a second store on the same home sees catalog changes") {
  auto other = Store::open({home, test_store_url()}).take();
  s().create_dir("d", IfExists::error).take();
  TableDef t = make("d.t", {col("x", ColumnType::Int)});
  CHECK(other->get_table("d.t").take().id == t.id);
  CHECK(other->list("", true).take().size() == 2);
  other->drop_table("d.t", false).take();
  CHECK(s().insert(t, {"x"}, {{int64_t(1)}}).error().message ==
        "table schema changed since route was registered; restart the service");
  CHECK(s().get_table("d.t").error().code == Errc::not_found);
}

TEST_SUITE_END();
