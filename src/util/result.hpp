#pragma once
// Result<T>: a value or an Error, in the style of tl::expected (not packaged in Debian 12).
// Low layers return Result; the CLI's single top-level catch turns a thrown pxt::Failure into
// `pxt: error: ...` and an exit status, and HTTP handlers answer an Error through its Pixeltable
// error code (util/error_code.hpp: the error contract, from the failing layer to the HTTP body).
#include <string>
#include <utility>
#include <variant>

#include "util/error_code.hpp"

namespace pxt {

enum class Errc {
  invalid_argument,  // bad input from the user (CLI 1 / HTTP 400 or 422)
  not_found,         // HTTP 404
  already_exists,    // HTTP 409
  conflict,          // HTTP 409 (e.g. one_row with many rows, schema changed)
  schema_changed,    // table dropped or altered after a route was registered (HTTP 409)
  busy,              // store locked past the wait limit (HTTP 503)
  unsupported,       // feature not available (yet)
  io,                // filesystem or network failure
  no_space,          // the disk (or a quota or file size limit) is full (HTTP 507)
  internal,          // a bug or an unexpected backend failure (HTTP 500)
};

struct Error {
  Errc code = Errc::internal;
  std::string message;
  // Pixeltable's code for this failure when the layer that failed knows it (a duplicate key is
  // CONSTRAINT_VIOLATION, a provider's 429 RATE_LIMITED); none: default_error_code(code) applies.
  ErrorCode pxt_code = ErrorCode::none;
  std::string cause;        // the message of the error that caused this one; "" when none
  double retry_after = -1;  // seconds a retry should wait (a provider's Retry-After); < 0: unknown
  std::string provider;     // model-provider errors: the provider's name ("" otherwise)
  int provider_status = 0;  // model-provider errors: the provider's HTTP status (0: none)
};

inline Error make_error(Errc code, std::string message) { return Error{code, std::move(message)}; }
// An error with Pixeltable's code; its Errc is the code's group (errc_of).
inline Error make_error(ErrorCode code, std::string message) {
  Error e{errc_of(code), std::move(message)};
  e.pxt_code = code;
  return e;
}
// `e` answered with `code` (its Errc unchanged).
inline Error with_code(Error e, ErrorCode code) {
  e.pxt_code = code;
  return e;
}
// The code an error is answered with: its own, else the default for its Errc.
inline ErrorCode effective_code(const Error& e) {
  return e.pxt_code != ErrorCode::none ? e.pxt_code : default_error_code(e.code);
}

// Thrown only where a caller cannot handle the error (the top level catches it).
struct Failure : std::exception {
  Error error;
  explicit Failure(Error e) : error(std::move(e)) {}
  const char* what() const noexcept override { return error.message.c_str(); }
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }
  // Returns the value or throws Failure: for top-level code only.
  T take() && {
    if (!ok()) throw Failure(error());
    return std::get<0>(std::move(v_));
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return err_; }
  void take() && {
    if (!ok_) throw Failure(err_);
  }

 private:
  Error err_;
  bool ok_ = true;
};

// Propagates an error from a Result-returning expression: PXT_TRY(auto x, f());
#define PXT_CONCAT_(a, b) a##b
#define PXT_CONCAT(a, b) PXT_CONCAT_(a, b)
#define PXT_TRY_IMPL(tmp, decl, expr) \
  auto tmp = (expr);                  \
  if (!tmp.ok()) return tmp.error();  \
  decl = std::move(tmp).value()
#define PXT_TRY(decl, expr) PXT_TRY_IMPL(PXT_CONCAT(pxt_try_, __LINE__), decl, expr)
// The temporary is named after the line so that a PXT_CHECK inside a lambda that is itself the
// argument of a PXT_CHECK does not shadow the outer one (-Wshadow, an error in CI).
#define PXT_CHECK_IMPL(tmp, expr)      \
  do {                                 \
    auto tmp = (expr);                 \
    if (!tmp.ok()) return tmp.error(); \
  } while (0)
#define PXT_CHECK(expr) PXT_CHECK_IMPL(PXT_CONCAT(pxt_check_, __LINE__), expr)

}  // namespace pxt
