// libFuzzer target: the HTTP front door of pxt serve on raw request bytes, through the same
// connection protocol the server runs (serve/http/session.hpp): head scanning and strict framing,
// chunked and Content-Length bodies, the streaming multipart parser with our part collection and
// body limits, routing, JSON decoding and the handlers, over a real store in a temporary folder.
// Several requests may share one input (keep-alive, pipelining). The first byte picks how the
// rest is split into reads (1 to 64 bytes at a time, or all at once), so the incremental parsers
// see every split.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "serve/app/app.hpp"
#include "serve/config/config.hpp"
#include "serve/http/setup.hpp"

namespace {

const char* kModule = R"toml(dirs = ["app"]
[[tables]]
path = "app.t"
primary_key = ["id"]
columns = [
  { name = "id", type = "Int", required = true },
  { name = "name", type = "String" },
  { name = "score", type = "Float" },
  { name = "meta", type = "Json" },
  { name = "photo", type = "Image" },
  { name = "shout", type = "String", computed = "upper(name)" },
]
[[queries]]
name = "by_name"
table = "app.t"
match = ["name"]
)toml";

const char* kService = R"toml([[service]]
name = "fuzz"
modules = ["m"]
[[service.routes]]
type = "insert"
table = "app.t"
path = "/t"
[[service.routes]]
type = "insert"
table = "app.t"
path = "/u"
inputs = ["id", "name"]
uploadfile_inputs = ["photo"]
outputs = ["id", "photo"]
[[service.routes]]
type = "compute"
table = "app.t"
path = "/c"
[[service.routes]]
type = "delete"
table = "app.t"
path = "/d"
[[service.routes]]
type = "query"
path = "/q"
query = "m.by_name"
method = "get"
)toml";

struct Env {
  std::unique_ptr<pxt::Store> store;
  pxt::ServiceSpec service;
  std::vector<pxt::BoundRoute> routes;
  std::unique_ptr<pxt::ServeApp> app;
};

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "fuzz setup failed: %s\n", why.c_str());
  std::abort();
}

Env* make_env() {
  char dir_template[] = "/tmp/pxt-fuzz-XXXXXX";
  if (!mkdtemp(dir_template)) die("mkdtemp");
  std::string dir = dir_template;
  std::ofstream(dir + "/m.toml") << kModule;
  auto* env = new Env();
  auto services = pxt::load_services_text(kService, dir + "/service.toml");
  if (!services.ok()) die(services.error().message);
  env->service = (*services)[0];
  pxt::StoreOptions options;
  options.home = dir + "/home";
  auto store = pxt::Store::open(options);
  if (!store.ok()) die(store.error().message);
  env->store = std::move(*store);
  auto routes = pxt::bind_routes(*env->store, env->service);
  if (!routes.ok()) die(routes.error().message);
  env->routes = std::move(*routes);
  auto app = pxt::ServeApp::create(*env->store, env->service, env->routes);
  if (!app.ok()) die(app.error().message);
  env->app = std::move(*app);
  return env;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Env* env = make_env();
  if (size == 0) return 0;
  size_t chunk = data[0] < 64 ? data[0] + 1u : 0u;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  pxt::serve_bytes(*env->app, bytes, chunk, pxt::LogFormat::Off);
  return 0;
}
