#pragma once
// The HNSW graphs of one store's embedding indexes, backend-neutral: each graph is loaded from its
// folder (VectorIndex::save's pair) or rebuilt from the index's table of embeddings, caught up with
// that table before every query (a graph is a cache of the table: store/index/vector_index.hpp),
// saved after a build, once the changes since the last save are a sizeable share, and at close.
// Also the embeddings of query texts, cached per index (least recently used dropped first).
//
// The backend says how to read its table through a Source; everything else is here.
// Thread-safety: every method may be called from many threads; one load, build or catch-up of a
// graph runs at a time, searches of a caught-up graph run in parallel.
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "store/index/vector_index.hpp"
#include "store/model/schema.hpp"

namespace pxt {

class GraphCache {
 public:
  // dir: where the graphs are saved (created on the first save).
  explicit GraphCache(std::string dir) : dir_(std::move(dir)) {}

  // How to read an index's table of embeddings, in the caller's snapshot.
  struct Source {
    // The highest change number (seq) of the table; 0 when it is empty.
    std::function<Result<int64_t>()> max_seq;
    // Feeds the graph every row changed after `after` (every live row when after < 0), in seq
    // order, through graph.apply; returns how many rows it fed.
    std::function<Result<int64_t>(int64_t after, VectorIndex& graph)> feed;
  };
  // The graph of idx, caught up with the source (loaded or rebuilt the first time).
  Result<std::shared_ptr<VectorIndex>> synced(const IndexDef& idx, const Source& src);

  struct Status {
    double build_seconds = 0;
    bool loaded_from_disk = false;
  };
  // How the graph of index id was last made (zeros before its first use).
  Status status(int64_t id);

  // The cached embedding of a query text for index id, if any.
  std::optional<std::string> cached_query(int64_t id, const std::string& text);
  void remember_query(int64_t id, const std::string& text, const std::string& packed);

  // Forgets the graph of a dropped index and removes its files.
  void forget(int64_t id);
  // Saves the graphs changed since they were last saved (a store closing).
  void save_all();
  const std::string& dir() const { return dir_; }

 private:
  struct Entry {
    int64_t id = 0;
    std::mutex sync_mu;                  // one load, build or catch-up at a time
    std::shared_ptr<VectorIndex> graph;  // set once, under sync_mu
    double build_seconds = 0;
    bool from_disk = false;
    int64_t unsaved = 0;  // changes applied since the graph was last saved

    std::mutex cache_mu;  // query embeddings, least recently used last
    std::list<std::pair<std::string, std::string>> lru;
    std::unordered_map<std::string, std::list<std::pair<std::string, std::string>>::iterator> by_text;
  };
  std::shared_ptr<Entry> entry(int64_t id);

  std::string dir_;
  std::mutex mu_;
  std::map<int64_t, std::shared_ptr<Entry>> entries_;
};

}  // namespace pxt
