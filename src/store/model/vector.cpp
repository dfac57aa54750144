#include "store/model/vector.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace pxt::vec {

static_assert(sizeof(float) == 4 && std::numeric_limits<float>::is_iec559, "Vectors are IEEE float32");

std::string pack(std::span<const float> v) {
  std::string out(v.size() * 4, '\0');
  if (!v.empty()) std::memcpy(out.data(), v.data(), out.size());  // x86-64 and arm64 are little-endian
  return out;
}

std::optional<size_t> dimension(std::string_view bytes) {
  if (bytes.empty() || bytes.size() % 4 != 0) return std::nullopt;
  return bytes.size() / 4;
}

std::vector<float> unpack(std::string_view bytes) {
  std::vector<float> v(bytes.size() / 4);
  if (!v.empty()) std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

float at(std::string_view bytes, size_t i) {
  float f;
  std::memcpy(&f, bytes.data() + i * 4, 4);
  return f;
}

Result<std::string> from_json(const rapidjson::Value& v) {
  if (!v.IsArray()) return make_error(Errc::invalid_argument, "a Vector is a JSON array of numbers");
  if (v.Empty()) return make_error(Errc::invalid_argument, "a Vector cannot be an empty array");
  std::vector<float> out;
  out.reserve(v.Size());
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    const auto& e = v[i];
    if (!e.IsNumber())
      return make_error(Errc::invalid_argument,
                        "a Vector holds numbers; element " + std::to_string(i) + " is not one");
    double d = e.GetDouble();
    if (!std::isfinite(d) || std::fabs(d) > std::numeric_limits<float>::max())
      return make_error(Errc::invalid_argument, "element " + std::to_string(i) + " is out of float32 range");
    out.push_back(static_cast<float>(d));
  }
  return pack(out);
}

Result<std::string> from_json_text(std::string_view text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  if (d.HasParseError()) return make_error(Errc::invalid_argument, "a Vector is a JSON array of numbers");
  return from_json(d);
}

void write_json(JsonWriter& w, std::string_view bytes) {
  w.StartArray();
  size_t n = bytes.size() / 4;
  char buf[32];
  for (size_t i = 0; i < n; ++i) {
    float f = at(bytes, i);
    if (!std::isfinite(f)) f = 0;  // never stored (checked on the way in); JSON has no NaN
    auto r = std::to_chars(buf, buf + sizeof buf, f);
    w.RawValue(buf, static_cast<size_t>(r.ptr - buf), rapidjson::kNumberType);
  }
  w.EndArray();
}

std::string to_json_text(std::string_view bytes) {
  JsonBuffer buf;
  JsonWriter w(buf);
  write_json(w, bytes);
  return std::string(buf.GetString(), buf.GetSize());
}

float dot(const float* a, const float* b, size_t n) {
  // Four partial sums let the compiler vectorise without -ffast-math reassociation.
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

float cosine(const float* a, const float* b, size_t n) {
  // In double, and as dot / sqrt(|a|^2 |b|^2): a vector's similarity with itself is exactly 1.
  double ab = 0, na = 0, nb = 0;
  for (size_t i = 0; i < n; ++i) {
    ab += double(a[i]) * b[i];
    na += double(a[i]) * a[i];
    nb += double(b[i]) * b[i];
  }
  if (na <= 0 || nb <= 0) return 0;
  return static_cast<float>(ab / std::sqrt(na * nb));
}

float l2_distance(const float* a, const float* b, size_t n) {
  float s = 0;
  for (size_t i = 0; i < n; ++i) {
    float d = a[i] - b[i];
    s += d * d;
  }
  return std::sqrt(s);
}

void normalize(std::vector<float>& v) {
  float n = std::sqrt(dot(v.data(), v.data(), v.size()));
  if (n <= 0) return;
  for (float& x : v) x /= n;
}

}  // namespace pxt::vec
