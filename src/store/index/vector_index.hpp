#pragma once
// The in-memory HNSW graph of one embedding index (hnswlib, header-only, Debian's libhnswlib-dev),
// backend-neutral. The backend keeps the truth: one row per table row holding the embedding and a
// change number (seq) that grows with every insert, update and delete (a delete leaves the
// embedding NULL). This graph is a cache of that table as of seq synced(): the backend feeds it the
// rows changed since (apply) before it answers a query from it, so a graph left behind by a crash
// or by another process only costs a catch-up, never a wrong answer.
//
// On disk (the home's indexes/ folder): <id>.hnsw (hnswlib's own format) and <id>.meta (JSON: format,
// metric, dimension, seq, count), written to temporary names and renamed, so a crash mid-save
// leaves the previous pair. A pair whose metric or dimension differs from the catalog's, or whose
// seq is past the table's (a home restored from an older backup), is ignored and the graph rebuilt.
//
// Parameters: M = 16 and ef_construction = 64 (pgvector's and Pixeltable's defaults); ef_search
// per index (default 40, pgvector's). cosine indexes unit-length copies of the vectors with the
// inner-product space; ip the vectors as they are; l2 the squared Euclidean distance.
//
// Thread-safety: search() may run on many threads at once; apply(), save() and reset() take an
// exclusive lock, so searches wait for a catch-up to finish.
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace hnswlib {
template <typename T>
class SpaceInterface;
template <typename T>
class HierarchicalNSW;
}  // namespace hnswlib

namespace pxt {

enum class Metric { cosine, ip, l2 };
std::string_view metric_name(Metric m);
// "cosine" | "ip" | "l2" (case-insensitive). Error: invalid_argument listing them.
Result<Metric> parse_metric(std::string_view s);

inline constexpr int kHnswM = 16;
inline constexpr int kHnswEfConstruction = 64;
inline constexpr int kDefaultEfSearch = 40;

struct Neighbor {
  int64_t row;  // the backend's row id
  float score;  // similarity(): cosine similarity, inner product, or L2 distance
};

class VectorIndex {
 public:
  // An empty graph for vectors of `dimension` (0: unknown until the first vector).
  VectorIndex(Metric metric, size_t dimension, int ef_search);
  ~VectorIndex();
  VectorIndex(const VectorIndex&) = delete;
  VectorIndex& operator=(const VectorIndex&) = delete;

  Metric metric() const { return metric_; }
  size_t dimension() const;
  int64_t synced() const;  // the seq the graph reflects
  size_t size() const;     // vectors present (deleted ones excluded)

  // One changed row: its embedding (packed float32, store/model/vector.hpp) or nullopt when the
  // row is gone or has none. Error: invalid_argument for a dimension different from the graph's.
  struct Change {
    int64_t row;
    std::optional<std::string> vector;
    int64_t seq;
  };
  Result<void> apply(const std::vector<Change>& changes);
  // Forgets everything (before a rebuild).
  void reset();
  // The graph reflects the table up to seq (after feeding it every live row).
  void mark_synced(int64_t seq);

  // The k nearest rows to `query` (packed float32), best first, searching with
  // max(ef_search, k) candidates. Empty when the graph is empty.
  Result<std::vector<Neighbor>> search(const std::string& query, size_t k) const;

  // Saves the graph under dir/<name>.hnsw and .meta (atomically, see above). Error: io.
  Result<void> save(const std::string& dir, const std::string& name) const;
  // Loads a saved pair if it matches the metric, the dimension (when known) and is not past
  // max_seq; nullopt when there is none or it does not match.
  static std::unique_ptr<VectorIndex> load(const std::string& dir, const std::string& name, Metric metric,
                                           size_t dimension, int ef_search, int64_t max_seq);
  // Approximate memory the graph holds, in bytes.
  size_t memory_bytes() const;

 private:
  void create(size_t dimension, size_t capacity);
  std::vector<float> prepared(const std::string& packed) const;

  Metric metric_;
  int ef_search_;
  size_t dim_ = 0;
  int64_t synced_ = 0;
  size_t live_ = 0;
  mutable std::shared_mutex mu_;
  std::unique_ptr<hnswlib::SpaceInterface<float>> space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph_;
};

}  // namespace pxt
