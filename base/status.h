// Status and StatusOr: how every module of Tollgate reports failure.
//
// No exception crosses a module border. A function that can fail returns a
// [[nodiscard]] Status (or StatusOr<T>) whose code says which kind of failure it
// is, so that the Slack edge and the admin API can turn each into the right
// answer (an HTTP status, a message to the clicker). Tests assert the code.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace tollgate {

enum class Code {
  ok = 0,
  invalid_argument,   // the input is malformed or names nothing (HTTP 400)
  not_found,          // the task, person or app does not exist (404)
  permission_denied,  // the actor may not do this to this task (403)
  rule_refused,       // a policy rule refuses it: reason missing, self-review, ... (422)
  conflict,           // the task is not in a state that allows it: already decided (409)
  version_conflict,   // a concurrent writer changed the task first; retry (409)
  duplicate,          // this delivery was already processed (dedupe key seen)
  unavailable,        // the store cannot be reached or is shutting down (503)
  internal,           // a bug or a corrupted record (500)
};

std::string_view code_name(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok_status() { return {}; }

  bool ok() const { return code_ == Code::ok; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "rule_refused: a reason is required to deny".
  std::string to_string() const;

 private:
  Code code_ = Code::ok;
  std::string message_;
};

inline Status invalid_argument(std::string m) {
  return {Code::invalid_argument, std::move(m)};
}
inline Status not_found(std::string m) {
  return {Code::not_found, std::move(m)};
}
inline Status permission_denied(std::string m) {
  return {Code::permission_denied, std::move(m)};
}
inline Status rule_refused(std::string m) {
  return {Code::rule_refused, std::move(m)};
}
inline Status conflict(std::string m) {
  return {Code::conflict, std::move(m)};
}
inline Status unavailable(std::string m) {
  return {Code::unavailable, std::move(m)};
}
inline Status internal_error(std::string m) {
  return {Code::internal, std::move(m)};
}

// A value or the Status that explains its absence. Never holds an ok Status
// without a value.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT
    assert(!status_.ok() && "StatusOr needs a value or an error");
    if (status_.ok()) status_ = internal_error("StatusOr built from an ok Status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  Code code() const { return status_.code(); }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T&& operator*() && { return std::move(*value_); }

 private:
  Status status_;
  std::optional<T> value_;
};

// The Status a Status or a StatusOr carries, for the macros below.
inline const Status& status_of(const Status& s) {
  return s;
}
template <typename T>
const Status& status_of(const StatusOr<T>& s) {
  return s.status();
}

}  // namespace tollgate

// RETURN_IF_ERROR(expr): evaluates expr (a Status or a StatusOr) once and returns its Status
// from the enclosing function when it is not ok. In the style of Abseil's status_macros.h.
#define RETURN_IF_ERROR(expr)                                                   \
  do {                                                                          \
    if (const ::tollgate::Status tg_status_ = ::tollgate::status_of(expr);      \
        !tg_status_.ok())                                                       \
      return tg_status_;                                                        \
  } while (0)

// ASSIGN_OR_RETURN(lhs, expr): evaluates expr (a StatusOr<T>) once; returns its Status from the
// enclosing function when it holds none, else moves its value into lhs, which may declare a
// variable ("ASSIGN_OR_RETURN(auto task, store.get(id));"). A statement, not an expression.
#define ASSIGN_OR_RETURN(lhs, expr) \
  TG_ASSIGN_OR_RETURN_IMPL(TG_STATUS_CONCAT(tg_status_or_, __LINE__), lhs, expr)
#define TG_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
#define TG_STATUS_CONCAT(a, b) TG_STATUS_CONCAT_INNER(a, b)
#define TG_STATUS_CONCAT_INNER(a, b) a##b
