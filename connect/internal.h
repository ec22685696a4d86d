// What connector.cc, webhook.cc and scim.cc share (private to connect/).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "connect/connector.h"
#include "connect/http.h"

namespace tollgate::connect {

// "https://hooks.acme.test/x": the URL as people see it in an answer, without its query
// (which may carry a receiver's token) and fragment.
std::string shown_url(const std::string& url);
// What an answer that is not a success means: no answer, 408, 429 and 5xx are transient
// (a 429 with its Retry-After); any other status failed. `text` goes after the status:
// "HTTP 500 from https://…: <text>".
Result http_failure(const HttpResponse& r, const std::string& url, const std::string& text);
// A result of `outcome` with `answer` and no status.
Result result(Outcome outcome, std::string answer, int http_status = 0);

// One webhook delivery of `body`, signed with `secret` at `now`; `done` runs on the
// client's thread. 202: accepted; other 2xx: done.
void deliver_webhook(const std::shared_ptr<HttpClient>& http, const Connector& connector,
                     const std::string& secret, const std::string& id, const std::string& body,
                     Time now, std::function<void(Result)> done);
// A signed {"type": "tollgate.ping"} event; any 2xx is done.
std::string ping_event(const std::string& app, Time now);

// The SCIM change of `job` (the group membership of its subject).
void run_scim(const std::shared_ptr<HttpClient>& http, const Connector& connector,
              const std::string& token, const Job& job, std::function<void(Result)> done);
// Checks `token` on the SCIM server (GET /Users) and looks up each of `groups`; `done`
// gets whether everything works and what was found, one clause each.
void check_scim(const std::shared_ptr<HttpClient>& http, const Connector& connector,
                const std::string& token, std::vector<std::string> groups,
                std::function<void(bool ok, std::string detail)> done);

}  // namespace tollgate::connect
