// The HNSW graph of an embedding index (see vector_index.hpp).
#include "store/index/vector_index.hpp"

#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "store/model/vector.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

namespace fs = std::filesystem;

constexpr int kMetaFormat = 1;

std::unique_ptr<hnswlib::SpaceInterface<float>> make_space(Metric m, size_t dim) {
  if (m == Metric::l2) return std::make_unique<hnswlib::L2Space>(dim);
  return std::make_unique<hnswlib::InnerProductSpace>(dim);
}

// hnswlib's distance -> the score similarity() answers.
float score_of(Metric m, float distance) {
  switch (m) {
    case Metric::cosine:
    case Metric::ip:
      return 1.0f - distance;  // the inner-product space's distance is 1 - dot
    case Metric::l2:
      return std::sqrt(std::max(0.0f, distance));
  }
  return distance;
}

}  // namespace

std::string_view metric_name(Metric m) {
  switch (m) {
    case Metric::cosine:
      return "cosine";
    case Metric::ip:
      return "ip";
    case Metric::l2:
      return "l2";
  }
  return "cosine";
}

Result<Metric> parse_metric(std::string_view s) {
  if (iequals(s, "cosine")) return Metric::cosine;
  if (iequals(s, "ip")) return Metric::ip;
  if (iequals(s, "l2")) return Metric::l2;
  return make_error(Errc::invalid_argument, "unknown metric '" + std::string(s) + "'" +
                                                did_you_mean(s, {"cosine", "ip", "l2"}) +
                                                " (metrics: cosine, ip, l2)");
}

VectorIndex::VectorIndex(Metric metric, size_t dimension, int ef_search)
    : metric_(metric), ef_search_(ef_search), dim_(dimension) {}

VectorIndex::~VectorIndex() = default;

size_t VectorIndex::dimension() const {
  std::shared_lock lock(mu_);
  return dim_;
}

int64_t VectorIndex::synced() const {
  std::shared_lock lock(mu_);
  return synced_;
}

size_t VectorIndex::size() const {
  std::shared_lock lock(mu_);
  return live_;
}

void VectorIndex::create(size_t dimension, size_t capacity) {
  dim_ = dimension;
  space_ = make_space(metric_, dimension);
  graph_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(space_.get(), std::max<size_t>(capacity, 1024),
                                                             kHnswM, kHnswEfConstruction);
  graph_->setEf(static_cast<size_t>(ef_search_));
}

std::vector<float> VectorIndex::prepared(const std::string& packed) const {
  std::vector<float> v = vec::unpack(packed);
  if (metric_ == Metric::cosine) vec::normalize(v);
  return v;
}

void VectorIndex::mark_synced(int64_t seq) {
  std::unique_lock lock(mu_);
  synced_ = std::max(synced_, seq);
}

void VectorIndex::reset() {
  std::unique_lock lock(mu_);
  graph_.reset();
  space_.reset();
  synced_ = 0;
  live_ = 0;
}

Result<void> VectorIndex::apply(const std::vector<Change>& changes) {
  std::unique_lock lock(mu_);
  std::vector<const Change*> added;  // rows new to the graph, inserted in parallel below
  std::unordered_map<int64_t, size_t> added_at;
  for (const auto& c : changes) {
    synced_ = std::max(synced_, c.seq);
    if (c.vector) {
      size_t n = c.vector->size() / 4;
      if (n == 0 || c.vector->size() % 4 != 0)
        return make_error(Errc::invalid_argument, "a stored embedding is not a Vector");
      if (!graph_) create(dim_ != 0 ? dim_ : n, changes.size());
      if (n != dim_) {
        return make_error(Errc::invalid_argument, "an embedding has " + std::to_string(n) +
                                                      " dimensions; the index holds " + std::to_string(dim_));
      }
      auto label = static_cast<hnswlib::labeltype>(c.row);
      auto found = graph_->label_lookup_.find(label);
      if (found == graph_->label_lookup_.end()) {
        auto [it, fresh] = added_at.emplace(c.row, added.size());
        if (fresh) {
          added.push_back(&c);
        } else {
          added[it->second] = &c;  // changed twice: the later state wins
        }
        continue;
      }
      bool live_before = !graph_->isMarkedDeleted(found->second);
      std::vector<float> v = prepared(*c.vector);
      graph_->addPoint(v.data(), label);  // an update (and an undelete) of the existing point
      if (!live_before) ++live_;
    } else if (graph_) {
      if (auto it = added_at.find(c.row); it != added_at.end()) {
        added[it->second] = nullptr;  // added and gone within this batch
        added_at.erase(it);
        continue;
      }
      auto found = graph_->label_lookup_.find(static_cast<hnswlib::labeltype>(c.row));
      if (found != graph_->label_lookup_.end() && !graph_->isMarkedDeleted(found->second)) {
        graph_->markDelete(static_cast<hnswlib::labeltype>(c.row));
        --live_;
      }
    }
  }
  added.erase(std::remove(added.begin(), added.end(), nullptr), added.end());
  if (added.empty()) return {};
  size_t need = graph_->cur_element_count + added.size();
  if (need > graph_->max_elements_) graph_->resizeIndex(std::max(need, graph_->max_elements_ * 2));
  // hnswlib inserts distinct points from several threads at once (its own per-node locks): a
  // build of 100,000 vectors uses every core.
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  auto worker = [&] {
    std::vector<float> v;
    for (size_t i; (i = next.fetch_add(1)) < added.size();) {
      v = prepared(*added[i]->vector);
      try {
        graph_->addPoint(v.data(), static_cast<hnswlib::labeltype>(added[i]->row));
      } catch (const std::exception&) {
        failed = true;  // hnswlib refuses only past its capacity, which was reserved above
      }
    }
  };
  size_t threads = added.size() >= 512 ? std::max(1u, std::thread::hardware_concurrency()) : 1;
  std::vector<std::thread> pool;
  for (size_t i = 1; i < threads; ++i) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  live_ += added.size();
  if (failed) return make_error(Errc::internal, "the HNSW graph refused a vector");
  return {};
}

