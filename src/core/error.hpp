#pragma once
// Error and Result<T>: errors are values inside the gateway (docs/dev/CONTRIBUTING.md, "Code style").
// An Error carries the HTTP status it maps to, the contract's snake_case code and a human message;
// http/error_response turns it into {"error":{"code","message"}} in one place.
#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace webstream {

struct Error {
  int status = 500;     // HTTP status this error answers with
  std::string code;     // contract code, e.g. "invalid_request"
  std::string message;  // human text; never contains a secret
  int retry_after = 0;  // seconds for a Retry-After header, 0: none

  static Error invalid(std::string message) { return {400, "invalid_request", std::move(message)}; }
  static Error not_found(std::string code, std::string message) { return {404, std::move(code), std::move(message)}; }
  static Error internal(std::string message) { return {500, "internal_error", std::move(message)}; }
  static Error conflict(std::string message) { return {409, "conflict", std::move(message)}; }
};

// Result<T>: either a T or an Error. Small on purpose; GCC 12 has no std::expected in C++20.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Error> v_;
};

// Result<void> spelled as Status.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design
  static Status success() { return {}; }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace webstream
