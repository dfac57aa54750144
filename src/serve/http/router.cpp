#include "serve/http/router.hpp"

namespace pxt {

Result<void> Router::add_to(Entry& entry, std::string_view method, std::string_view path, Target target) {
  for (const auto& m : entry.methods) {
    if (m.first == method) {
      return make_error(Errc::invalid_argument,
                        "route already registered: " + std::string(method) + " '" + std::string(path) + "'");
    }
  }
  entry.methods.emplace_back(std::string(method), target);
  if (!entry.allow.empty()) entry.allow += ", ";
  entry.allow += method;
  return {};
}

Result<void> Router::add(std::string_view method, std::string_view path, Target target) {
  auto it = exact_.find(path);
  if (it == exact_.end()) it = exact_.emplace(std::string(path), Entry{}).first;
  return add_to(it->second, method, path, target);
}

Result<void> Router::add_prefix(std::string_view method, std::string_view prefix, Target target) {
  for (auto& p : prefixes_) {
    if (p.first == prefix) return add_to(p.second, method, prefix, target);
  }
  prefixes_.emplace_back(std::string(prefix), Entry{});
  return add_to(prefixes_.back().second, method, prefix, target);
}

RouteMatch Router::pick(const Entry& entry, std::string_view method) {
  RouteMatch m;
  for (const auto& candidate : entry.methods) {
    if (candidate.first == method) {
      m.kind = RouteMatch::Kind::Found;
      m.target = &candidate.second;
      return m;
    }
  }
  m.kind = RouteMatch::Kind::MethodNotAllowed;
  m.allow = entry.allow;
  return m;
}

RouteMatch Router::match(std::string_view method, std::string_view path) const {
  auto it = exact_.find(path);
  if (it != exact_.end()) return pick(it->second, method);
  for (const auto& p : prefixes_) {
    if (path.size() > p.first.size() && path.compare(0, p.first.size(), p.first) == 0) {
      RouteMatch m = pick(p.second, method);
      m.rest = path.substr(p.first.size());
      return m;
    }
  }
  return RouteMatch{};
}

bool Router::knows_path(std::string_view path) const {
  return match("", path).kind != RouteMatch::Kind::NotFound;
}

}  // namespace pxt
