#include "serve/config/route_spec.hpp"

namespace pxt {

std::string_view route_type_name(RouteType t) {
  switch (t) {
    case RouteType::Insert:
      return "insert";
    case RouteType::Update:
      return "update";
    case RouteType::Delete:
      return "delete";
    case RouteType::Query:
      return "query";
    case RouteType::Compute:
      return "compute";
  }
  return "insert";  // unreachable: every enumerator is handled above
}

}  // namespace pxt
