// The graphs of a store's embedding indexes (graph_cache.hpp).
#include "store/index/graph_cache.hpp"

#include <algorithm>
#include <filesystem>

namespace pxt {

namespace {

constexpr size_t kQueryCacheEntries = 1024;

}  // namespace

std::shared_ptr<GraphCache::Entry> GraphCache::entry(int64_t id) {
  std::lock_guard lock(mu_);
  auto& e = entries_[id];
  if (!e) {
    e = std::make_shared<Entry>();
    e->id = id;
  }
  return e;
}

Result<std::shared_ptr<VectorIndex>> GraphCache::synced(const IndexDef& idx, const Source& src) {
  std::shared_ptr<Entry> e = entry(idx.id);
  PXT_TRY(int64_t max_seq, src.max_seq());
  std::lock_guard lock(e->sync_mu);
  PXT_TRY(Metric metric, parse_metric(idx.metric));
  if (!e->graph) {
    auto start = std::chrono::steady_clock::now();
    std::shared_ptr<VectorIndex> g = VectorIndex::load(
        dir_, std::to_string(idx.id), metric, static_cast<size_t>(idx.dimension), idx.ef_search, max_seq);
    e->from_disk = g != nullptr;
    if (!g) {
      // Missing, stale or damaged on disk: rebuilt from the index's table.
      g = std::make_shared<VectorIndex>(metric, static_cast<size_t>(idx.dimension), idx.ef_search);
      PXT_CHECK(src.feed(-1, *g));
      g->mark_synced(max_seq);
      e->unsaved = 1;
    }
    e->graph = g;
    e->build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  if (e->graph->synced() < max_seq) {
    PXT_TRY(int64_t n, src.feed(e->graph->synced(), *e->graph));
    e->graph->mark_synced(max_seq);
    e->unsaved += n;
  }
  // Saving costs about as much as reading the graph back; a crash only costs a catch-up from the
  // table, so the graph is saved after a build and once the changes since are a sizeable share.
  if (e->unsaved > 0 &&
      (!e->from_disk || e->unsaved >= std::max<int64_t>(10000, int64_t(e->graph->size() / 4)))) {
    if (e->graph->save(dir_, std::to_string(idx.id)).ok()) {
      e->unsaved = 0;
      e->from_disk = true;
    }
  }
  return e->graph;
}

GraphCache::Status GraphCache::status(int64_t id) {
  std::shared_ptr<Entry> e = entry(id);
  std::lock_guard lock(e->sync_mu);
  return Status{e->build_seconds, e->from_disk};
}

std::optional<std::string> GraphCache::cached_query(int64_t id, const std::string& text) {
  std::shared_ptr<Entry> e = entry(id);
  std::lock_guard lock(e->cache_mu);
  auto it = e->by_text.find(text);
  if (it == e->by_text.end()) return std::nullopt;
  e->lru.splice(e->lru.begin(), e->lru, it->second);
  return it->second->second;
}

void GraphCache::remember_query(int64_t id, const std::string& text, const std::string& packed) {
  std::shared_ptr<Entry> e = entry(id);
  std::lock_guard lock(e->cache_mu);
  if (e->by_text.count(text)) return;
  e->lru.emplace_front(text, packed);
  e->by_text[text] = e->lru.begin();
  if (e->lru.size() > kQueryCacheEntries) {
    e->by_text.erase(e->lru.back().first);
    e->lru.pop_back();
  }
}

void GraphCache::forget(int64_t id) {
  {
    std::lock_guard lock(mu_);
    entries_.erase(id);
  }
  std::error_code ec;
  for (const char* ext : {".hnsw", ".meta", ".hnsw.tmp", ".meta.tmp"})
    std::filesystem::remove(std::filesystem::path(dir_) / (std::to_string(id) + ext), ec);
}

void GraphCache::save_all() {
  std::vector<std::shared_ptr<Entry>> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, e] : entries_) all.push_back(e);
  }
  for (auto& e : all) {
    std::lock_guard lock(e->sync_mu);
    if (!e->graph || e->unsaved == 0) continue;
    if (e->graph->save(dir_, std::to_string(e->id)).ok()) e->unsaved = 0;
  }
}

}  // namespace pxt
