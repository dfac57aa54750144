#include "serve/http/server.hpp"

#include <httplib.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "serve/app/app.hpp"
#include "serve/http/access_log.hpp"
#include "serve/http/banner.hpp"
#include "serve/http/response.hpp"
#include "serve/http/setup.hpp"
#include "serve/http/slow_clients.hpp"
#include "serve/http/uploads.hpp"
#include "store/media/media.hpp"
#include "util/strings.hpp"

namespace pxt {

namespace {

// cpp-httplib parks one pool thread per keep-alive connection, so the pool must be larger than the
// number of concurrent clients we promise to serve (64).
constexpr size_t kWorkerThreads = 80;
// Bounded so that clients beyond the pool size still get a turn (a busy connection gives its
// thread back every kKeepAliveMaxCount requests), yet high enough that reconnects cost nothing.
constexpr size_t kKeepAliveMaxCount = 1000;
// An idle keep-alive connection holds a thread and delays shutdown by up to this long.
constexpr time_t kKeepAliveTimeoutSec = 2;
constexpr int kListenBacklog = 4096;
// Each file part becomes a temp file; a route has a handful of upload inputs.
constexpr size_t kMaxFileParts = 64;

bool expects_body(const httplib::Request& req) {
  auto cl = req.headers.find("Content-Length");
  if (cl != req.headers.end() && cl->second != "0") return true;
  return req.headers.find("Transfer-Encoding") != req.headers.end();
}

// Methods whose body httplib reads before calling a handler.
bool httplib_reads_body(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

// Brotli at httplib's fixed quality 11 costs milliseconds per response; gzip stays available.
// Range requests make no sense for API answers. The request object httplib passes is its own
// non-const local, so adjusting it here is well-defined.
void normalize_request(const httplib::Request& creq) {
  auto& req = const_cast<httplib::Request&>(creq);
  req.ranges.clear();
  auto ae = req.headers.find("Accept-Encoding");
  if (ae != req.headers.end() && ae->second.find("br") != std::string::npos) {
    bool gzip = ae->second.find("gzip") != std::string::npos;
    req.headers.erase(ae);
    if (gzip) req.headers.emplace("Accept-Encoding", "gzip");
  }
}

std::string too_large_detail(size_t limit) {
  return "request body too large: the limit is " + std::to_string(limit >> 20) + " MB";
}

// The body limit for a request: max_upload_mb for routes with uploads, else max_body_mb.
size_t body_limit(const ServeApp& app, const httplib::Request& req) {
  return app.upload_route(req) != nullptr ? app.max_upload_bytes() : app.max_body_bytes();
}

size_t declared_length(const httplib::Request& req) {
  auto cl = req.headers.find("Content-Length");
  return cl == req.headers.end() ? 0 : std::strtoull(cl->second.c_str(), nullptr, 10);
}

// Streams the file parts of a multipart body to temp files under media/.tmp (an upload never
// sits in memory), keeping only the text fields in req.files. `total` counts every byte. A failed
// write sets io_error to its errno (ENOSPC: the disk is full).
bool read_multipart_to_disk(const ServeApp& app, httplib::Request& req, const httplib::ContentReader& reader,
                            Uploads& uploads, size_t limit, bool& too_large, int& io_error, bool& too_many) {
  size_t total = 0, text_total = 0;
  std::FILE* out = nullptr;
  std::string* text = nullptr;
  std::vector<char> buffer(256 * 1024);
  auto close_out = [&] {
    if (out != nullptr && std::fclose(out) != 0) io_error = errno ? errno : EIO;
    out = nullptr;
  };
  bool ok = reader(
      [&](const httplib::MultipartFormData& part) {
        close_out();
        text = nullptr;
        if (part.filename.empty()) {
          text = &req.files.emplace(part.name, part)->second.content;
          return true;
        }
        if (uploads.parts.size() >= kMaxFileParts) {
          too_many = true;
          return false;
        }
        // Only a text document's extension is kept (it tells Markdown from plain text).
        std::string ext = to_lower(std::filesystem::path(part.filename).extension().string());
        if (ext != ".md" && ext != ".markdown" && ext != ".txt" && ext != ".html" && ext != ".htm")
          ext.clear();
        auto tmp = media::temp_file(app.media_dir(), ext);
        if (!tmp) {
          io_error = tmp.error().code == Errc::no_space ? ENOSPC : EIO;
          return false;
        }
        uploads.parts.push_back(UploadPart{part.name, part.filename, *tmp, 0});
        out = std::fopen(tmp->c_str(), "wb");
        if (out == nullptr) {
          io_error = errno ? errno : EIO;
          return false;
        }
        std::setvbuf(out, buffer.data(), _IOFBF, buffer.size());
        return true;
      },
      [&](const char* data, size_t n) {
        total += n;
        SlowClientPool::on_body_bytes(n);
        if (total > limit) {
          too_large = true;
          return false;
        }
        if (out != nullptr) {
          uploads.parts.back().size += n;
          if (std::fwrite(data, 1, n, out) != n) {
            io_error = errno ? errno : EIO;
            return false;
          }
        } else if (text != nullptr) {
          // Form fields stay in memory: they get the JSON body limit, not the upload one.
          text_total += n;
          if (text_total > app.max_body_bytes()) {
            too_large = true;
            return false;
          }
          text->append(data, n);
        }
        return true;
      });
  close_out();
  return ok && io_error == 0 && !too_large && !too_many;
}

// Reads the body with the service's limit enforced while reading: httplib checks a declared
// Content-Length, but would buffer a chunked body of any size.
void read_body_and_handle(const ServeApp& app, const httplib::Request& creq, httplib::Response& res,
                          const httplib::ContentReader& reader) {
  auto& req = const_cast<httplib::Request&>(creq);  // httplib's own non-const request
  const bool uploads_here = app.upload_route(req) != nullptr;
  const size_t limit = uploads_here ? app.max_upload_bytes() : app.max_body_bytes();
  if (declared_length(req) > limit) {
    // Refused unread (httplib's own check uses the larger of the two limits).
    reply_detail(res, 413, too_large_detail(limit));
    put_header(res, "Connection", "close");
    return;
  }
  SlowClientPool::on_body_start();
  if (uploads_here && req.is_multipart_form_data()) {
    Uploads uploads;
    bool too_large = false, too_many = false;
    int io_error = 0;
    bool ok = read_multipart_to_disk(app, req, reader, uploads, limit, too_large, io_error, too_many);
    SlowClientPool::on_headers_read();  // the body is in: no read deadline while handling
    if (!ok) {
      if (too_large) {
        reply_detail(res, 413, too_large_detail(limit));
      } else if (too_many) {
        reply_detail(res, 400, "too many files in one request: at most " + std::to_string(kMaxFileParts));
      } else if (media::is_no_space(io_error)) {
        reply_no_space(res,
                       std::string("cannot write an upload to the media folder: ") + std::strerror(io_error));
      } else if (io_error != 0) {
        reply_internal(res, "cannot write an upload to the media folder");
      } else {
        reply_detail(res, 400, "There was an error parsing the body");
      }
      put_header(res, "Connection", "close");
      SlowClientPool::close_after_response();
      return;
    }
    app.handle(req, res, &uploads);
    return;
  }
  size_t total = 0;
  bool too_large = false;
  // Reading stops at the first chunk past the limit (a chunked body declares no length); the
  // answer is a 413 and the connection is closed after it (close_after_response).
  auto fits = [&](size_t n) {
    total += n;
    SlowClientPool::on_body_bytes(n);
    if (total > limit) too_large = true;
    return !too_large;
  };
  auto keep_reading = [&]() { return !too_large; };
  bool ok = false;
  if (req.is_multipart_form_data()) {
    httplib::MultipartFormDataMap::iterator cur;
    ok = reader(
        [&](const httplib::MultipartFormData& file) {
          cur = req.files.emplace(file.name, file);
          return true;
        },
        [&](const char* data, size_t n) {
          if (fits(n)) cur->second.content.append(data, n);
          return keep_reading();
        });
  } else {
    ok = reader([&](const char* data, size_t n) {
      if (fits(n)) req.body.append(data, n);
      return keep_reading();
    });
  }
  SlowClientPool::on_headers_read();  // the body is in: no read deadline while handling
  if (too_large || res.status == 413 || !ok) {
    if (too_large || res.status == 413) {
      reply_detail(res, 413, too_large_detail(limit));
    } else {
      reply_detail(res, 400, "There was an error parsing the body");
    }
    // Part of the body may be unread: tell the client not to reuse the connection.
    if (!ok) {
      put_header(res, "Connection", "close");
      SlowClientPool::close_after_response();
    }
    return;
  }
  app.handle(req, res);
}

void configure(httplib::Server& svr, const ServeApp& app, LogFormat log_format) {
  svr.set_tcp_nodelay(true);
  svr.set_keep_alive_max_count(kKeepAliveMaxCount);
  svr.set_keep_alive_timeout(kKeepAliveTimeoutSec);
  // httplib's own check, before any handler: the larger limit; each route's is applied later.
  svr.set_payload_max_length(std::max(app.max_body_bytes(), app.max_upload_bytes()));
  svr.set_read_timeout(app.read_timeout());

  // Requests without a body are answered here, before httplib's regex dispatch. (httplib would
  // also wait for a body that a POST without Content-Length never sends.)
  svr.set_pre_routing_handler([&app](const httplib::Request& req, httplib::Response& res) {
    SlowClientPool::on_headers_read();
    log_request_start();
    normalize_request(req);
    bool body = expects_body(req);
    // Rate limit, CORS preflight and auth are decided before any body byte is read.
    if (!app.admit(req, res)) {
      if (body) put_header(res, "Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    }
    // A declared length over the limit is refused before any of the body is read (httplib
    // would read and discard all of it first).
    if (body && declared_length(req) > body_limit(app, req)) {
      reply_detail(res, 413, too_large_detail(body_limit(app, req)));
      app.decorate(req, res);
      put_header(res, "Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (body && httplib_reads_body(req.method)) return httplib::Server::HandlerResponse::Unhandled;
    app.handle(req, res);
    // An unread body would be parsed as the next request: end the connection instead.
    if (body) put_header(res, "Connection", "close");
    return httplib::Server::HandlerResponse::Handled;
  });
  auto with_body = [&app](const httplib::Request& req, httplib::Response& res,
                          const httplib::ContentReader& reader) {
    read_body_and_handle(app, req, res, reader);
  };
  svr.Post(".*", with_body);
  svr.Put(".*", with_body);
  svr.Patch(".*", with_body);
  svr.Delete(".*", with_body);

  // Refuse an oversized body before the client sends it (curl asks first for bodies over 1 MB).
  svr.set_expect_100_continue_handler([&app](const httplib::Request& req, httplib::Response& res) {
    SlowClientPool::on_headers_read();
    log_request_start();
    const size_t limit = body_limit(app, req);
    if (declared_length(req) > limit) {
      reply_detail(res, 413, too_large_detail(limit));
      put_header(res, "Connection", "close");
      return 413;
    }
    return 100;
  });
  // Statuses httplib produces itself (400, 413, 414, ...) get a FastAPI-shaped body. Returning
  // Handled also makes httplib set Content-Length on those non-routed responses.
  svr.set_error_handler(
      httplib::Server::HandlerWithResponse([&app](const httplib::Request& req, httplib::Response& res) {
        if (res.body.empty()) {
          reply_detail(res, res.status,
                       res.status == 413
                           ? too_large_detail(std::max(app.max_body_bytes(), app.max_upload_bytes()))
                           : std::string(status_phrase(res.status)));
        }
        app.decorate(req, res);
        return httplib::Server::HandlerResponse::Handled;
      }));
  // ServeApp::handle never throws; this is the last line of defence for httplib's own code.
  svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string why = "unhandled exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      why += std::string(": ") + e.what();
    } catch (...) {
    }
    res.headers.clear();
    reply_internal(res, why);
  });
  svr.set_logger([&app, log_format](const httplib::Request& req, const httplib::Response& res) {
    app.record(req, res.status, request_elapsed_seconds());
    write_access_log(log_format, req.remote_addr, req.method, req.path, res.status);
    SlowClientPool::on_response_written();
  });
}

std::string bind_error(const std::string& host, int port, int err) {
  switch (err) {
    case EADDRINUSE:
      return "port " + std::to_string(port) +
             " is already in use; stop what listens there or choose another with --port " +
             std::to_string(port == 65535 ? port - 1 : port + 1);
    case EACCES:
      return "permission denied to listen on port " + std::to_string(port) +
             " (ports below 1024 need privileges)";
    case EADDRNOTAVAIL:
      return "cannot listen on " + host + ": the address is not available on this machine";
    default:
      return "cannot listen on " + host + ":" + std::to_string(port) + ": " + std::strerror(err);
  }
}

bool resolves(const std::string& host) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* result = nullptr;
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), "0", &hints, &result) != 0) return false;
  freeaddrinfo(result);
  return true;
}

