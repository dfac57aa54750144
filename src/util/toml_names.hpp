#pragma once
// Names of TOML value kinds for error messages ("expected a string, got an integer"), shared by
// the service loader and the schema module loader. Pure, thread-safe.
#include <toml.hpp>

#include <string_view>

namespace pxt {
inline std::string_view toml_kind_name(toml::value_t t) {
  switch (t) {
    case toml::value_t::boolean:
      return "a boolean";
    case toml::value_t::integer:
      return "an integer";
    case toml::value_t::floating:
      return "a float";
    case toml::value_t::string:
      return "a string";
    case toml::value_t::array:
      return "an array";
    case toml::value_t::table:
      return "a table";
    case toml::value_t::empty:
      return "nothing";
    default:
      return "a date/time";
  }
}
}  // namespace pxt
