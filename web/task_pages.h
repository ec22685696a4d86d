// The task page's endpoints, under /t (docs/task-page.md):
//
//   GET  /t/<token>                  a link from a mail or a message: checked, then a
//                                    session cookie and a redirect to the task (the
//                                    token leaves the address bar)
//   GET  /t/tasks/<n>                the task page
//   POST /t/tasks/<n>/actions        a decision (approve, deny, confirm, provisioned, ...)
//   POST /t/tasks/<n>/comments       a comment
//   POST /t/tasks/<n>/reassign       a reassignment
//   GET  /t/inbox?tab=…              "All my tasks", as the App Home has them
//   POST /t/inbox/actions            a tab's bulk action, with one comment
//   POST /t/access/extend            Extend… on access held with an end
//   POST /t/access/done              I'm done
//   GET  /t/static/page.css          the one stylesheet
//
// Every decision goes through the task service like a Slack click
// (Command::source "web"): the same engine, the same store, the same answers
// ("already approved by …"). Forms are POSTs checked for their origin and a
// CSRF token bound to the session; each answer is a redirect carrying the
// result in a short-lived cookie (tg_flash), shown once by the next page.
#pragma once

#include <chrono>
#include <string>

#include "base/clock.h"
#include "http/message.h"

namespace tollgate {
class Store;
class TaskService;
}  // namespace tollgate

namespace tollgate::web {

struct WebOptions {
  // "https://tollgate.acme.test", without a trailing slash; http:// is allowed
  // (then cookies are not Secure).
  std::string public_url;
  std::string key;  // TOLLGATE_LINK_KEY
  Duration link_ttl = std::chrono::hours(24 * 7);
  Duration session_ttl = std::chrono::minutes(30);
};

class TaskPages {
 public:
  // References must outlive the pages. The engine is the service's at each
  // request (a configuration reload is seen), its clock the time.
  TaskPages(WebOptions options, TaskService& service, Store& store);
  // The path is /t or under /t/ (and a public URL and a key are set).
  bool handles(const http::Request& req) const;
  // Answers at once for a page; after the commit for a form (from the store's
  // writer thread).
  void handle(const http::Request& req, http::Respond respond);

 private:
  WebOptions options_;
  std::string origin_;  // scheme://host[:port] of public_url
  bool secure_ = false;
  TaskService& service_;
  Store& store_;
};

}  // namespace tollgate::web
