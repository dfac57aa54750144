// ServeApp::admit: what runs before a request's body is read (see app.hpp).
#include "serve/app/app.hpp"
#include "serve/http/response.hpp"

namespace pxt {

// Without a token a browser can still open /docs and /redoc: they are static pages that hold no
// service information and ask for the token. The spec itself is protected unless docs_public.
bool ServeApp::is_public(const httplib::Request& req) const {
  RouteMatch m = router_.match(req.method, req.path);
  if (m.kind != RouteMatch::Kind::Found) return false;
  switch (m.target->kind) {
    case Endpoint::Healthz:
    case Endpoint::Docs:
    case Endpoint::Redoc:
    case Endpoint::DocsAsset:
      return true;
    case Endpoint::OpenApi:
      return docs_public_;
    default:
      return false;
  }
}

bool ServeApp::reads_body(const httplib::Request& req) const {
  RouteMatch m = router_.match(req.method, req.path);
  return m.kind == RouteMatch::Kind::Found && m.target->kind == Endpoint::Route;
}

bool ServeApp::admit(const httplib::Request& req, httplib::Response& res) const noexcept {
  try {
    // Load balancers probe /healthz often and without credentials.
    if (req.path == "/healthz") return true;
    if (limiter_) {
      RateDecision d = limiter_->take(req.remote_addr);
      if (!d.allowed) {
        reply_detail(res, 429, "Rate limit exceeded: try again in " + std::to_string(d.retry_after_s) + " s");
        put_header(res, "Retry-After", std::to_string(d.retry_after_s));
        cors_.decorate(req, res);
        return false;
      }
    }
    // Browsers send preflights without credentials, so they are answered before auth.
    if (cors_.enabled() && Cors::is_preflight(req)) {
      cors_.answer_preflight(req, res);
      return false;
    }
    if (auth_.enabled() && !is_public(req)) {
      AuthResult r = auth_.check(req);
      if (r != AuthResult::Ok) {
        reply_unauthorized(res, r);
        cors_.decorate(req, res);
        return false;
      }
    }
    return true;
  } catch (const std::exception& e) {
    res.headers.clear();
    reply_internal(res, std::string("unhandled exception: ") + e.what());
    return false;
  }
}

}  // namespace pxt
