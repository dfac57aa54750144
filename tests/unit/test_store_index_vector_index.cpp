// The HNSW graph of an embedding index: recall against an exact scan, updates, deletes, saving
// and loading, and refusing a saved graph that does not match.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
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

namespace {

// The share of the exact top 10 that idx finds, over queries.
double recall_at_10(const VectorIndex& idx, const std::vector<std::vector<float>>& data,
                    const std::vector<std::vector<float>>& queries) {
  size_t hits = 0;
  for (const auto& q : queries) {
    auto found = idx.search(vec::pack(q), 10);
    REQUIRE(found.ok());
    auto want = exact_top(data, q, 10);
    for (const auto& n : *found) hits += std::count(want.begin(), want.end(), n.row);
  }
  return static_cast<double>(hits) / static_cast<double>(10 * queries.size());
}

// The graph of data; `chunk` rows per apply(): 512 or more are inserted from every core at once,
// fewer one at a time on the calling thread.
std::unique_ptr<VectorIndex> built(const std::vector<std::vector<float>>& data, int ef_search,
                                   size_t chunk = SIZE_MAX) {
  auto idx = std::make_unique<VectorIndex>(Metric::cosine, 0, ef_search);
  std::vector<VectorIndex::Change> changes;
  for (size_t i = 0; i < data.size(); ++i) {
    changes.push_back({int64_t(i), vec::pack(data[i]), int64_t(i + 1)});
    if (changes.size() == chunk || i + 1 == data.size()) {
      REQUIRE(idx->apply(changes).ok());
      changes.clear();
    }
  }
  return idx;
}

// Points around a few centres, as embeddings of real text cluster by topic.
std::vector<std::vector<float>> clustered_vectors(size_t n, size_t dim, size_t centres, unsigned seed,
                                                  unsigned noise_seed) {
  auto c = random_vectors(centres, dim, seed);
  auto noise = random_vectors(n, dim, noise_seed);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < dim; ++j) noise[i][j] += c[i % centres][j] * 1.5f;
  return noise;
}

}  // namespace

// bench/RESULTS.md: recall@10 0.47 at ef_search 40 on the stand-in's 100,000 x 384 vectors for
// queries that share no trigram with any row ("unlike the rows"), 0.97 for queries drawn as the
// rows were. hnswlib's own graph, built on one thread outside pxt from the same vectors, finds the
// same (0.469 and 0.969 at ef 40; 0.958 and 0.998 at ef 800): the hard case is a query far from
// every row, whose nearest neighbours are barely nearer than the rest, so a greedy search needs
// many candidates to tell them apart. i.i.d. random vectors are that case for every query
// (hnswlib alone, 384-d, ef 40: 0.68 on 2,000 points, 0.45 on 5,000, 0.10 on 50,000). These tests
// pin down the two facts that argument rests on: pxt's parallel build is as good as hnswlib's
// serial one, and clustered data is found at the default ef. Small enough for a few seconds under
// ASan (where hnswlib runs without SIMD): 128-d i.i.d. vectors are still far from saturated at
// ef 40 (about 0.8).
TEST_CASE(
    "HNSW on i.i.d. random 128-d vectors: the parallel build as good as a serial one, >= 95% at ef 400") {
  auto data = random_vectors(2000, 128, 11);
  auto queries = random_vectors(30, 128, 12);
  auto fast = built(data, kDefaultEfSearch), wide = built(data, 400);
  double at40 = recall_at_10(*fast, data, queries), at400 = recall_at_10(*wide, data, queries);
  INFO("recall@10: " << at40 << " at ef_search 40, " << at400 << " at 400");
  CHECK(at400 >= 0.95);
  // The same points inserted one at a time (hnswlib's own order of work): the parallel build
  // loses nothing against it.
  auto serial = built(data, kDefaultEfSearch, 256);
  double reference = recall_at_10(*serial, data, queries);
  INFO("inserted one at a time: " << reference << " at ef_search 40");
  CHECK(at40 >= reference - 0.1);  // 300 samples; the parallel build's order varies a little
}

TEST_CASE("HNSW on clustered 384-d vectors (as real embeddings are): >= 95% at the default ef_search 40") {
  auto data = clustered_vectors(2000, 384, 20, 21, 22);
  auto queries = clustered_vectors(30, 384, 20, 21, 23);  // the same centres, other points
  auto idx = built(data, kDefaultEfSearch);
  double r = recall_at_10(*idx, data, queries);
  INFO("recall@10: " << r);
  CHECK(r >= 0.95);
}
