// HTTP requests and responses as plain values, so that request handling is a
// function that can be tested without a socket. The server converts to and
// from Beast's types; nothing of Beast appears here.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tollgate::http {

struct Request {
  std::string method;                                        // "GET", "POST"
  std::string target;                                        // "/slack/events?x=1"
  std::string path;                                          // "/slack/events"
  std::string query;                                         // "x=1"
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;
  std::string remote;  // "127.0.0.1:53122"
  // Runs `work` later on this connection's network thread (its strand), for a
  // handler that goes on after an asynchronous step: a store's completion
  // runs on the store's writer, which must not be kept busy. Null outside a
  // server: the caller runs the work itself.
  std::function<void(std::function<void()>)> resume;

  const std::string* header(std::string_view lower_case_name) const;
};

struct Response {
  int status = 200;
  std::string content_type;  // empty: no body type
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static Response text(int status, std::string body);
  static Response json(int status, std::string body);
  static Response empty(int status = 200);
};

// Completes a request. Call exactly once, from any thread.
using Respond = std::function<void(Response)>;
// Handles one request; may respond later (after a durable commit, say).
using Handler = std::function<void(Request, Respond)>;

}  // namespace tollgate::http
