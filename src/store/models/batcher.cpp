// embed() batching across concurrent calls (see batcher.hpp).
#include "store/models/batcher.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "store/model/vector.hpp"
#include "store/models/metrics.hpp"
#include "util/blocking.hpp"
#include "util/json.hpp"

namespace pxt::models {

namespace {

using Clock = std::chrono::steady_clock;

std::atomic<int> g_waiting{0};

struct Batch {
  std::vector<std::string> inputs;                // distinct texts, in arrival order
  std::unordered_map<std::string, size_t> index;  // text -> position in inputs
  bool closed = false;                            // taken by its leader for sending
  bool done = false;
  std::vector<std::string> vectors;  // packed, aligned with inputs
  std::optional<Error> error;
};

struct Queue {
  std::mutex mu;
  std::condition_variable cv;  // batch filled (leader) or batch answered (members)
  std::shared_ptr<Batch> open;
  Clock::time_point last_arrival{};
  int sending = 0;  // batches of this model sent and not yet answered
};

Queue& queue_for(const Provider& provider, const std::string& model) {
  static std::mutex mu;
  static auto* queues = new std::map<std::pair<const Provider*, std::string>, std::unique_ptr<Queue>>();
  std::lock_guard lock(mu);
  auto& q = (*queues)[{&provider, model}];
  if (!q) q = std::make_unique<Queue>();
  return *q;
}

std::string request_body(const std::string& model, const std::vector<std::string>& inputs) {
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  write_key(w, "model");
  write_string(w, model);
  write_key(w, "input");
  w.StartArray();
  for (const auto& s : inputs) write_string(w, s);
  w.EndArray();
  write_key(w, "encoding_format");
  write_string(w, "float");
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

// {"data": [{"index": i, "embedding": [...]}, ...], "usage": {...}} -> one packed vector per input.
Result<std::vector<std::string>> parse_answer(const Provider& p, const std::string& model,
                                              const std::string& body, size_t expected) {
  auto bad = [&](const std::string& why) {
    return model_error(Failure::provider_error, p.config().name, model,
                       "malformed embeddings answer: " + why);
  };
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  if (d.HasParseError() || !d.IsObject()) return bad("not a JSON object");
  const rapidjson::Value* data = member(d, "data");
  if (!data || !data->IsArray()) return bad("no \"data\" list");
  if (data->Size() != expected)
    return bad(std::to_string(data->Size()) + " embeddings for " + std::to_string(expected) + " inputs");
  std::vector<std::string> out(expected);
  size_t dim = 0;
  for (rapidjson::SizeType k = 0; k < data->Size(); ++k) {
    const auto& item = (*data)[k];
    if (!item.IsObject()) return bad("item " + std::to_string(k) + " is not an object");
    size_t at = k;
    if (const rapidjson::Value* idx = member(item, "index")) {
      if (!idx->IsUint() || idx->GetUint() >= expected)
        return bad("item " + std::to_string(k) + " has a bad index");
      at = idx->GetUint();
    }
    const rapidjson::Value* emb = member(item, "embedding");
    if (!emb) return bad("item " + std::to_string(k) + " has no \"embedding\"");
    auto packed = vec::from_json(*emb);
    if (!packed) return bad("item " + std::to_string(k) + ": " + packed.error().message);
    size_t n = packed->size() / 4;
    if (dim != 0 && n != dim)
      return bad("embeddings of different dimensions (" + std::to_string(dim) + " and " + std::to_string(n) +
                 ")");
    dim = n;
    if (!out[at].empty()) return bad("index " + std::to_string(at) + " answered twice");
    out[at] = std::move(*packed);
  }
  if (const rapidjson::Value* usage = member(d, "usage")) {
    const rapidjson::Value* tokens = member(*usage, "prompt_tokens");
    if (tokens && tokens->IsInt64()) model_stats(p.config().name, model).count_tokens(tokens->GetInt64(), 0);
  }
  return out;
}

// Sends the batch (the caller leads it and holds a slot) and records its outcome.
void send_batch(Provider& p, const std::string& model, Batch& b, Provider::Slot slot) {
  model_stats(p.config().name, model).observe_batch(b.inputs.size());
  auto reply = p.post_json("/embeddings", request_body(model, b.inputs), model, std::move(slot));
  if (!reply) {
    b.error = reply.error();
    return;
  }
  auto vectors = parse_answer(p, model, reply->body, b.inputs.size());
  if (!vectors) {
    b.error = vectors.error();
    return;
  }
  b.vectors = std::move(*vectors);
}

}  // namespace

int embed_calls_waiting() { return g_waiting.load(std::memory_order_relaxed); }

std::vector<Result<std::string>> embed_texts(Provider& provider, const std::string& model,
                                             const std::vector<std::string>& texts) {
  const size_t per = static_cast<size_t>(provider.config().max_batch);
  const size_t chunks = (texts.size() + per - 1) / per;
  std::vector<Result<std::string>> out(texts.size(), Result<std::string>(std::string()));
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t c; (c = next.fetch_add(1)) < chunks;) {
      Batch b;
      size_t first = c * per, last = std::min(texts.size(), first + per);
      b.inputs.assign(texts.begin() + static_cast<long>(first), texts.begin() + static_cast<long>(last));
      send_batch(provider, model, b, provider.reserve());
      for (size_t i = first; i < last; ++i) {
        out[i] =
            b.error ? Result<std::string>(*b.error) : Result<std::string>(std::move(b.vectors[i - first]));
      }
    }
  };
  size_t threads = std::min<size_t>(chunks, static_cast<size_t>(provider.config().max_concurrency));
  std::vector<std::thread> pool;
  for (size_t i = 1; i < threads; ++i) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  return out;
}

