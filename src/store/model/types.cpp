#include "store/model/types.hpp"

#include <array>

#include "util/strings.hpp"

namespace pxt {

namespace {
constexpr std::array<std::string_view, 13> kNames = {"String", "Int",      "Float", "Bool",  "Timestamp",
                                                     "Date",   "Json",     "Array", "Image", "Video",
                                                     "Audio",  "Document", "Vector"};
}  // namespace

std::string_view type_name(ColumnType t) { return kNames[static_cast<size_t>(t)]; }

Result<ColumnType> parse_column_type(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (iequals(kNames[i], name)) return static_cast<ColumnType>(i);
  }
  return make_error(Errc::invalid_argument, "unknown column type '" + std::string(name) + "'" +
                                                did_you_mean(name, all_type_names()) +
                                                " (types: " + join(all_type_names(), ", ") + ")");
}

const std::vector<std::string>& all_type_names() {
  static const std::vector<std::string> names(kNames.begin(), kNames.end());
  return names;
}

bool is_media(ColumnType t) {
  return t == ColumnType::Image || t == ColumnType::Video || t == ColumnType::Audio ||
         t == ColumnType::Document;
}

}  // namespace pxt
