// Images as model inputs: recognising a stored image value and sending it as a data: URL.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>

#include "store/media/media.hpp"
#include "store/model/vector.hpp"
#include "store/models/functions.hpp"
#include "store/models/metrics.hpp"
#include "util/json.hpp"

namespace pxt::models {

namespace {

constexpr size_t kMaxImageBytes = 20 << 20;  // OpenAI's limit for one image in a request

// "xx/<32 hex>.<ext>": a name media::new_relative_name gave (128 random bits), so a text that is
// not a stored file cannot pass for one by accident.
bool is_stored_name(const std::string& s) {
  if (s.size() < 36 || s[2] != '/' || s[35] != '.') return false;
  auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  if (!std::all_of(s.begin(), s.begin() + 2, hex) || !std::all_of(s.begin() + 3, s.begin() + 35, hex))
    return false;
  return s.compare(0, 2, s, 3, 2) == 0;
}

std::string base64(std::string_view in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += k[n >> 18];
    out += k[(n >> 12) & 63];
    out += k[(n >> 6) & 63];
    out += k[n & 63];
  }
  if (i < in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) n |= uint8_t(in[i + 1]) << 8;
    out += k[n >> 18];
    out += k[(n >> 12) & 63];
    out += i + 1 < in.size() ? k[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace

std::optional<Result<std::string>> image_input(const std::filesystem::path& media_dir,
                                               const std::string& value) {
  if (!is_stored_name(value)) return std::nullopt;
  std::string type(media::type_for_extension(value.substr(value.rfind('.'))));
  if (type.rfind("image/", 0) != 0) return std::nullopt;
  auto path = media::resolve(media_dir, value, true);
  if (!path) return std::nullopt;  // not a file here: the text is embedded as text
  std::ifstream in(*path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof())
    return Result<std::string>(make_error(Errc::io, "cannot read image '" + value + "'"));
  if (bytes.size() > kMaxImageBytes)
    return Result<std::string>(
        make_error(Errc::invalid_argument, "image '" + value + "' is larger than 20 MB"));
  return Result<std::string>("data:" + type + ";base64," + base64(bytes));
}

Result<Value> embed_image(Provider& provider, const ModelRef& ref, const std::string& data_url) {
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  write_key(w, "model");
  write_string(w, ref.model);
  write_key(w, "messages");
  w.StartArray();
  w.StartObject();
  write_key(w, "role");
  write_string(w, "user");
  write_key(w, "content");
  w.StartArray();
  w.StartObject();
  write_key(w, "type");
  write_string(w, "image_url");
  write_key(w, "image_url");
  w.StartObject();
  write_key(w, "url");
  write_string(w, data_url);
  w.EndObject();
  w.EndObject();
  w.EndArray();
  w.EndObject();
  w.EndArray();
  write_key(w, "encoding_format");
  write_string(w, "float");
  w.EndObject();
  model_stats(ref.provider, ref.model).observe_batch(1);
  PXT_TRY(Reply reply,
          provider.post_json("/embeddings", std::string(buf.GetString(), buf.GetSize()), ref.model));
  rapidjson::Document d;
  d.Parse(reply.body.c_str(), reply.body.size());
  auto bad = [&](const char* why) {
    return model_error(Failure::provider_error, ref.provider, ref.model,
                       std::string("malformed embeddings answer for an image: ") + why);
  };
  if (d.HasParseError() || !d.IsObject()) return bad("not a JSON object");
  const rapidjson::Value* data = member(d, "data");
  if (!data || !data->IsArray() || data->Size() != 1 || !(*data)[0].IsObject())
    return bad("expected one item in \"data\"");
  const rapidjson::Value* emb = member((*data)[0], "embedding");
  if (!emb) return bad("no \"embedding\"");
  auto packed = vec::from_json(*emb);
  if (!packed) return bad(packed.error().message.c_str());
  return Value(std::move(*packed));
}

}  // namespace pxt::models
