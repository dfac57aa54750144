// The HNSW graph of an embedding index: recall against an exact scan, updates, deletes, saving
// and loading, and refusing a saved graph that does not match.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "store/index/vector_index.hpp"
#include "store/model/vector.hpp"

using namespace pxt;

namespace {

std::vector<std::vector<float>> random_vectors(size_t n, size_t dim, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0, 1);
  std::vector<std::vector<float>> out(n, std::vector<float>(dim));
  for (auto& v : out)
    for (auto& x : v) x = d(rng);
  return out;
}

std::vector<int64_t> exact_top(const std::vector<std::vector<float>>& data, const std::vector<float>& q,
                               size_t k) {
  std::vector<std::pair<float, int64_t>> scored;
  for (size_t i = 0; i < data.size(); ++i)
    scored.emplace_back(-vec::cosine(data[i].data(), q.data(), q.size()), int64_t(i));
  std::partial_sort(scored.begin(), scored.begin() + static_cast<long>(k), scored.end());
  std::vector<int64_t> out;
  for (size_t i = 0; i < k; ++i) out.push_back(scored[i].second);
  return out;
}

}  // namespace

TEST_CASE("an HNSW graph finds the exact top 10 for >= 95% of them (cosine, 2,000 x 32)") {
  auto data = random_vectors(2000, 32, 1);
  VectorIndex idx(Metric::cosine, 0, 40);
  std::vector<VectorIndex::Change> changes;
  for (size_t i = 0; i < data.size(); ++i)
    changes.push_back({int64_t(i), vec::pack(data[i]), int64_t(i + 1)});
  REQUIRE(idx.apply(changes).ok());
  CHECK(idx.size() == 2000);
  CHECK(idx.dimension() == 32);
  CHECK(idx.synced() == 2000);
  auto queries = random_vectors(50, 32, 2);
  size_t hits = 0;
  for (const auto& q : queries) {
    auto found = idx.search(vec::pack(q), 10);
    REQUIRE(found.ok());
    REQUIRE(found->size() == 10);
    auto want = exact_top(data, q, 10);
    for (const auto& n : *found) hits += std::count(want.begin(), want.end(), n.row);
    CHECK((*found)[0].score >= (*found)[9].score);
    CHECK((*found)[0].score ==
          doctest::Approx(vec::cosine(data[size_t((*found)[0].row)].data(), q.data(), 32)).epsilon(1e-4));
  }
  CHECK(static_cast<double>(hits) / (50 * 10) >= 0.95);
}

TEST_CASE("updates move a point, deletes hide it, a wrong dimension is refused") {
  VectorIndex idx(Metric::l2, 0, 40);
  REQUIRE(
      idx.apply({{1, vec::pack(std::vector<float>{0, 0}), 1}, {2, vec::pack(std::vector<float>{10, 10}), 2}})
          .ok());
  auto near_origin = idx.search(vec::pack(std::vector<float>{0.1f, 0}), 1);
  REQUIRE(near_origin.ok());
  CHECK((*near_origin)[0].row == 1);
  CHECK((*near_origin)[0].score == doctest::Approx(0.1));
  REQUIRE(idx.apply({{1, vec::pack(std::vector<float>{20, 20}), 3}}).ok());  // row 1 moved
  CHECK((*idx.search(vec::pack(std::vector<float>{0, 0}), 1))[0].row == 2);
  REQUIRE(idx.apply({{2, std::nullopt, 4}}).ok());  // row 2 deleted
  CHECK(idx.size() == 1);
  auto left = idx.search(vec::pack(std::vector<float>{0, 0}), 5);
  REQUIRE(left->size() == 1);
  CHECK((*left)[0].row == 1);
  REQUIRE(idx.apply({{2, vec::pack(std::vector<float>{1, 1}), 5}}).ok());  // and back
  CHECK(idx.size() == 2);
  CHECK_FALSE(idx.apply({{3, vec::pack(std::vector<float>{1, 2, 3}), 6}}).ok());
  CHECK_FALSE(idx.search(vec::pack(std::vector<float>{1, 2, 3}), 1).ok());
  CHECK(idx.synced() == 6);
}

TEST_CASE("a saved graph loads back; one past the table's seq or of another metric does not") {
  auto dir = std::filesystem::temp_directory_path() / ("pxt-vi-" + std::to_string(std::random_device{}()));
  auto data = random_vectors(300, 8, 3);
  VectorIndex idx(Metric::ip, 0, 40);
  std::vector<VectorIndex::Change> changes;
  for (size_t i = 0; i < data.size(); ++i)
    changes.push_back({int64_t(i + 100), vec::pack(data[i]), int64_t(i + 1)});
  REQUIRE(idx.apply(changes).ok());
  REQUIRE(idx.save(dir.string(), "7").ok());
  auto loaded = VectorIndex::load(dir.string(), "7", Metric::ip, 8, 40, 300);
  REQUIRE(loaded != nullptr);
  CHECK(loaded->size() == 300);
  CHECK(loaded->synced() == 300);
  auto q = vec::pack(data[5]);
  CHECK((*loaded->search(q, 3))[0].row == (*idx.search(q, 3))[0].row);
  CHECK(VectorIndex::load(dir.string(), "7", Metric::ip, 8, 40, 299) == nullptr);  // the table is behind it
  CHECK(VectorIndex::load(dir.string(), "7", Metric::cosine, 8, 40, 300) == nullptr);
  CHECK(VectorIndex::load(dir.string(), "7", Metric::ip, 16, 40, 300) == nullptr);
  CHECK(VectorIndex::load(dir.string(), "8", Metric::ip, 8, 40, 300) == nullptr);
  std::filesystem::resize_file(dir / "7.hnsw", 100);  // damaged
  CHECK(VectorIndex::load(dir.string(), "7", Metric::ip, 8, 40, 300) == nullptr);
  std::filesystem::remove_all(dir);
}

TEST_CASE("vectors: packing, JSON and metrics") {
  std::vector<float> v{1.5f, -2, 0.1f};
  std::string packed = vec::pack(v);
  CHECK(vec::dimension(packed) == 3u);
  CHECK(vec::unpack(packed) == v);
  CHECK(vec::to_json_text(packed) == "[1.5,-2,0.1]");
  auto back = vec::from_json_text("[1.5, -2, 0.1]");
  REQUIRE(back.ok());
  CHECK(*back == packed);
  CHECK_FALSE(vec::from_json_text("[]").ok());
  CHECK_FALSE(vec::from_json_text("[1, \"a\"]").ok());
  CHECK_FALSE(vec::from_json_text("[1e300]").ok());
  CHECK_FALSE(vec::dimension("abc").has_value());
  std::vector<float> a{1, 0}, b{0, 1}, c{3, 4};
  CHECK(vec::cosine(a.data(), b.data(), 2) == doctest::Approx(0));
  CHECK(vec::cosine(c.data(), c.data(), 2) == doctest::Approx(1));
  CHECK(vec::dot(a.data(), c.data(), 2) == doctest::Approx(3));
  CHECK(vec::l2_distance(a.data(), c.data(), 2) == doctest::Approx(std::sqrt(4.0 + 16.0)));
}
