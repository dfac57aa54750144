// libFuzzer target: the HTTP front door as pxt serve configures it, on raw request bytes: request
// line and headers, chunked and Content-Length bodies, multipart/form-data parsing (cpp-httplib's
// parser with our part collection and body limit), routing, JSON decoding and the handlers, over a
// real store in a temporary folder. Several requests may share one input (keep-alive).
#include <httplib.h>
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

// Reads the fuzz input; answers are discarded.
class MemStream : public httplib::Stream {
 public:
  MemStream(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool is_readable() const override { return pos_ < size_; }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    size_t n = std::min(size, size_ - pos_);
    std::memcpy(ptr, data_ + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char*, size_t size) override { return static_cast<ssize_t>(size); }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 40000;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 8000;
  }
  socket_t socket() const override { return INVALID_SOCKET; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

struct FuzzServer : httplib::Server {
  using httplib::Server::process_request;
};

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
  FuzzServer svr;
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
  pxt::configure_server(env->svr, *env->app, pxt::LogFormat::Text);
  env->svr.set_logger([](const httplib::Request&, const httplib::Response&) {});  // quiet
  return env;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Env* env = make_env();
  MemStream stream(data, size);
  bool closed = false;
  for (int i = 0; i < 4 && stream.is_readable() && !closed; ++i) {
    if (!env->svr.process_request(stream, false, closed, [](httplib::Request&) {})) break;
  }
  return 0;
}
