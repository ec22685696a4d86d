// The admin API (docs/admin-api.md), JSON over the same server. A route
// table (admin_api.cc): each (method, path pattern) has one endpoint, and the
// path parameters are parsed once, before the method is looked at: a task
// number that is not one is 404, and so is a person the directory lacks.
//
//   POST   /api/v1/requests                   {requester, subject?, app, resource,
//                                              justification, duration?, emergency?}
//   POST   /api/v1/revocations                {proposer, subject, app, resource, reason}
//   GET    /api/v1/tasks?assignee=&involving=&state=&kind=&after=&limit=
//   GET    /api/v1/tasks/42                   fields, steps (the execution plan), comments,
//                                              insights, history
//   POST   /api/v1/tasks/42/actions           {actor, action, comment?, to?, duration?}
//                                              (duration: approve for less, "4h")
//   POST   /api/v1/tasks/42/comments          {author, text}
//   GET    /api/v1/delegations
//   GET|PUT|DELETE /api/v1/people/dana/delegation   PUT {delegate, until, by?}; DELETE ?by=
//   GET    /api/v1/audit?since=&limit=        the event history, oldest first, with its hash
//                                              chain
//   GET    /api/v1/grants?person=&app=&resource=&expiring_before=&limit=
//                                              the access ledger (expiring_before: an instant,
//                                              or a duration from now such as "24h")
//   POST   /api/v1/grants/end                 {person, app, resource, by?}: ends access now
//                                              ("I'm done"; by: the holder or an admin)
//
// Authorization: "Bearer <TOLLGATE_API_TOKEN>", compared in constant time; the
// API is disabled (404) when no token is configured. Errors are
// {"error": {"code", "message"}} with 400 (malformed, naming the field), 401,
// 403, 404 (no such route, task or person), 405 (the route has other
// methods: "GET only", "GET, PUT or DELETE"), 409 (state conflict), 422 (a
// rule refused), 503 (store down).
// Lists are paginated with `after` / `since` and `limit` (at most 500).
#pragma once

#include <string>

#include "http/message.h"

namespace tollgate {

class Store;
class TaskService;

class AdminApi {
 public:
  // `token` empty: the API is disabled. References must outlive the API.
  AdminApi(std::string token, TaskService& service, Store& store);
  bool handles(const http::Request& req) const;  // the path is under /api/
  void handle(const http::Request& req, http::Respond respond);

 private:
  std::string token_;
  TaskService& service_;
  Store& store_;
};

}  // namespace tollgate
