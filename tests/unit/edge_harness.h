// The edge in-process, for unit tests: a Router (and the AdminApi it serves
// /api/ with) over a real SQLite store in a temporary folder, the test
// organisation (tests/support/test_org.h) on a manual clock, and no Slack
// client (nothing is sent; what a clicker would be told is only logged). A
// request is a value and so is the answer (http/message.h): no socket, no
// child process.
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "app/identity.h"
#include "app/task_service.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/metrics.h"
#include "edge/admin_api.h"
#include "edge/router.h"
#include "storage/store.h"
#include "tests/support/slack_requests.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_org.h"

namespace tollgate::testing {

inline constexpr const char* kTeam = "T0TEST";
inline constexpr const char* kApiToken = "edge-test-token-0123456789abcdef0123";

class EdgeHarness : public ::testing::Test {
 protected:
  // False: the workspace is not known yet (auth.test has not answered), until a test sets it.
  bool workspace_known_ = true;

  void SetUp() override {
    auto s = open_store("sqlite:" + dir_.file("edge.db"));
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    store_ = std::move(*s);
    // With delegations, as the process has them (process.cc).
    auto delegations = std::make_shared<DelegationBook>();
    service_ = std::make_unique<TaskService>(
        *store_, std::make_shared<Engine>(world_.dir, world_.clock, delegations), delegations);
    ASSERT_TRUE(service_->load_delegations().ok());
    identity_ = std::make_unique<Identity>(world_.dir, *store_, nullptr, world_.clock);
    if (workspace_known_) identity_->set_workspace(kTeam, "");
    // Slack's signatures are fresh in real time, as in the process (process.cc).
    router_ = std::make_unique<Router>(RouterOptions{kSigningSecret}, *service_, *store_,
                                       *identity_, nullptr, metrics_, system_clock_);
    api_ = std::make_unique<AdminApi>(kApiToken, *service_, *store_);
    router_->set_admin_api(api_.get());
  }

  // Completions still running on the store's writer (after their answer) end first.
  void TearDown() override {
    if (store_) {
      EXPECT_TRUE(flush_and_wait(*store_).ok());
    }
  }

  // The router's answer to `req`, waited for (a change is answered once committed).
  http::Response call(http::Request req, bool envelope = false) {
    auto answer = std::make_shared<std::promise<http::Response>>();
    auto answered = answer->get_future();
    http::Respond respond = [answer](http::Response r) { answer->set_value(std::move(r)); };
    if (envelope) {
      router_->handle_envelope(std::move(req), std::move(respond));
    } else {
      router_->handle(std::move(req), std::move(respond));
    }
    // Milliseconds here; 30 s for a ThreadSanitizer build on a loaded machine.
    if (answered.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
      ADD_FAILURE() << "no answer within 30 s";
      return http::Response::empty(0);
    }
    return answered.get();
  }

  static http::Request request(std::string method, std::string path, std::string body = {},
                               const Headers& headers = {}) {
    http::Request req;
    req.method = std::move(method);
    auto q = path.find('?');
    req.target = path;
    req.path = path.substr(0, q);
    if (q != std::string::npos) req.query = path.substr(q + 1);
    req.body = std::move(body);
    for (const auto& [name, value] : headers) {
      std::string lower = name;
      for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      req.headers.emplace_back(lower, value);
    }
    req.remote = "127.0.0.1:40000";
    return req;
  }

  // POSTs `body` to a Slack endpoint signed now (or with `headers`), and checks
  // a 200 answer by Slack's rules (check_slack_answer).
  http::Response post_slack(const std::string& path, const std::string& body,
                            const std::string& type, Headers headers = {}) {
    if (headers.empty()) headers = signed_headers(body, type);
    http::Response r = call(request("POST", path, body, headers));
    HttpResult seen{r.status, r.body, {{"Content-Type", r.content_type}}, {}, false};
    check_slack_answer(path, body, seen);
    return r;
  }

  // Opens a request through the service, as any client would.
  TaskNumber open(RequestInput in) {
    std::promise<StatusOr<Decision>> p;
    service_->request(std::move(in), [&](StatusOr<Decision> d) { p.set_value(std::move(d)); });
    auto d = p.get_future().get();
    EXPECT_TRUE(d.ok()) << d.status().to_string();
    return d.ok() ? d->task.number : 0;
  }

  Task task(TaskNumber n) {
    auto t = store_->task(n);
    EXPECT_TRUE(t.ok()) << t.status().to_string();
    return t.ok() ? *t : Task{};
  }

  // The "text" of a JSON answer (a slash command's ephemeral message).
  static std::string text_of(const http::Response& r) {
    rapidjson::Document d;
    if (!json::parse(d, r.body).ok()) return "(not JSON) " + r.body;
    return json::str(d, "text");
  }
  static bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
  }

  TempDir dir_;
  World world_;
  SystemClock system_clock_;
  Metrics metrics_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<TaskService> service_;
  std::unique_ptr<Identity> identity_;
  std::unique_ptr<AdminApi> api_;
  std::unique_ptr<Router> router_;
};

}  // namespace tollgate::testing