// SIGINT/SIGTERM: the handler only records the signal and writes a byte to a pipe (both
// async-signal-safe); a waiter thread wakes on the pipe and stops the server. The signals are also
// blocked in every thread the server creates, so httplib's workers are never interrupted. Unlike a
// bare sigwait, this stays correct when a thread started earlier (e.g. by the store) does not
// block them and the kernel delivers the signal there.
volatile sig_atomic_t g_signal = 0;
int g_wake_fd = -1;

extern "C" void on_stop_signal(int sig) {
  // A second signal during the graceful phase forces an immediate exit.
  if (g_signal != 0) _exit(sig == SIGINT ? 130 : 143);
  g_signal = sig;
  int saved = errno;
  if (g_wake_fd >= 0) {
    ssize_t n = ::write(g_wake_fd, "s", 1);
    (void)n;
  }
  errno = saved;
}

class SignalWaiter {
 public:
  explicit SignalWaiter(httplib::Server& svr) : svr_(svr) {}
  ~SignalWaiter() { finish(); }

  // Creates the wake-up pipe, installs the handlers and starts the waiter thread. False (with
  // errno) when the pipe cannot be created.
  bool start(const sigset_t& signals) {
    if (::pipe(pipe_) != 0) return false;
    g_signal = 0;
    g_wake_fd = pipe_[1];
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
    installed_ = true;
    thread_ = std::thread([this, signals] {
      pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
      run();
    });
    return true;
  }
  // Wakes and joins the thread (after the server stopped) and restores the previous handlers.
  void finish() {
    if (thread_.joinable()) {
      done_ = true;
      ssize_t n = ::write(pipe_[1], "d", 1);
      (void)n;
      thread_.join();
    }
    if (installed_) {
      sigaction(SIGINT, &old_int_, nullptr);
      sigaction(SIGTERM, &old_term_, nullptr);
      installed_ = false;
      g_wake_fd = -1;
      ::close(pipe_[0]);
      ::close(pipe_[1]);
    }
  }
  int signal() const { return static_cast<int>(g_signal); }