Result<std::string> embed_batched(Provider& provider, const std::string& model, const std::string& text) {
  about_to_block();  // every caller waits at least for one upstream request
  const ProviderConfig& cfg = provider.config();
  const auto window = std::chrono::milliseconds(cfg.batch_window_ms);
  const size_t max_batch = static_cast<size_t>(cfg.max_batch);
  Queue& q = queue_for(provider, model);
  g_waiting.fetch_add(1, std::memory_order_relaxed);
  struct Done {
    ~Done() { g_waiting.fetch_sub(1, std::memory_order_relaxed); }
  } done;

  std::unique_lock lock(q.mu);
  Clock::time_point now = Clock::now();
  bool busy = q.sending > 0 || now - q.last_arrival < window;
  q.last_arrival = now;
  std::shared_ptr<Batch> b = q.open;
  if (b && (b->index.count(text) || b->inputs.size() < max_batch)) {
    // Join the open batch and wait for its answer.
    auto [it, fresh] = b->index.emplace(text, b->inputs.size());
    if (fresh) b->inputs.push_back(text);
    size_t at = it->second;
    if (b->inputs.size() >= max_batch) q.cv.notify_all();  // wake the leader early
    q.cv.wait(lock, [&] { return b->done; });
    if (b->error) return *b->error;
    return b->vectors[at];
  }
  // Lead a new batch.
  b = std::make_shared<Batch>();
  b->index.emplace(text, 0);
  b->inputs.push_back(text);
  q.open = b;
  if (busy && window.count() > 0) {
    q.cv.wait_until(lock, now + window, [&] { return b->inputs.size() >= max_batch; });
  }
  // The batch stays open while a slot is awaited: under load it fills meanwhile.
  lock.unlock();
  Provider::Slot slot = provider.reserve();
  lock.lock();
  b->closed = true;
  if (q.open == b) q.open = nullptr;
  ++q.sending;
  lock.unlock();
  send_batch(provider, model, *b, std::move(slot));
  lock.lock();
  --q.sending;
  b->done = true;
  q.cv.notify_all();
  if (b->error) return *b->error;
  return b->vectors[0];
}

}  // namespace pxt::models
