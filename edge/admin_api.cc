#include "edge/admin_api.h"

#include <charconv>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include "app/audit_export.h"
#include "app/task_service.h"
#include "connect/connector.h"
#include "base/json.h"
#include "base/time_text.h"
#include "storage/store.h"
#include "workflow/engine.h"

namespace tollgate {
namespace {

using http::Response;

int http_status(Code c) {
  switch (c) {
    case Code::ok:
      return 200;
    case Code::invalid_argument:
      return 400;
    case Code::permission_denied:
      return 403;
    case Code::not_found:
      return 404;
    case Code::conflict:
    case Code::version_conflict:
    case Code::duplicate:
      return 409;
    case Code::rule_refused:
      return 422;
    case Code::unavailable:
      return 503;
    case Code::internal:
      return 500;
  }
  return 500;
}

Response error(int status, std::string_view code, const std::string& message) {
  return Response::json(status, "{\"error\":{\"code\":" + json::quote(code) +
                                    ",\"message\":" + json::quote(message) + "}}");
}
Response error(const Status& s) {
  return error(http_status(s.code()), code_name(s.code()), s.message());
}

// The query parameters of a request, decoded.
std::string param(const http::Request& req, std::string_view key) {
  std::string_view q = req.query;
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == key) {
      std::string v(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
      std::string out;
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '%' && i + 2 < v.size() &&
            std::isxdigit(static_cast<unsigned char>(v[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(v[i + 2]))) {
          out += static_cast<char>(std::stoi(v.substr(i + 1, 2), nullptr, 16));
          i += 2;
        } else {
          out += v[i] == '+' ? ' ' : v[i];
        }
      }
      return out;
    }
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
  }
  return {};
}

std::optional<std::int64_t> number(const std::string& s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

// Reads the fields of a JSON body, naming the first one at fault.
class Body {
 public:
  Status parse(const std::string& text) {
    if (Status s = json::parse(doc_, text); !s.ok()) return s;
    if (!doc_.IsObject()) return invalid_argument("the body must be a JSON object");
    return {};
  }
  std::string str(const char* key, bool required) {
    const json::Value* v = json::member(doc_, key);
    if (v == nullptr || v->IsNull()) {
      if (required && error_.ok())
        error_ = invalid_argument("field `" + std::string(key) + "` is required");
      return {};
    }
    if (!v->IsString()) {
      if (error_.ok())
        error_ = invalid_argument("field `" + std::string(key) + "` must be a string");
      return {};
    }
    std::string s(v->GetString(), v->GetStringLength());
    if (required && s.empty() && error_.ok())
      error_ = invalid_argument("field `" + std::string(key) + "` must not be empty");
    return s;
  }
  bool boolean(const char* key) {
    const json::Value* v = json::member(doc_, key);
    if (v == nullptr || v->IsNull()) return false;
    if (!v->IsBool()) {
      if (error_.ok())
        error_ = invalid_argument("field `" + std::string(key) + "` must be true or false");
      return false;
    }
    return v->GetBool();
  }
  const Status& error() const { return error_; }

 private:
  rapidjson::Document doc_;
  Status error_;
};

void write_time(json::Writer& w, std::string_view key, const std::optional<Time>& t) {
  json::key(w, key);
  if (t) {
    json::string(w, format_iso8601(*t));
  } else {
    w.Null();
  }
}

void write_summary(json::Writer& w, const Task& t) {
  w.Key("task");
  w.Int64(t.number);
  json::kv(w, "kind", kind_name(t.kind));
  json::kv(w, "state", state_name(t.state));
  w.Key("open");
  w.Bool(!t.closed());
  json::kv(w, "requester", t.requester);
  json::kv(w, "subject", t.subject);
  json::kv(w, "app", t.app);
  json::kv(w, "resource", t.resource);
  json::kv(w, "app_name", t.app_name);
  json::kv(w, "resource_name", t.resource_name);
  w.Key("emergency");
  w.Bool(t.emergency);
  json::key(w, "assignees");
  w.StartArray();
  for (const PersonId& p : t.assignees()) json::string(w, p);
  w.EndArray();
  write_time(w, "created_at", t.created_at);
  write_time(w, "updated_at", t.updated_at);
}

void write_delegation(json::Writer& w, const Delegation& d, Time now) {
  w.StartObject();
  json::kv(w, "person", d.person);
  json::kv(w, "delegate", d.delegate);
  write_time(w, "until", d.until);
  json::kv(w, "set_by", d.set_by);
  write_time(w, "set_at", d.set_at);
  w.Key("active");
  w.Bool(now < d.until);
  w.EndObject();
}

void write_steps(json::Writer& w, const Engine& e, const Task& t) {
  Plan plan = e.plan(t, {});
  json::kv(w, "headline", plan.headline);
  json::key(w, "steps");
  w.StartArray();
  for (const PlanStep& s : plan.steps) {
    w.StartObject();
    w.Key("index");
    w.Int(s.index);
    json::kv(w, "label", s.label);
    json::kv(w, "kind", step_kind_name(s.kind));
    json::kv(w, "state", step_state_name(s.state));
    json::key(w, "people");
    w.StartArray();
    for (const PersonId& p : s.people) json::string(w, p);
    w.EndArray();
    w.Key("by_fallback");
    w.Bool(s.by_fallback);
    json::key(w, "outcome");
    if (s.outcome) {
      json::string(w, action_name(*s.outcome));
    } else {
      w.Null();
    }
    json::kv(w, "decided_by", s.decided_by);
    write_time(w, "decided_at", s.decided_at);
    json::kv(w, "comment", s.comment);
    const TaskStep& step = t.steps[static_cast<std::size_t>(s.index)];
    json::key(w, "delegated_for");
    w.StartObject();
    for (const auto& [delegate, person] : step.delegated_for) json::kv(w, delegate, person);
    w.EndObject();
    w.Key("escalated");
    w.Bool(step.escalated);
    w.EndObject();
  }
  w.EndArray();
}

void write_comments(json::Writer& w, const Task& t) {
  json::key(w, "comments");
  w.StartArray();
  for (const Comment& c : t.comments) {
    w.StartObject();
    w.Key("id");
    w.Int64(c.id);
    json::kv(w, "author", c.author);
    json::kv(w, "text", c.deleted ? "" : c.text);
    write_time(w, "at", c.at);
    json::kv(w, "source", c.source);
    write_time(w, "edited_at", c.edited_at);
    w.Key("deleted");
    w.Bool(c.deleted);
    w.EndObject();
  }
  w.EndArray();
  json::key(w, "insights");
  w.StartArray();
  for (const Insight& i : t.insights) {
    w.StartObject();
    json::kv(w, "kind", i.kind);
    json::kv(w, "text", i.text);
    w.EndObject();
  }
  w.EndArray();
}

void write_history(json::Writer& w, const std::vector<StoredEvent>& history) {
  json::key(w, "history");
  w.StartArray();
  for (const StoredEvent& ev : history) {
    w.StartObject();
    w.Key("seq");
    w.Int64(ev.seq);
    json::kv(w, "type", ev.event.type);
    json::kv(w, "actor", ev.event.actor);
    write_time(w, "at", ev.event.at);
    w.EndObject();
  }
  w.EndArray();
}

// A task in full: its fields, steps (the execution plan), comments, insights and history.
std::string task_json(const Engine& e, const Task& t, const std::vector<StoredEvent>& history,
                      const std::string& summary = {}) {
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  write_summary(w, t);
  if (!summary.empty()) json::kv(w, "summary", summary);
  w.Key("version");
  w.Int64(t.version);
  json::kv(w, "justification", t.justification);
  json::key(w, "duration");
  if (t.duration) {
    json::string(w, format_duration(*t.duration));
  } else {
    w.Null();
  }
  w.Key("sensitive");
  w.Bool(t.sensitive);
  json::kv(w, "policy", t.policy_id);
  json::kv(w, "policy_name", t.policy_name);
  json::kv(w, "instructions", t.instructions);
  json::kv(w, "closed_by", t.closed_by);
  write_time(w, "closed_at", t.closed_at);
  write_steps(w, e, t);
  write_comments(w, t);
  write_history(w, history);
  w.EndObject();
  return json::text(b);
}

std::string delegation_json(const Delegation& d, Time now) {
  rapidjson::StringBuffer b;
  json::Writer w(b);
  write_delegation(w, d, now);
  return json::text(b);
}

Response invalid(const std::string& message) {
  return error(400, "invalid_argument", message);
}

Response not_a_duration(const std::string& text) {
  return invalid("field `duration`: \"" + text + "\" is not a duration such as \"8h\" or \"7d\"");
}

// ---- The endpoints ----

// One request being answered: the request, its path parameters (parsed and
// checked once, by the route table), and the engine as it was when it came.
struct Call {
  const http::Request& req;
  http::Respond respond;
  TaskService& service;
  Store& store;
  std::shared_ptr<const Engine> engine;
  TaskNumber task = 0;  // {task}: a task number, 1 or more
  PersonId person;      // {person}: a person of the directory
};

// The completion of a change: `ok_status` and the task in full, or the error.
TaskService::Done decided(const Call& c, int ok_status) {
  return [respond = c.respond, store = &c.store, engine = c.engine,
          ok_status](StatusOr<Decision> d) {
    if (!d.ok()) return respond(error(d.status()));
    auto history = store->task_events(d->task.number);
    respond(Response::json(
        ok_status, task_json(*engine, d->task, history.ok() ? *history : std::vector<StoredEvent>{},
                             d->summary)));
  };
}

// POST /api/v1/requests
void open_request(Call& c) {
  Body body;
  if (Status s = body.parse(c.req.body); !s.ok()) return c.respond(error(s));
  RequestInput in;
  in.requester = body.str("requester", true);
  in.subject = body.str("subject", false);
  in.app = body.str("app", true);
  in.resource = body.str("resource", true);
  in.justification = body.str("justification", true);
  std::string duration = body.str("duration", false);
  in.emergency = body.boolean("emergency");
  if (!body.error().ok()) return c.respond(error(body.error()));
  if (!duration.empty()) {
    in.duration = parse_duration(duration);
    if (!in.duration) return c.respond(not_a_duration(duration));
  }
  c.service.request(in, decided(c, 201));
}

// POST /api/v1/revocations
void open_revocation(Call& c) {
  Body body;
  if (Status s = body.parse(c.req.body); !s.ok()) return c.respond(error(s));
  RevocationInput in;
  in.proposer = body.str("proposer", true);
  in.subject = body.str("subject", true);
  in.app = body.str("app", true);
  in.resource = body.str("resource", true);
  in.reason = body.str("reason", true);
  if (!body.error().ok()) return c.respond(error(body.error()));
  c.service.revoke(in, decided(c, 201));
}

// The filter of GET /api/v1/tasks from its query; an error names the parameter.
StatusOr<TaskFilter> task_filter(const http::Request& req) {
  TaskFilter f;
  f.assignee = param(req, "assignee");
  f.involving = param(req, "involving");
  if (std::string s = param(req, "state"); !s.empty()) {
    if (s == "open" || s == "closed") {
      f.open = s == "open";
    } else {
      f.state = parse_state(s);
      if (!f.state) return invalid_argument("parameter `state`: unknown state \"" + s + "\"");
    }
  }
  if (std::string k = param(req, "kind"); !k.empty()) {
    f.kind = parse_kind(k);
    if (!f.kind) return invalid_argument("parameter `kind`: expected grant or revoke");
  }
  if (std::string a = param(req, "after"); !a.empty()) {
    auto n = number(a);
    if (!n) return invalid_argument("parameter `after` must be a task number");
    f.after = *n;
  }
  f.limit = 100;
  if (std::string l = param(req, "limit"); !l.empty()) {
    auto n = number(l);
    if (!n || *n < 1 || *n > 500) return invalid_argument("parameter `limit` must be 1 to 500");
    f.limit = static_cast<int>(*n);
  }
  return f;
}

// GET /api/v1/tasks
void list_tasks(Call& c) {
  auto f = task_filter(c.req);
  if (!f.ok()) return c.respond(error(f.status()));
  auto tasks = c.store.tasks(*f);
  if (!tasks.ok()) return c.respond(error(tasks.status()));
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::key(w, "tasks");
  w.StartArray();
  for (const Task& t : *tasks) {
    w.StartObject();
    write_summary(w, t);
    w.EndObject();
  }
  w.EndArray();
  json::key(w, "next_after");
  if (static_cast<int>(tasks->size()) == f->limit) {
    w.Int64(tasks->back().number);
  } else {
    w.Null();
  }
  w.EndObject();
  c.respond(Response::json(200, json::text(b)));
}

// GET /api/v1/tasks/{task}
void get_task(Call& c) {
  auto t = c.store.task(c.task);
  if (!t.ok()) return c.respond(error(t.status()));
  auto history = c.store.task_events(c.task);
  if (!history.ok()) return c.respond(error(history.status()));
  c.respond(Response::json(200, task_json(*c.engine, *t, *history)));
}

// POST /api/v1/tasks/{task}/actions
void act_on_task(Call& c) {
  Body body;
  if (Status s = body.parse(c.req.body); !s.ok()) return c.respond(error(s));
  Command cmd;
  cmd.actor = body.str("actor", true);
  std::string action = body.str("action", true);
  cmd.comment = body.str("comment", false);
  cmd.to = body.str("to", false);
  std::string duration = body.str("duration", false);
  if (!body.error().ok()) return c.respond(error(body.error()));
  if (!duration.empty()) {
    cmd.duration = parse_duration(duration);
    if (!cmd.duration) return c.respond(not_a_duration(duration));
  }
  auto a = parse_action(action);
  // Tollgate's own actions (the scheduler's, a connector's answers) are never taken for it.
  if (!a || *a == Action::comment || *a == Action::edit_comment || *a == Action::delete_comment ||
      is_system_action(*a) || cmd.actor == kSystemActor) {
    return c.respond(
        invalid("field `action`: \"" + action +
                "\" is not one of approve, deny, confirm, provisioned, wont_provision, "
                "deprovisioned, wont_deprovision, reassign, cancel, retry"));
  }
  cmd.action = *a;
  if (cmd.duration && cmd.action != Action::approve)
    return c.respond(invalid("field `duration` is only for the action approve"));
  cmd.source = "api";
  c.service.act(c.task, cmd, decided(c, 200));
}

// POST /api/v1/tasks/{task}/comments
void comment_on_task(Call& c) {
  Body body;
  if (Status s = body.parse(c.req.body); !s.ok()) return c.respond(error(s));
  Command cmd;
  cmd.actor = body.str("author", true);
  cmd.comment = body.str("text", true);
  if (!body.error().ok()) return c.respond(error(body.error()));
  if (c.engine->directory().person(cmd.actor) == nullptr) {
    return c.respond(invalid("field `author`: unknown person \"" + cmd.actor + "\""));
  }
  cmd.action = Action::comment;
  cmd.source = "api";
  // Need to know: an author not involved in the task gets 404 and the line a
  // task that does not exist gets (TaskService::act); the comment would
  // otherwise reach the reviewers' threads under their name.
  c.service.act(c.task, cmd, decided(c, 201));
}

// GET /api/v1/delegations
void list_delegations(Call& c) {
  auto all = c.store.delegations();
  if (!all.ok()) return c.respond(error(all.status()));
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::key(w, "delegations");
  w.StartArray();
  Time now = c.engine->clock().now();
  for (const Delegation& d : *all) write_delegation(w, d, now);
  w.EndArray();
  w.EndObject();
  c.respond(Response::json(200, json::text(b)));
}

// GET /api/v1/people/{person}/delegation
void get_delegation(Call& c) {
  auto all = c.store.delegations();
  if (!all.ok()) return c.respond(error(all.status()));
  for (const Delegation& d : *all) {
    if (d.person == c.person) {
      return c.respond(Response::json(200, delegation_json(d, c.engine->clock().now())));
    }
  }
  c.respond(error(404, "not_found", c.person + " has no delegation"));
}

// PUT /api/v1/people/{person}/delegation
void set_delegation(Call& c) {
  Body body;
  if (Status st = body.parse(c.req.body); !st.ok()) return c.respond(error(st));
  Time now = c.engine->clock().now();
  Delegation d;
  d.person = c.person;
  d.delegate = body.str("delegate", true);
  std::string until = body.str("until", true);
  d.set_by = body.str("by", false);
  if (d.set_by.empty()) d.set_by = c.person;
  d.set_at = now;
  if (!body.error().ok()) return c.respond(error(body.error()));
  // A date is inclusive (through the end of that day, UTC); an instant is exact.
  if (auto day = parse_date(until); day && until.size() == 10) {
    d.until = *day + std::chrono::days(1);
  } else if (auto at = parse_iso8601(until)) {
    d.until = *at;
  } else {
    return c.respond(invalid("field `until`: \"" + until +
                             "\" is not a date (2026-12-24) or an instant "
                             "(2026-12-24T18:00:00Z)"));
  }
  c.service.delegate(d, [respond = c.respond, d, now](Status st) {
    if (!st.ok()) return respond(error(st));
    respond(Response::json(200, delegation_json(d, now)));
  });
}

// DELETE /api/v1/people/{person}/delegation[?by=]
void end_delegation(Call& c) {
  std::string by = param(c.req, "by");
  c.service.end_delegation(c.person, by.empty() ? c.person : by, [respond = c.respond](Status st) {
    if (!st.ok()) return respond(error(st));
    respond(Response::empty(204));
  });
}

// GET /api/v1/audit?since=&limit=
void audit(Call& c) {
  std::int64_t since = 0;
  if (std::string s = param(c.req, "since"); !s.empty()) {
    auto v = number(s);
    if (!v) return c.respond(invalid("parameter `since` must be an event sequence number"));
    since = *v;
  }
  int limit = 500;
  if (std::string l = param(c.req, "limit"); !l.empty()) {
    auto v = number(l);
    if (!v || *v < 1 || *v > 500) return c.respond(invalid("parameter `limit` must be 1 to 500"));
    limit = static_cast<int>(*v);
  }
  auto events = c.store.events(since, limit);
  if (!events.ok()) return c.respond(error(events.status()));
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::key(w, "events");
  w.StartArray();
  EventLinks links(c.store);
  for (const StoredEvent& e : *events) {
    std::string event = event_json(e, &c.engine->directory(), &links);
    w.RawValue(event.data(), event.size(), rapidjson::kObjectType);
  }
  w.EndArray();
  json::key(w, "next_since");
  if (static_cast<int>(events->size()) == limit) {
    w.Int64(events->back().seq);
  } else {
    w.Null();
  }
  w.EndObject();
  c.respond(Response::json(200, json::text(b)));
}

// The filter of GET /api/v1/grants from its query; an error names the
// parameter. `expiring_before` is an instant, or a duration from now ("24h").
StatusOr<AccessFilter> grant_filter(const http::Request& req, Time now) {
  AccessFilter f;
  f.person = param(req, "person");
  f.app = param(req, "app");
  f.resource = param(req, "resource");
  if (!f.resource.empty() && f.app.empty())
    return invalid_argument("parameter `resource` needs `app`");
  if (std::string e = param(req, "expiring_before"); !e.empty()) {
    if (auto at = parse_iso8601(e)) {
      f.expiring_before = *at;
    } else if (auto in = parse_duration(e)) {
      f.expiring_before = now + *in;
    } else {
      return invalid_argument("parameter `expiring_before`: \"" + e +
                              "\" is not an instant (2026-12-24T18:00:00Z) or a duration from "
                              "now (24h)");
    }
  }
  f.limit = 500;
  if (std::string l = param(req, "limit"); !l.empty()) {
    auto n = number(l);
    if (!n || *n < 1 || *n > 500) return invalid_argument("parameter `limit` must be 1 to 500");
    f.limit = static_cast<int>(*n);
  }
  return f;
}

void write_holding(json::Writer& w, const Holding& h) {
  w.StartObject();
  json::kv(w, "person", h.person);
  json::kv(w, "app", h.app);
  json::kv(w, "resource", h.resource);
  write_time(w, "since", h.since);
  write_time(w, "expires_at", h.expires_at);
  json::key(w, "granted_by_task");
  if (h.task != 0) {
    w.Int64(h.task);
  } else {
    w.Null();
  }
  json::kv(w, "how", grant_source_name(h.how));
  write_time(w, "last_used", h.last_used);
  json::key(w, "ending_task");
  if (h.ending_task != 0) {
    w.Int64(h.ending_task);
  } else {
    w.Null();
  }
  w.EndObject();
}

// GET /api/v1/grants?person=&app=&resource=&expiring_before=&limit=
void list_grants(Call& c) {
  auto f = grant_filter(c.req, c.engine->clock().now());
  if (!f.ok()) return c.respond(error(f.status()));
  auto rows = c.store.holdings(*f);
  if (!rows.ok()) return c.respond(error(rows.status()));
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::key(w, "grants");
  w.StartArray();
  for (const Holding& h : *rows) write_holding(w, h);
  w.EndArray();
  // The ledger has no cursor: a full page says there may be more, to narrow the filter.
  w.Key("truncated");
  w.Bool(static_cast<int>(rows->size()) == f->limit);
  w.EndObject();
  c.respond(Response::json(200, json::text(b)));
}

// POST /api/v1/grants/end {person, app, resource, by?}: `by` (an admin, or
// the holder; default the holder) ends the access now, as "I'm done" does.
void end_grant(Call& c) {
  Body body;
  if (Status s = body.parse(c.req.body); !s.ok()) return c.respond(error(s));
  std::string person = body.str("person", true);
  std::string app = body.str("app", true);
  std::string resource = body.str("resource", true);
  std::string by = body.str("by", false);
  if (!body.error().ok()) return c.respond(error(body.error()));
  if (by.empty()) by = person;
  if (c.engine->directory().person(by) == nullptr)
    return c.respond(invalid("field `by`: unknown person \"" + by + "\""));
  c.service.end_access_of(person, app, resource, by,
                          [respond = c.respond](StatusOr<std::string> said) {
                            if (!said.ok()) return respond(error(said.status()));
                            rapidjson::StringBuffer b;
                            json::Writer w(b);
                            w.StartObject();
                            json::kv(w, "summary", *said);
                            w.EndObject();
                            respond(Response::json(200, json::text(b)));
                          });
}

// ---- The route table ----

// POST /api/v1/tasks/{task}/provisioning: a webhook receiver that answered
// 202 confirms the outcome, {"id": the event's id, "outcome": "done" |
// "failed", "answer"?}. Authenticated by the app's own webhook secret
// (Standard Webhooks headers over the raw body, within 5 minutes), not the
// admin token; a webhook-id is taken once (a replay is 409). A missing task,
// or one whose app has no webhook, is refused as a bad signature is: nothing
// is told to a caller without the secret.
void provisioning_callback(Call& c) {
  const std::string* id = c.req.header("webhook-id");
  const std::string* ts = c.req.header("webhook-timestamp");
  const std::string* sig = c.req.header("webhook-signature");
  auto refuse = [&](const std::string& why) { c.respond(error(401, "unauthenticated", why)); };
  if (id == nullptr || ts == nullptr || sig == nullptr)
    return refuse("webhook-id, webhook-timestamp and webhook-signature are required");
  // One answer for every way the check fails (no such task, an app without
  // a webhook, a stale timestamp, a bad signature): the caller learns nothing
  // but that it failed; the log says why.
  const std::string no_match =
      "the webhook signature does not match, or its timestamp is not within 5 minutes";
  auto task = c.store.task(c.task);
  if (!task.ok() && task.status().code() == Code::unavailable) return c.respond(error(task.status()));
  if (!task.ok()) return refuse(no_match);
  const App* app = c.engine->directory().app(task->app);
  const Fulfilment* f = app != nullptr ? &app->fulfilment(task->kind == TaskKind::grant) : nullptr;
  if (f == nullptr || f->mode != ProvisioningMode::webhook) return refuse(no_match);
  const char* secret = std::getenv(f->connector.secret_env.c_str());
  if (secret == nullptr || *secret == '\0') {
    spdlog::error("webhook confirmation for #{}: {} is not set", c.task, f->connector.secret_env);
    return c.respond(error(503, "unavailable", "the confirmation cannot be verified now"));
  }
  if (Status v = connect::verify_webhook(secret, *id, *ts, *sig, c.req.body, c.engine->clock().now());
      !v.ok()) {
    spdlog::warn("webhook confirmation for #{} refused: {}", c.task, v.message());
    return refuse(no_match);
  }
  Body body;
  if (Status s = body.parse(c.req.body); !s.ok()) return c.respond(error(s));
  std::string event_id = body.str("id", true);
  std::string outcome = body.str("outcome", true);
  std::string answer = body.str("answer", false);
  if (!body.error().ok()) return c.respond(error(body.error()));
  if (outcome != "done" && outcome != "failed")
    return c.respond(invalid("field `outcome`: \"" + outcome + "\" is not done or failed"));
  const TaskStep* step = task->current();
  if (step == nullptr || !step->connector)
    return c.respond(error(conflict("#" + std::to_string(c.task) + " waits for no webhook")));
  std::string awaited = step->connector->idempotency_id(c.task, static_cast<std::size_t>(task->current_step()));
  if (event_id != awaited) {
    return c.respond(error(conflict("field `id`: #" + std::to_string(c.task) + " waits for " +
                                    awaited + ", not " + event_id)));
  }
  Command cmd;
  cmd.action = outcome == "done" ? Action::connector_done : Action::connector_failed;
  cmd.actor = std::string(kSystemActor);
  cmd.comment = "confirmed by the webhook" + (answer.empty() ? "" : ": " + connect::snippet(answer, 300));
  cmd.step = task->current_step();
  cmd.attempt = step->connector->attempt;
  cmd.source = "webhook";
  c.service.act(
      c.task, cmd,
      [respond = c.respond](StatusOr<Decision> d) {
        if (!d.ok() && d.status().code() == Code::duplicate)
          return respond(error(409, "replay", "this webhook-id was taken already"));
        if (!d.ok()) return respond(error(d.status()));
        respond(Response::json(200, "{\"ok\":true,\"task\":" + std::to_string(d->task.number) +
                                        ",\"state\":" + json::quote(state_name(d->task.state)) +
                                        "}"));
      },
      "webhook:" + app->id + ":" + *id);
}

struct Route {
  std::string_view method;
  // Segments; "{task}" and "{person}" are parameters (Call::task, Call::person).
  std::string_view pattern;
  void (*endpoint)(Call&);
};

constexpr Route kRoutes[] = {
    {"POST", "/api/v1/requests", open_request},
    {"POST", "/api/v1/revocations", open_revocation},
    {"GET", "/api/v1/tasks", list_tasks},
    {"GET", "/api/v1/tasks/{task}", get_task},
    {"POST", "/api/v1/tasks/{task}/actions", act_on_task},
    {"POST", "/api/v1/tasks/{task}/comments", comment_on_task},
    {"GET", "/api/v1/delegations", list_delegations},
    {"GET", "/api/v1/people/{person}/delegation", get_delegation},
    {"PUT", "/api/v1/people/{person}/delegation", set_delegation},
    {"DELETE", "/api/v1/people/{person}/delegation", end_delegation},
    {"GET", "/api/v1/audit", audit},
    {"GET", "/api/v1/grants", list_grants},
    {"POST", "/api/v1/grants/end", end_grant},
};

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  for (;;) {
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) return out;
    path.remove_prefix(slash + 1);
  }
}

