#include "serve/http/server.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "serve/app/app.hpp"
#include "serve/http/access_log.hpp"
#include "serve/http/banner.hpp"
#include "serve/http/reactor.hpp"
#include "serve/http/session.hpp"

namespace pxt {

namespace {

// Threads that run requests. Idle and slow connections cost none (serve/http/reactor.hpp), so
// this bounds the requests handled at once: enough for 64 concurrent clients whose requests
// wait on the store (group commit) or compute slow functions.
constexpr size_t kWorkerThreads = 80;
constexpr int kListenBacklog = 4096;

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

// SIGINT/SIGTERM: the handler only records the signal and writes a byte to a pipe (both
// async-signal-safe); a waiter thread wakes on the pipe and stops the server. The signals are also
// blocked in every thread the server creates, so the connection threads are never interrupted. Unlike a
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
  explicit SignalWaiter(Reactor& reactor) : reactor_(reactor) {}
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
    reactor_.stop();
  }

  Reactor& reactor_;
  int pipe_[2] = {-1, -1};
  bool installed_ = false;
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// A socket bound to host:port (0: any free port, written back) and listening. Like uvicorn:
// SO_REUSEADDR but not SO_REUSEPORT (a second server must not share the port), and an IPv6
// address accepts IPv4 clients too.
Result<int> bind_listener(const std::string& host, int& port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* result = nullptr;
  std::string service = std::to_string(port);
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &result) != 0)
    return make_error(Errc::invalid_argument, "cannot resolve host '" + host + "'");
  int err = EADDRNOTAVAIL;
  int fd = -1;
  for (addrinfo* a = result; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    int yes = 1, no = 0;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (a->ai_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &no, sizeof no);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, kListenBacklog) != 0) {
      err = errno;
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(result);
  if (fd < 0) return make_error(Errc::io, bind_error(host, port, err));
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    if (addr.ss_family == AF_INET) port = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    if (addr.ss_family == AF_INET6) port = ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  }
  return fd;
}

Result<int> serve(const ServiceSpec& service, const ServeApp& app, const ServerOptions& options,
                  const sigset_t& signals) {
  int port = service.port;
  PXT_TRY(int listen_fd, bind_listener(service.host, port));
  SessionShared shared(app, parse_log_format(options.log_format));
  Reactor reactor(shared, listen_fd, kWorkerThreads);
  SignalWaiter waiter(reactor);
  if (!waiter.start(signals)) {
    return make_error(Errc::internal, std::string("cannot set up signal handling: ") + std::strerror(errno));
  }
  // The banner comes before the threads start: the socket is already listening, and a request
  // answered first would put its access-log line above the banner.
  if (std::string warning = exposure_warning(service); !warning.empty())
    std::fwrite(warning.data(), 1, warning.size(), stderr);
  print_banner(service, port, app.route_count(), options.json_banner);
  if (!reactor.start()) {
    return make_error(Errc::internal,
                      std::string("cannot start the server threads: ") + std::strerror(errno));
  }
  if (options.on_listening) options.on_listening();
  reactor.wait();
  waiter.finish();
  if (waiter.signal() == SIGINT) return 130;
  return 0;
}

}  // namespace

ServeOutcome run_server(Store& store, const ServiceSpec& service, const std::vector<BoundRoute>& routes,
                        const ServerOptions& options) {
  auto created = ServeApp::create(store, service, routes);
  if (!created) return {created.error()};
  auto& app = *created;
  tune_allocator();
  raise_open_files_limit();
  // Block the signals before the server's threads start, so they inherit the mask (see
  // SignalWaiter). SIGPIPE is ignored so a closed log pipe cannot kill the server.
  sigset_t signals, previous;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, &previous);
  ::signal(SIGPIPE, SIG_IGN);
  Result<int> status = serve(service, *app, options, signals);
  // The HTTP server is down, so no job can be submitted. A job still running after the wait
  // cannot be stopped, and the store cannot be closed under it: exit now (its row is already
  // marked interrupted; SQLite rolls back its unfinished write).
  ServeOutcome outcome{std::move(status)};
  outcome.exit_now = !app->jobs().shutdown();
  if (!outcome.exit_now) pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return outcome;
}

}  // namespace pxt
