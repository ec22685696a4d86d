#include "base/status.h"

namespace tollgate {

std::string_view code_name(Code code) {
  switch (code) {
    case Code::ok:
      return "ok";
    case Code::invalid_argument:
      return "invalid_argument";
    case Code::not_found:
      return "not_found";
    case Code::permission_denied:
      return "permission_denied";
    case Code::rule_refused:
      return "rule_refused";
    case Code::conflict:
      return "conflict";
    case Code::version_conflict:
      return "version_conflict";
    case Code::duplicate:
      return "duplicate";
    case Code::unavailable:
      return "unavailable";
    case Code::internal:
      return "internal";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (ok()) return "ok";
  std::string s(code_name(code_));
  s += ": ";
  s += message_;
  return s;
}

}  // namespace tollgate
