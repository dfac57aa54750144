#pragma once
// Our own dispatch (httplib's is a list of std::regex tried in order): an exact-path hash map plus
// a few path prefixes (/docs/assets/, <prefix>/media/, <prefix>/jobs/). Built once at start, then
// read-only: match() is thread-safe and allocation-free.
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "util/result.hpp"

namespace pxt {

enum class Endpoint { Route, OpenApi, Docs, Redoc, DocsAsset, Healthz, Media, Jobs, Metrics };

struct Target {
  Endpoint kind = Endpoint::Route;
  size_t route = 0;  // Endpoint::Route: index into the service's routes
};

struct RouteMatch {
  enum class Kind { Found, NotFound, MethodNotAllowed };
  Kind kind = Kind::NotFound;
  const Target* target = nullptr;
  std::string_view allow;  // MethodNotAllowed: the Allow header ("GET, POST")
  std::string_view rest;   // prefix targets: the path after the prefix
};

class Router {
 public:
  // Adds an exact path. The same method and path twice is invalid_argument
  // ("route already registered: POST '/x'").
  Result<void> add(std::string_view method, std::string_view path, Target target);
  // Adds a prefix (ending in '/'): matches every longer path starting with it.
  Result<void> add_prefix(std::string_view method, std::string_view prefix, Target target);

  RouteMatch match(std::string_view method, std::string_view path) const;
  // True when some method is registered for the path (exact or under a prefix).
  bool knows_path(std::string_view path) const;

 private:
  struct Entry {
    std::vector<std::pair<std::string, Target>> methods;
    std::string allow;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  static Result<void> add_to(Entry& entry, std::string_view method, std::string_view path, Target target);
  static RouteMatch pick(const Entry& entry, std::string_view method);

  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> exact_;
  std::vector<std::pair<std::string, Entry>> prefixes_;
};

}  // namespace pxt