Result<std::vector<Neighbor>> VectorIndex::search(const std::string& query, size_t k) const {
  std::shared_lock lock(mu_);
  std::vector<Neighbor> out;
  if (!graph_ || live_ == 0 || k == 0) return out;
  if (query.size() != dim_ * 4) {
    return make_error(Errc::invalid_argument, "the query's embedding has " +
                                                  std::to_string(query.size() / 4) +
                                                  " dimensions; the index holds " + std::to_string(dim_));
  }
  std::vector<float> q = prepared(query);
  auto found = graph_->searchKnn(q.data(), std::min(k, live_));
  out.resize(found.size());
  for (size_t i = out.size(); i-- > 0;) {  // the queue pops the farthest first
    out[i] = Neighbor{static_cast<int64_t>(found.top().second), score_of(metric_, found.top().first)};
    found.pop();
  }
  return out;
}

size_t VectorIndex::memory_bytes() const {
  std::shared_lock lock(mu_);
  if (!graph_) return 0;
  size_t per = graph_->size_data_per_element_ + sizeof(void*) + sizeof(int);
  size_t upper = 0;
  for (size_t i = 0; i < graph_->cur_element_count; ++i)
    upper +=
        graph_->element_levels_[i] > 0 ? graph_->size_links_per_element_ * graph_->element_levels_[i] : 0;
  return graph_->max_elements_ * per + upper + graph_->label_lookup_.size() * 32;
}

Result<void> VectorIndex::save(const std::string& dir, const std::string& name) const {
  std::shared_lock lock(mu_);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error(Errc::io, "cannot create " + dir + ": " + ec.message());
  fs::path graph = fs::path(dir) / (name + ".hnsw"), meta = fs::path(dir) / (name + ".meta");
  fs::path graph_tmp = graph.string() + ".tmp", meta_tmp = meta.string() + ".tmp";
  uintmax_t bytes = 0;
  if (graph_) {
    graph_->saveIndex(graph_tmp.string());
    bytes = fs::file_size(graph_tmp, ec);
    if (ec)
      return make_error(Errc::io, "cannot save the index to " + graph_tmp.string() + ": " + ec.message());
  }
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  write_key(w, "format");
  w.Int(kMetaFormat);
  write_key(w, "metric");
  write_string(w, metric_name(metric_));
  write_key(w, "dimension");
  w.Uint64(dim_);
  write_key(w, "seq");
  w.Int64(synced_);
  write_key(w, "live");
  w.Uint64(live_);
  write_key(w, "bytes");
  w.Uint64(bytes);
  w.EndObject();
  {
    std::ofstream out(meta_tmp, std::ios::binary | std::ios::trunc);
    out << buf.GetString();
    out.flush();
    if (!out) return make_error(Errc::io, "cannot write " + meta_tmp.string());
  }
  // The graph first: a crash between the renames leaves an old meta, whose size check fails.
  if (graph_) fs::rename(graph_tmp, graph, ec);
  if (!ec) fs::rename(meta_tmp, meta, ec);
  if (ec) return make_error(Errc::io, "cannot save the index in " + dir + ": " + ec.message());
  return {};
}

std::unique_ptr<VectorIndex> VectorIndex::load(const std::string& dir, const std::string& name, Metric metric,
                                               size_t dimension, int ef_search, int64_t max_seq) {
  fs::path graph = fs::path(dir) / (name + ".hnsw"), meta = fs::path(dir) / (name + ".meta");
  std::ifstream in(meta, std::ios::binary);
  if (!in) return nullptr;
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  rapidjson::Document d;
  d.Parse(s.c_str(), s.size());
  if (d.HasParseError() || !d.IsObject()) return nullptr;
  auto num = [&](const char* k) -> int64_t {
    const rapidjson::Value* m = member(d, k);
    return m && m->IsInt64() ? m->GetInt64() : -1;
  };
  const rapidjson::Value* m = member(d, "metric");
  if (num("format") != kMetaFormat || !m || !m->IsString() ||
      std::string_view(m->GetString()) != metric_name(metric))
    return nullptr;
  int64_t dim = num("dimension"), seq = num("seq"), live = num("live"), bytes = num("bytes");
  if (dim < 0 || seq < 0 || live < 0 || bytes < 0 || seq > max_seq) return nullptr;
  if (dimension != 0 && dim != 0 && static_cast<size_t>(dim) != dimension) return nullptr;
  auto idx = std::make_unique<VectorIndex>(metric, static_cast<size_t>(dim), ef_search);
  if (bytes > 0) {
    std::error_code ec;
    if (fs::file_size(graph, ec) != static_cast<uintmax_t>(bytes) || ec) return nullptr;
    try {
      idx->space_ = make_space(metric, static_cast<size_t>(dim));
      idx->graph_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(idx->space_.get(), graph.string());
      idx->graph_->setEf(static_cast<size_t>(ef_search));
    } catch (const std::exception&) {
      return nullptr;  // corrupted or from another hnswlib: rebuilt by the caller
    }
  }
  idx->synced_ = seq;
  idx->live_ = static_cast<size_t>(live);
  return idx;
}

}  // namespace pxt
