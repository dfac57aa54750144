// Vector functions for computed columns and queries: similarity (cosine), inner_product and
// l2_distance. An argument is a Vector (stored embeddings, embed(...)) or a JSON array of numbers
// given as text ('[0.1, 0.2]'); both must have the same dimension. NULL gives NULL.
#include <cmath>

#include "store/functions/builtins.hpp"
#include "store/model/vector.hpp"

namespace pxt {

namespace {

Result<std::vector<float>> vector_arg(std::string_view fn, const FunctionContext& ctx,
                                      const std::vector<Value>& args, size_t i) {
  const auto* s = std::get_if<std::string>(&args[i]);
  auto bad = [&](const std::string& why) {
    return make_error(Errc::invalid_argument,
                      std::string(fn) + "(): argument " + std::to_string(i + 1) + " " + why);
  };
  if (!s) return bad("must be a Vector or a JSON array of numbers");
  if (ctx.blob_args & (1u << i)) {
    if (!vec::dimension(*s)) return bad("is not a Vector");
    return vec::unpack(*s);
  }
  auto packed = vec::from_json_text(*s);
  if (!packed) {
    return bad(
        "must be a Vector or a JSON array of numbers (to compare a text column with a query, give the "
        "column an embedding index: pxt create-index)");
  }
  return vec::unpack(*packed);
}

template <float (*Metric)(const float*, const float*, size_t)>
Result<Value> metric(std::string_view fn, const FunctionContext& ctx, const std::vector<Value>& args) {
  if (is_null(args[0]) || is_null(args[1])) return Value();
  PXT_TRY(std::vector<float> a, vector_arg(fn, ctx, args, 0));
  PXT_TRY(std::vector<float> b, vector_arg(fn, ctx, args, 1));
  if (a.size() != b.size())
    return make_error(Errc::invalid_argument,
                      std::string(fn) + "(): the vectors have different dimensions (" +
                          std::to_string(a.size()) + " and " + std::to_string(b.size()) + ")");
  return Value(static_cast<double>(Metric(a.data(), b.data(), a.size())));
}

SqlFunction vector_fn(const char* name,
                      Result<Value> (*impl)(const FunctionContext&, const std::vector<Value>&)) {
  SqlFunction f{name, 2, ColumnType::Float, true, nullptr};
  f.with_context = impl;
  return f;
}

}  // namespace

std::vector<SqlFunction> vector_functions() {
  return {
      vector_fn("similarity",
                [](const FunctionContext& c, const std::vector<Value>& a) {
                  return metric<vec::cosine>("similarity", c, a);
                }),
      vector_fn("inner_product",
                [](const FunctionContext& c, const std::vector<Value>& a) {
                  return metric<vec::dot>("inner_product", c, a);
                }),
      vector_fn("l2_distance",
                [](const FunctionContext& c, const std::vector<Value>& a) {
                  return metric<vec::l2_distance>("l2_distance", c, a);
                }),
  };
}

}  // namespace pxt