 private:
  void run() {
    char c = 0;
    while (::read(pipe_[0], &c, 1) < 0 && errno == EINTR) {
    }
    if (done_ || g_signal == 0) return;
    std::fprintf(stderr, "pxt: %s received, finishing in-flight requests\n",
                 g_signal == SIGINT ? "SIGINT" : "SIGTERM");
    // stop() is a no-op until listen_after_bind() has started; retry until it has.
    while (!done_ && !svr_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    svr_.stop();
  }

  httplib::Server& svr_;
  int pipe_[2] = {-1, -1};
  bool installed_ = false;
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

Result<int> serve(httplib::Server& svr, const ServiceSpec& service, const ServeApp& app,
                  const ServerOptions& options, const sigset_t& signals, int& bind_errno) {
  int listen_fd = -1;
  // Replaces httplib's default (SO_REUSEPORT, which would let a second server share the port).
  svr.set_socket_options([&listen_fd](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_fd = sock;
  });
  if (!resolves(service.host))
    return make_error(Errc::invalid_argument, "cannot resolve host '" + service.host + "'");
  errno = 0;
  int port = service.port;
  bool bound =
      port == 0 ? (port = svr.bind_to_any_port(service.host)) > 0 : svr.bind_to_port(service.host, port);
  if (!bound) {
    bind_errno = errno;
    return make_error(Errc::io, bind_error(service.host, service.port, bind_errno));
  }
  // httplib listens with a backlog of 5: bursts of connections would wait for SYN retransmits.
  if (listen_fd >= 0) ::listen(listen_fd, kListenBacklog);
  // cpp-httplib parks one pool thread per keep-alive connection; the pool also guards against
  // slow clients (serve/http/slow_clients.hpp), which needs the bound port.
  svr.new_task_queue = [&svr, &app, port] {
    return new SlowClientPool(kWorkerThreads, &svr, port, app.read_timeout());
  };

  SignalWaiter waiter(svr);
  if (!waiter.start(signals)) {
    return make_error(Errc::internal, std::string("cannot set up signal handling: ") + std::strerror(errno));
  }
  if (std::string warning = exposure_warning(service); !warning.empty())
    std::fwrite(warning.data(), 1, warning.size(), stderr);
  print_banner(service, port, app.route_count(), options.json_banner);
  if (options.on_listening) options.on_listening();
  bool ok = svr.listen_after_bind();
  waiter.finish();
  if (waiter.signal() == SIGINT) return 130;
  if (waiter.signal() == SIGTERM) return 0;
  if (!ok) return make_error(Errc::io, "the server stopped accepting connections");
  return 0;
}

}  // namespace

ServeOutcome run_server(Store& store, const ServiceSpec& service, const std::vector<BoundRoute>& routes,
                        const ServerOptions& options) {
  auto created = ServeApp::create(store, service, routes);
  if (!created) return {created.error()};
  auto& app = *created;
  // Block the signals before the server's threads start, so they inherit the mask (see
  // SignalWaiter). SIGPIPE is ignored so a closed log pipe cannot kill the server.
  sigset_t signals, previous;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, &previous);
  ::signal(SIGPIPE, SIG_IGN);
  Result<int> status = 1;
  int bind_errno = 0;
  {
    httplib::Server svr;
    configure(svr, *app, parse_log_format(options.log_format));
    status = serve(svr, service, *app, options, signals, bind_errno);
  }
  // The HTTP server is down, so no job can be submitted. A job still running after the wait
  // cannot be stopped, and the store cannot be closed under it: exit now (its row is already
  // marked interrupted; SQLite rolls back its unfinished write).
  ServeOutcome outcome{std::move(status)};
  outcome.bind_errno = bind_errno;
  outcome.exit_now = !app->jobs().shutdown();
  if (!outcome.exit_now) pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return outcome;
}

void configure_server(httplib::Server& svr, const ServeApp& app, LogFormat log_format) {
  configure(svr, app, log_format);
}

}  // namespace pxt
