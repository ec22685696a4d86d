#include "http/message.h"

namespace tollgate::http {

const std::string* Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return &v;
  }
  return nullptr;
}

Response Response::text(int status, std::string body) {
  return {status, "text/plain; charset=utf-8", std::move(body), {}};
}
Response Response::json(int status, std::string body) {
  return {status, "application/json; charset=utf-8", std::move(body), {}};
}
Response Response::empty(int status) {
  return {status, {}, {}, {}};
}

}  // namespace tollgate::http