// Whether `path` has the shape of `pattern`; its parameters, by name, into `params`.
bool matches(std::string_view pattern, const std::vector<std::string_view>& path,
             std::vector<std::pair<std::string_view, std::string_view>>& params) {
  std::vector<std::string_view> want = segments(pattern);
  if (want.size() != path.size()) return false;
  std::vector<std::pair<std::string_view, std::string_view>> found;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (want[i].size() > 2 && want[i].front() == '{' && want[i].back() == '}') {
      found.emplace_back(want[i].substr(1, want[i].size() - 2), path[i]);
    } else if (want[i] != path[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

// Parses the path parameters into the call: 404 for a task number that is
// not one (or 0) and for a person the directory does not have.
std::optional<Response> read_params(
    const std::vector<std::pair<std::string_view, std::string_view>>& params, Call& c) {
  for (const auto& [name, value] : params) {
    std::string v(value);
    if (name == "task") {
      auto n = number(v);
      if (!n || *n == 0) return error(404, "not_found", "no such task: " + v);
      c.task = *n;
    } else if (name == "person") {
      if (c.engine->directory().person(v) == nullptr)
        return error(404, "not_found", "no such person: " + v);
      c.person = v;
    }
  }
  return std::nullopt;
}

// "GET only", "GET, PUT or DELETE".
std::string only(const std::vector<std::string_view>& methods) {
  std::string out;
  for (std::size_t i = 0; i < methods.size(); ++i) {
    if (i > 0) out += i + 1 == methods.size() ? " or " : ", ";
    out += methods[i];
  }
  return methods.size() == 1 ? out + " only" : out;
}

}  // namespace

AdminApi::AdminApi(std::string token, TaskService& service, Store& store)
    : token_(std::move(token)), service_(service), store_(store) {}

bool AdminApi::handles(const http::Request& req) const {
  return req.path.rfind("/api/", 0) == 0;
}

void AdminApi::handle(const http::Request& req, http::Respond respond) {
  // A webhook's confirmation carries its own authentication (the app's secret).
  std::vector<std::pair<std::string_view, std::string_view>> callback;
  if (matches("/api/v1/tasks/{task}/provisioning", segments(req.path), callback)) {
    if (req.method != "POST") return respond(error(405, "method_not_allowed", "POST only"));
    Call call{req, std::move(respond), service_, store_, service_.engine()};
    if (auto refused = read_params(callback, call)) return call.respond(std::move(*refused));
    return provisioning_callback(call);
  }
  if (token_.empty())
    return respond(
        error(404, "not_found", "the admin API is disabled (TOLLGATE_API_TOKEN is not set)"));
  const std::string* auth = req.header("authorization");
  std::string expected = "Bearer " + token_;
  if (auth == nullptr || auth->size() != expected.size() ||
      CRYPTO_memcmp(auth->data(), expected.data(), expected.size()) != 0) {
    Response r = error(401, "unauthenticated", "a valid bearer token is required");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return respond(std::move(r));
  }
  // The routes of the path's shape; their parameters are the same.
  std::vector<std::string_view> path = segments(req.path);
  std::vector<std::pair<std::string_view, std::string_view>> params;
  std::vector<const Route*> shaped;
  for (const Route& r : kRoutes) {
    if (matches(r.pattern, path, params)) shaped.push_back(&r);
  }
  if (shaped.empty()) return respond(error(404, "not_found", "no such endpoint: " + req.path));
  Call call{req, std::move(respond), service_, store_, service_.engine()};
  if (auto refused = read_params(params, call)) return call.respond(std::move(*refused));
  std::vector<std::string_view> methods;
  for (const Route* r : shaped) {
    if (r->method == req.method) return r->endpoint(call);
    methods.push_back(r->method);
  }
  call.respond(error(405, "method_not_allowed", only(methods)));
}

}  // namespace tollgate
