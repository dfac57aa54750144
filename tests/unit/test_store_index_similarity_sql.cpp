// Finding similarity(COLUMN, :param) on indexed columns and the top-k shape an index answers.
#include <doctest/doctest.h>

#include "store/index/similarity_sql.hpp"

using namespace pxt;

namespace {

TableDef docs(const std::string& metric = "cosine") {
  TableDef t;
  t.path = "app.docs";
  t.columns = {{"id", ColumnType::Int}, {"text", ColumnType::String}, {"tag", ColumnType::String}};
  IndexDef i;
  i.name = "text_idx";
  i.column = "text";
  i.embedding = "embed(text, 'p/m')";
  i.metric = metric;
  i.id = 3;
  t.indexes = {i};
  return t;
}

}  // namespace

TEST_CASE("a top-k query over an indexed column") {
  TableDef t = docs();
  TableLookup lookup = [&](const std::string& p) { return p == "app.docs" ? &t : nullptr; };
  std::string sql =
      R"(SELECT id, text, similarity(text, :q) AS score FROM "app.docs" ORDER BY score DESC LIMIT 5)";
  auto plan = plan_similarity(sql, lookup);
  REQUIRE(plan.ok());
  REQUIRE(plan->calls.size() == 1);
  CHECK(sql.substr(plan->calls[0].pos, plan->calls[0].len) == "similarity(text, :q)");
  CHECK(plan->calls[0].param == "q");
  CHECK(plan->calls[0].row_ref == "\"app.docs\"");
  CHECK(plan->calls[0].index.id == 3);
  CHECK(plan->top_k);
  CHECK(plan->limit == 5);
  CHECK_FALSE(plan->has_where);
  CHECK(sql.substr(plan->where_pos, 5) == "ORDER");

  std::string w =
      R"(SELECT d.id, similarity(d.text, :q) s FROM "app.docs" AS d WHERE d.tag = :tag ORDER BY s DESC LIMIT :k)";
  plan = plan_similarity(w, lookup);
  REQUIRE(plan.ok());
  CHECK(plan->top_k);
  CHECK(plan->limit_param == "k");
  CHECK(plan->calls[0].row_ref == "\"d\"");
  CHECK(plan->has_where);
  CHECK(w.substr(plan->where_pos, 8) == " d.tag =");
  CHECK(w.substr(plan->where_end, 5) == "ORDER");

  // Ordered by the call itself.
  std::string again = R"(SELECT id FROM "app.docs" ORDER BY similarity(text, 'cats') DESC LIMIT 3)";
  plan = plan_similarity(again, lookup);
  REQUIRE(plan.ok());
  CHECK(plan->top_k);
  CHECK(plan->calls[0].text == std::optional<std::string>("cats"));
}

TEST_CASE("shapes the index cannot answer are still rewritten, for an exact scan") {
  TableDef t = docs();
  TableLookup lookup = [&](const std::string& p) { return p == "app.docs" ? &t : nullptr; };
  for (
      const char* sql : {
          R"(SELECT id, similarity(text, :q) AS score FROM "app.docs" ORDER BY score ASC LIMIT 5)",
          R"(SELECT id, similarity(text, :q) AS score FROM "app.docs" ORDER BY score DESC)",
          R"(SELECT id, similarity(text, :q) AS score FROM "app.docs" ORDER BY score DESC LIMIT 5 OFFSET 2)",
          R"(SELECT tag, max(similarity(text, :q)) AS score FROM "app.docs" GROUP BY tag ORDER BY score DESC LIMIT 5)",
          R"(SELECT id, similarity(text, :q) AS score FROM "app.docs" ORDER BY id DESC LIMIT 5)",
      }) {
    auto plan = plan_similarity(sql, lookup);
    REQUIRE(plan.ok());
    CHECK(plan->calls.size() == 1);
    CHECK_FALSE(plan->top_k);
  }
  // An l2 index answers ascending distances.
  TableDef l2 = docs("l2");
  TableLookup l2_lookup = [&](const std::string& p) { return p == "app.docs" ? &l2 : nullptr; };
  auto plan = plan_similarity(R"(SELECT id, similarity(text, :q) AS d FROM "app.docs" ORDER BY d LIMIT 5)",
                              l2_lookup);
  REQUIRE(plan.ok());
  CHECK(plan->top_k);
}

TEST_CASE("what is not an index call, and what is refused") {
  TableDef t = docs();
  TableLookup lookup = [&](const std::string& p) { return p == "app.docs" ? &t : nullptr; };
  // A Vector column without an index compares Vectors: no index call.
  t.columns.push_back({"emb", ColumnType::Vector});
  auto none = plan_similarity(R"(SELECT similarity(emb, :q) FROM "app.docs")", lookup);
  REQUIRE(none.ok());
  CHECK(none->calls.empty());
  // A text column without an index cannot be compared with a text: the error says how to fix it.
  auto unindexed = plan_similarity(R"(SELECT similarity(tag, :q) FROM "app.docs")", lookup);
  REQUIRE_FALSE(unindexed.ok());
  CHECK(unindexed.error().message.find("column 'tag' of table 'app.docs' has no embedding index") !=
        std::string::npos);
  CHECK(unindexed.error().message.find("pxt create-index app.docs tag --embedding") != std::string::npos);
  auto plain = plan_similarity("SELECT 1", lookup);
  REQUIRE(plain.ok());
  CHECK(plain->calls.empty());
  auto bad = plan_similarity(R"(SELECT similarity(text, upper(:q)) FROM "app.docs")", lookup);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("compare it with a :parameter or a string literal") != std::string::npos);
}
