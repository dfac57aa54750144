#include "serve/http/banner.hpp"

#include <unistd.h>

#include <cstdio>

#include "util/json.hpp"

namespace pxt {

std::string display_host(const std::string& host) {
  if (host.empty() || host == "0.0.0.0" || host == "::" || host == "*" || host == "[::]") return "localhost";
  if (host.find(':') != std::string::npos && host.front() != '[') return "[" + host + "]";
  return host;
}

std::string banner_text(const ServiceSpec& service, int port, size_t routes, bool json) {
  std::string base = "http://" + display_host(service.host) + ":" + std::to_string(port);
  std::string url = base + service.prefix;
  std::string docs = base + "/docs";
  if (json) {
    JsonBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    // Pixeltable's record says "status"; "event" stays for scripts written against earlier pxt.
    write_key(w, "status");
    write_string(w, "started");
    write_key(w, "event");
    write_string(w, "started");
    write_key(w, "service");
    write_string(w, service.name);
    write_key(w, "url");
    write_string(w, url);
    write_key(w, "host");
    write_string(w, service.host);
    write_key(w, "port");
    w.Int(port);
    write_key(w, "prefix");
    write_string(w, service.prefix);
    write_key(w, "routes");
    w.Uint64(routes);
    write_key(w, "docs_url");
    write_string(w, docs);
    write_key(w, "openapi_url");
    write_string(w, base + "/openapi.json");
    write_key(w, "pid");
    w.Int(static_cast<int>(::getpid()));
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize()) + "\n";
  }
  std::string name = service.name.empty() ? std::string() : "'" + service.name + "' ";
  return "Service " + name + "running on " + url + " with " + std::to_string(routes) +
         (routes == 1 ? " route" : " routes") + "; docs at " + docs + "\n";
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

std::string exposure_warning(const ServiceSpec& service) {
  if (!service.auth_tokens.empty() || is_loopback_host(service.host)) return "";
  return "pxt: warning: serving without authentication on " + service.host +
         ": anyone who can reach this address can read and write the served tables; set auth_tokens in "
         "[service] (or --auth-token), or bind to 127.0.0.1\n";
}

void print_banner(const ServiceSpec& service, int port, size_t routes, bool json) {
  std::string line = banner_text(service, port, routes, json);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

}  // namespace pxt
