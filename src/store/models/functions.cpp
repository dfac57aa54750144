// The model functions for computed columns and queries: chat, chat_completion and embed (calls to
// OpenAI-compatible providers), registered by store/functions/registry.cpp.
#include "store/models/functions.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "store/media/media.hpp"
#include "store/model/vector.hpp"
#include "store/models/batcher.hpp"
#include "store/models/metrics.hpp"
#include "util/json.hpp"

namespace pxt::models {

namespace {

Error arg_error(std::string_view fn, const std::string& why) {
  return make_error(Errc::invalid_argument, std::string(fn) + "(): " + why);
}

// The model argument as provider and model; the provider must be configured.
Result<std::pair<std::shared_ptr<Provider>, ModelRef>> model_arg(std::string_view fn, const Value& v) {
  const auto* s = std::get_if<std::string>(&v);
  if (!s) return arg_error(fn, "the model must be a text such as 'openai/gpt-4o-mini'");
  PXT_TRY(ModelRef ref, parse_model_ref(*s));
  PXT_TRY(auto provider, provider_for(ref));
  return std::make_pair(std::move(provider), std::move(ref));
}

// A Json options argument: an object whose keys go into the request (NULL: none).
Result<std::optional<rapidjson::Document>> options_arg(std::string_view fn, const std::vector<Value>& args,
                                                       size_t at) {
  if (args.size() <= at || is_null(args[at])) return std::optional<rapidjson::Document>();
  const auto* s = std::get_if<std::string>(&args[at]);
  rapidjson::Document d;
  if (s) d.Parse(s->c_str(), s->size());
  if (!s || d.HasParseError() || !d.IsObject())
    return arg_error(fn,
                     "options must be a JSON object, e.g. json_object('temperature', 0, 'max_tokens', 100)");
  for (const char* reserved : {"model", "messages", "stream", "input"}) {
    if (d.HasMember(reserved)) return arg_error(fn, std::string("options cannot set '") + reserved + "'");
  }
  return std::optional<rapidjson::Document>(std::move(d));
}

// {"model": m, "messages": <messages>, ...options}: `system` in options becomes a first system
// message; every other option key is copied as is (temperature, max_tokens, response_format, ...).
std::string chat_body(const std::string& model, const rapidjson::Value& messages,
                      const std::optional<rapidjson::Document>& options) {
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  write_key(w, "model");
  write_string(w, model);
  write_key(w, "messages");
  w.StartArray();
  if (options) {
    if (const rapidjson::Value* sys = member(*options, "system")) {
      w.StartObject();
      write_key(w, "role");
      write_string(w, "system");
      write_key(w, "content");
      sys->Accept(w);
      w.EndObject();
    }
  }
  for (const auto& m : messages.GetArray()) m.Accept(w);
  w.EndArray();
  if (options) {
    for (const auto& [k, v] : options->GetObject()) {
      if (std::string_view(k.GetString(), k.GetStringLength()) == "system") continue;
      w.Key(k.GetString(), k.GetStringLength());
      v.Accept(w);
    }
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

// Sends a chat request; returns the parsed answer (usage counted).
Result<rapidjson::Document> call_chat(Provider& p, const ModelRef& ref, const std::string& body) {
  PXT_TRY(Reply reply, p.post_json("/chat/completions", body, ref.model));
  rapidjson::Document d;
  d.Parse(reply.body.c_str(), reply.body.size());
  if (d.HasParseError() || !d.IsObject())
    return model_error(
        Failure::provider_error, ref.provider, ref.model,
        "malformed chat answer: not a JSON object (" + std::to_string(reply.body.size()) + " bytes)");
  if (const rapidjson::Value* usage = member(d, "usage")) {
    auto get = [&](const char* k) -> int64_t {
      const rapidjson::Value* m = member(*usage, k);
      return m && m->IsInt64() ? m->GetInt64() : 0;
    };
    model_stats(ref.provider, ref.model).count_tokens(get("prompt_tokens"), get("completion_tokens"));
  }
  return d;
}

Result<Value> chat(const std::vector<Value>& args) {
  if (is_null(args[0])) return Value();
  const auto* prompt = std::get_if<std::string>(&args[0]);
  if (!prompt) return arg_error("chat", "the prompt must be a text");
  PXT_TRY(auto target, model_arg("chat", args[1]));
  PXT_TRY(auto options, options_arg("chat", args, 2));
  rapidjson::Document messages(rapidjson::kArrayType);
  auto& alloc = messages.GetAllocator();
  rapidjson::Value user(rapidjson::kObjectType);
  user.AddMember("role", "user", alloc);
  user.AddMember("content",
                 rapidjson::Value(prompt->c_str(), static_cast<rapidjson::SizeType>(prompt->size()), alloc),
                 alloc);
  messages.PushBack(user, alloc);
  const ModelRef& ref = target.second;
  PXT_TRY(rapidjson::Document d, call_chat(*target.first, ref, chat_body(ref.model, messages, options)));
  const rapidjson::Value* choices = member(d, "choices");
  if (!choices || !choices->IsArray() || choices->Empty() || !(*choices)[0].IsObject())
    return model_error(Failure::provider_error, ref.provider, ref.model, "malformed chat answer: no choices");
  const rapidjson::Value* message = member((*choices)[0], "message");
  if (!message || !message->IsObject())
    return model_error(Failure::provider_error, ref.provider, ref.model, "malformed chat answer: no message");
  const rapidjson::Value* content = member(*message, "content");
  if (!content || content->IsNull()) return Value();  // e.g. a tool call
  if (!content->IsString())
    return model_error(Failure::provider_error, ref.provider, ref.model,
                       "malformed chat answer: content is not text");
  return Value(std::string(content->GetString(), content->GetStringLength()));
}

Result<Value> chat_completion(const std::vector<Value>& args) {
  if (is_null(args[0])) return Value();
  const auto* text = std::get_if<std::string>(&args[0]);
  rapidjson::Document messages;
  if (text) messages.Parse(text->c_str(), text->size());
  if (!text || messages.HasParseError() || !messages.IsArray() || messages.Empty())
    return arg_error(
        "chat_completion",
        "messages must be a non-empty JSON array of {\"role\", \"content\"} objects, e.g. "
        "json_array(json_object('role', 'user', 'content', prompt)); for one prompt use chat(prompt, "
        "model)");
  for (const auto& m : messages.GetArray()) {
    if (!m.IsObject() || !m.HasMember("role"))
      return arg_error("chat_completion", "each message must be an object with a \"role\"");
  }
  PXT_TRY(auto target, model_arg("chat_completion", args[1]));
  PXT_TRY(auto options, options_arg("chat_completion", args, 2));
  const ModelRef& ref = target.second;
  PXT_TRY(rapidjson::Document d, call_chat(*target.first, ref, chat_body(ref.model, messages, options)));
  JsonBuffer buf;
  JsonWriter w(buf);
  d.Accept(w);
  return Value(std::string(buf.GetString(), buf.GetSize()));
}

// Many calls at once (a multi-row write's chat() calls): on up to kMaxCallThreads threads, each
// call still within its provider's max_concurrency.
constexpr size_t kMaxCallThreads = 64;

std::vector<Result<Value>> concurrently(const std::vector<std::vector<Value>>& calls,
                                        Result<Value> (*fn)(const std::vector<Value>&)) {
  std::vector<Result<Value>> out(calls.size(), Result<Value>(Value()));
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < calls.size();) out[i] = fn(calls[i]);
  };
  size_t threads = std::min(calls.size(), kMaxCallThreads);
  std::vector<std::thread> pool;
  for (size_t i = 1; i < threads; ++i) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  return out;
}

}  // namespace

Result<Value> embed_value(const FunctionContext& ctx, const std::vector<Value>& args) {
  if (is_null(args[0])) return Value();
  const auto* input = std::get_if<std::string>(&args[0]);
  if (!input) return arg_error("embed", "the input must be a text or an Image");
  PXT_TRY(auto target, model_arg("embed", args[1]));
  const ModelRef& ref = target.second;
  if (auto image = image_input(ctx.media_dir, *input)) {
    PXT_TRY(std::string url, *image);
    return embed_image(*target.first, ref, url);
  }
  PXT_TRY(std::string packed, embed_batched(*target.first, ref.model, *input));
  return Value(std::move(packed));
}

// embed() for many calls at once: the texts of each model in concurrent batches; images one by one.
std::vector<Result<Value>> embed_batch(const FunctionContext& ctx,
                                       const std::vector<std::vector<Value>>& calls) {
  std::vector<Result<Value>> out(calls.size(), Result<Value>(Value()));
  std::map<std::string, std::vector<size_t>> by_model;  // model text -> calls embedding a text
  for (size_t i = 0; i < calls.size(); ++i) {
    const auto& args = calls[i];
    const auto* text = std::get_if<std::string>(&args[0]);
    const auto* model = std::get_if<std::string>(&args[1]);
    if (!text || !model || image_input(ctx.media_dir, *text)) {
      out[i] = embed_value(ctx, args);  // NULL, a bad argument, or an image
      continue;
    }
    by_model[*model].push_back(i);
  }
  for (const auto& [model, which] : by_model) {
    auto target = model_arg("embed", Value(model));
    if (!target) {
      for (size_t i : which) out[i] = target.error();
      continue;
    }
    std::vector<std::string> texts;
    for (size_t i : which) texts.push_back(std::get<std::string>(calls[i][0]));
    auto vectors = embed_texts(*target->first, target->second.model, texts);
    for (size_t k = 0; k < which.size(); ++k) {
      out[which[k]] =
          vectors[k] ? Result<Value>(Value(std::move(*vectors[k]))) : Result<Value>(vectors[k].error());
    }
  }
  return out;
}

std::vector<SqlFunction> model_functions() {
  std::vector<SqlFunction> out;
  for (int arity : {2, 3}) {
    SqlFunction c{"chat", arity, ColumnType::String, false, chat};
    c.compute_ahead = true;
    c.batch = [](const FunctionContext&, const std::vector<std::vector<Value>>& calls) {
      return concurrently(calls, chat);
    };
    out.push_back(c);
    SqlFunction cc{"chat_completion", arity, ColumnType::Json, false, chat_completion};
    cc.compute_ahead = true;
    cc.batch = [](const FunctionContext&, const std::vector<std::vector<Value>>& calls) {
      return concurrently(calls, chat_completion);
    };
    out.push_back(cc);
  }
  SqlFunction e{"embed", 2, ColumnType::Vector, true, nullptr};
  e.with_context = embed_value;
  e.compute_ahead = true;
  e.batch = embed_batch;
  out.push_back(e);
  return out;
}

}  // namespace pxt::models
