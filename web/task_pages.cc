#include "web/task_pages.h"

#include <cctype>
#include <charconv>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "app/home_publisher.h"
#include "app/task_service.h"
#include "base/encoding.h"
#include "base/time_text.h"
#include "slack/actions.h"
#include "slack/home_view.h"
#include "slack/payloads.h"
#include "storage/store.h"
#include "web/links.h"
#include "web/pages.h"
#include "workflow/engine.h"

namespace tollgate::web {
namespace {

using http::Request;
using http::Response;

constexpr std::string_view kSessionCookie = "tg_session";
constexpr std::string_view kFlashCookie = "tg_flash";
// Nothing inline, nothing from elsewhere: the one stylesheet, forms posted
// here only, never framed.
constexpr const char* kCsp =
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'";
// A flash cookie stays well under a cookie's 4096 bytes once percent-encoded.
constexpr std::size_t kMaxFlash = 1200;

// ---- Responses ----

// Every answer under /t: never cached (pages name people and tasks), the
// address not sent elsewhere, and the page's protections.
void protect(Response& r) {
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Referrer-Policy", "same-origin");
  r.headers.emplace_back("Content-Security-Policy", kCsp);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("X-Frame-Options", "DENY");
}

// One Set-Cookie at most per answer (the server keeps one value per header name).
Response page(int status, std::string html, const std::string& set_cookie = {}) {
  Response r{status, "text/html; charset=utf-8", std::move(html), {}};
  protect(r);
  if (!set_cookie.empty()) r.headers.emplace_back("Set-Cookie", set_cookie);
  return r;
}

Response message(int status, const std::string& heading, const std::string& text,
                 bool inbox_link = false) {
  return page(status, message_page(heading, text, inbox_link));
}

Response redirect(const std::string& location, const std::string& set_cookie) {
  Response r = Response::empty(303);
  protect(r);
  r.headers.emplace_back("Location", location);
  if (!set_cookie.empty()) r.headers.emplace_back("Set-Cookie", set_cookie);
  return r;
}

Response session_ended() {
  return message(401, "Your session has ended", "Open the link from your email again.");
}
Response forged() {
  return message(403, "This form did not come from Tollgate",
                 "Nothing was done. Open the task from your email again and use its page.");
}
Response malformed() {
  return message(400, "This form could not be read", "Nothing was done. Go back and try again.",
                 true);
}
Response busy() {
  return message(503, "Tollgate cannot answer right now", "Please try again in a moment.");
}
Response not_yours(TaskNumber n) {
  return message(404, "#" + std::to_string(n) + " is not one of your tasks",
                 "It does not exist, or you are not one of its people.", true);
}

// ---- Cookies and encodings ----

std::string cookie(std::string_view name, const std::string& value, long long max_age_s,
                   bool secure) {
  return std::string(name) + "=" + value +
         "; Path=/t; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age_s) +
         (secure ? "; Secure" : "");
}

// The value of cookie `name`, or "" ("a=b; c=d", in any Cookie header).
std::string cookie_value(const Request& req, std::string_view name) {
  for (const auto& [header, value] : req.headers) {
    if (header != "cookie") continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      auto semi = rest.find(';');
      std::string_view pair = rest.substr(0, semi);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      auto eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name)
        return std::string(pair.substr(eq + 1));
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    }
  }
  return {};
}

std::string percent_decode(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// At most kMaxFlash bytes, never inside a UTF-8 character.
std::string cut_flash(std::string text) {
  if (text.size() <= kMaxFlash) return text;
  std::size_t at = kMaxFlash;
  while (at > 0 && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) --at;
  text.resize(at);
  return text + "…";
}

std::optional<TaskNumber> task_number(std::string_view s) {
  TaskNumber n = 0;
  if (s.empty() || s.size() > 18) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || p != s.data() + s.size() || n <= 0) return std::nullopt;
  return n;
}

// "https://host:8443" of "https://host:8443/anything".
std::string origin_of(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  auto slash = url.find('/', scheme + 3);
  return slash == std::string::npos ? url : url.substr(0, slash);
}

// A reason or a comment: blank is none (as in Slack's modals).
std::string text_field(const slack::Form& form, std::string_view key) {
  std::string v = form.value(key);
  if (v.find_first_not_of(" \t\r\n") == std::string::npos) v.clear();
  return v;
}

// The answer to a form: back to `location`, with the outcome shown once there.
Response flash_redirect(const std::string& location, bool secure, bool error,
                        const std::string& text) {
  std::string value = percent_encode((error ? "error:" : "ok:") + cut_flash(text));
  return redirect(location, cookie(kFlashCookie, value, 60, secure));
}

// ---- Routes ----

enum class Route {
  none,
  css,
  link,
  opening,  // where a link lands: on to the task with the session cookie (opening_page)
  task,
  task_actions,
  task_comments,
  task_reassign,
  inbox,
  inbox_actions,
  access_extend,
  access_done,
};

struct Match {
  Route route = Route::none;
  TaskNumber task = 0;
  std::string token;
};

Match match(std::string_view path) {
  if (path.rfind("/t/", 0) != 0) return {};
  std::string_view rest = path.substr(3);
  if (rest == "static/page.css") return {Route::css};
  if (rest == "inbox") return {Route::inbox};
  if (rest == "inbox/actions") return {Route::inbox_actions};
  if (rest == "access/extend") return {Route::access_extend};
  if (rest == "access/done") return {Route::access_done};
  if (rest.rfind("open/", 0) == 0) {
    auto n = task_number(rest.substr(5));
    return n ? Match{Route::opening, *n} : Match{};
  }
  if (rest.rfind("tasks/", 0) == 0) {
    rest.remove_prefix(6);
    auto slash = rest.find('/');
    auto n = task_number(rest.substr(0, slash));
    if (!n) return {};
    if (slash == std::string_view::npos) return {Route::task, *n};
    std::string_view what = rest.substr(slash + 1);
    if (what == "actions") return {Route::task_actions, *n};
    if (what == "comments") return {Route::task_comments, *n};
    if (what == "reassign") return {Route::task_reassign, *n};
    return {};
  }
  // A link's token: one segment, of the token's alphabet.
  if (rest.empty() || rest.size() > 2048 || rest == "static" || rest == "tasks" ||
      rest == "access" || rest == "open") {
    return {};
  }
  for (char c : rest) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return {};
  }
  return {Route::link, 0, std::string(rest)};
}

bool is_form(Route r) {
  return r == Route::task_actions || r == Route::task_comments || r == Route::task_reassign ||
         r == Route::inbox_actions || r == Route::access_extend || r == Route::access_done;
}

// The decisions a page's action form may carry: the one-click decisions of
// Slack's buttons (never the engine's own: a reminder, a connector's answer),
// but cancel, which the page does not offer.
std::optional<Action> web_action(std::string_view name) {
  auto a = slack::button_action(name);
  if (a == Action::cancel) return std::nullopt;
  return a;
}

// ---- One request with a session ----

// A request being answered for a person with a session.
struct Call {
  const WebOptions& options;
  bool secure = false;
  TaskService& service;
  Store& store;
  std::shared_ptr<const Engine> engine;
  Session session;
  http::Respond respond;
  slack::Form form;  // a POST's fields

  const PersonId& viewer() const { return session.person; }

  // Back to `location` with an error shown once there.
  void refuse(const std::string& location, const std::string& why) const {
    respond(flash_redirect(location, secure, true, why));
  }
};

// What a refused command tells the person: the engine's words, or that it
// could not be recorded.
std::string refusal_text(const Status& s) {
  if (s.code() == Code::unavailable)
    return "Tollgate could not record that (" + s.message() + "). Please try again.";
  return s.message();
}

// The completion of a command on task `n`: back to its page with the outcome.
TaskService::Done back_to_task(const Call& c, TaskNumber n) {
  std::string location = "/t/tasks/" + std::to_string(n);
  return [respond = c.respond, location, secure = c.secure](StatusOr<Decision> d) {
    respond(
        flash_redirect(location, secure, !d.ok(), d.ok() ? d->summary : refusal_text(d.status())));
  };
}

std::optional<Flash> take_flash(const Request& req) {
  std::string raw = percent_decode(cookie_value(req, kFlashCookie));
  if (raw.rfind("ok:", 0) == 0) return Flash{false, raw.substr(3)};
  if (raw.rfind("error:", 0) == 0) return Flash{true, raw.substr(6)};
  return std::nullopt;
}

// The step a form names ("" for none), or false when it is not a step.
bool read_step(const slack::Form& form, std::optional<int>& step) {
  std::string v = form.value("step");
  if (v.empty()) return true;
  int n = -1;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < 0) return false;
  step = n;
  return true;
}

// POST /t/tasks/<n>/actions: a decision, as a Slack click makes it.
void act_on_task(Call& c, TaskNumber n) {
  Command cmd;
  auto action = web_action(c.form.value("action"));
  if (!action || !read_step(c.form, cmd.step)) return c.respond(malformed());
  cmd.action = *action;
  cmd.actor = c.viewer();
  cmd.comment = text_field(c.form, "comment");
  cmd.source = "web";
  c.service.act(n, std::move(cmd), back_to_task(c, n));
}

// POST /t/tasks/<n>/comments
void comment_on_task(Call& c, TaskNumber n) {
  Command cmd;
  cmd.action = Action::comment;
  cmd.actor = c.viewer();
  cmd.comment = text_field(c.form, "text");
  cmd.source = "web";
  c.service.act(n, std::move(cmd), back_to_task(c, n));
}

// POST /t/tasks/<n>/reassign
void reassign_task(Call& c, TaskNumber n) {
  Command cmd;
  if (!read_step(c.form, cmd.step)) return c.respond(malformed());
  cmd.action = Action::reassign;
  cmd.actor = c.viewer();
  cmd.to = c.form.value("to");
  cmd.comment = text_field(c.form, "comment");
  cmd.source = "web";
  c.service.act(n, std::move(cmd), back_to_task(c, n));
}

std::string inbox_location(const slack::Form& form) {
  std::string tab = form.value("tab");
  return "/t/inbox?tab=" + (is_inbox_tab(tab) ? tab : std::string("requests"));
}

// POST /t/inbox/actions: the tab's bulk action on the ticked rows, each on
// the step its row showed, with one comment.
void bulk_act(Call& c) {
  std::string location = inbox_location(c.form);
  std::string tab = c.form.value("tab");
  auto action = parse_action(c.form.value("action"));
  bool offered = false;
  for (const auto& [a, label] : slack::bulk_actions(tab))
    offered = offered || (action && a == *action);
  if (!offered) return c.respond(malformed());
  std::vector<BulkTarget> targets;
  for (const auto& [key, value] : c.form.fields) {
    if (key != "task") continue;
    auto ref = slack::parse_task_ref(value);
    if (!ref) return c.respond(malformed());
    targets.push_back({ref->task, ref->step >= 0 ? std::optional<int>(ref->step) : std::nullopt});
  }
  if (targets.empty()) return c.refuse(location, "Select at least one task first.");
  Command cmd;
  cmd.action = *action;
  cmd.actor = c.viewer();
  cmd.comment = text_field(c.form, "comment");
  cmd.source = "web";
  Status queued = c.service.act_many(
      std::move(targets), std::move(cmd),
      [respond = c.respond, location, secure = c.secure](std::vector<BulkResult> results) {
        std::string text;
        bool any_refused = false;
        for (const BulkResult& r : results) {
          any_refused = any_refused || !r.outcome.ok();
          text += "#" + std::to_string(r.task) + ": " +
                  (r.outcome.ok() ? r.outcome->summary : refusal_text(r.outcome.status())) + "\n";
        }
        respond(flash_redirect(location, secure, any_refused, text));
      });
  if (!queued.ok()) c.refuse(location, queued.message());
}

// POST /t/access/extend: a request by the viewer for more time on access
// they hold with an end, as Slack's Extend… files it (edge/interactions.cc).
void extend_access(Call& c) {
  std::string location = inbox_location(c.form);
  std::string app = c.form.value("app"), resource = c.form.value("resource");
  if (app.empty() || resource.empty()) return c.respond(malformed());
  std::string text = c.form.value("duration");
  std::erase_if(text, [](char ch) { return ch == ' ' || ch == '\t'; });
  std::optional<Duration> duration = parse_duration(text);
  auto fail = [&](const std::string& why) { c.refuse(location, why); };
  if (!duration) return fail("Give a duration such as 4h, 1d or 2w.");
  std::string reason = text_field(c.form, "reason");
  if (reason.empty()) return fail("Say why you need more time.");
  // A stale page's form, once the access is gone: not a new request in disguise.
  auto held =
      c.store.holdings({.person = c.viewer(), .app = app, .resource = resource, .limit = 1});
  if (!held.ok()) return fail(refusal_text(held.status()));
  if (held->empty()) return fail("You no longer hold this access: request it anew instead.");
  RequestInput req;
  req.requester = c.viewer();
  req.subject = c.viewer();
  req.app = app;
  req.resource = resource;
  req.justification = reason;
  req.duration = duration;
  c.service.request(std::move(req),
                    [respond = c.respond, location, secure = c.secure](StatusOr<Decision> d) {
                      respond(flash_redirect(location, secure, !d.ok(),
                                             d.ok() ? d->summary : refusal_text(d.status())));
                    });
}

// POST /t/access/done: the viewer ends their own access now.
void end_access(Call& c) {
  std::string location = inbox_location(c.form);
  std::string app = c.form.value("app"), resource = c.form.value("resource");
  if (app.empty() || resource.empty()) return c.respond(malformed());
  c.service.end_access_of(
      c.viewer(), app, resource, c.viewer(),
      [respond = c.respond, location, secure = c.secure](StatusOr<std::string> done) {
        respond(flash_redirect(location, secure, !done.ok(),
                               done.ok() ? *done : refusal_text(done.status())));
      });
}

// The clearing of a flash once shown.
std::string flash_shown(const std::optional<Flash>& flash, bool secure) {
  return flash ? cookie(kFlashCookie, "", 0, secure) : std::string();
}

// GET /t/tasks/<n>
Response show_task(Call& c, const Request& req, TaskNumber n) {
  auto t = c.store.task(n);
  if (!t.ok() && t.code() != Code::not_found) return busy();
  if (!t.ok() || !involved(c.engine->directory(), *t, c.viewer())) return not_yours(n);
  PageContext ctx{c.viewer(), csrf_token(c.options.key, c.session), take_flash(req)};
  return page(200, task_page(*c.engine, *t, ctx), flash_shown(ctx.flash, c.secure));
}

// GET /t/inbox?tab=…
Response show_inbox(Call& c, const Request& req) {
  auto query = slack::parse_form(req.query);
  std::string tab = query.ok() ? query->value("tab") : "";
  if (!is_inbox_tab(tab)) tab = "requests";
  auto tasks = read_home_tasks(c.store, c.viewer());
  if (!tasks.ok()) {
    spdlog::warn("web: cannot read {}'s tasks: {}", c.viewer(), tasks.status().to_string());
    return busy();
  }
  PageContext ctx{c.viewer(), csrf_token(c.options.key, c.session), take_flash(req)};
  return page(200, inbox_page(*c.engine, *tasks, tab, ctx), flash_shown(ctx.flash, c.secure));
}

}  // namespace

TaskPages::TaskPages(WebOptions options, TaskService& service, Store& store)
    : options_(std::move(options)),
      origin_(origin_of(options_.public_url)),
      secure_(options_.public_url.rfind("https://", 0) == 0),
      service_(service),
      store_(store) {}

bool TaskPages::handles(const Request& req) const {
  if (options_.public_url.empty() || options_.key.empty()) return false;
  return req.path == "/t" || req.path.rfind("/t/", 0) == 0;
}

void TaskPages::handle(const Request& req, http::Respond respond) {
  Match m = match(req.path);
  if (m.route == Route::none) return respond(message(404, "Not found", "There is no page here."));
  const char* method = is_form(m.route) ? "POST" : "GET";
  if (req.method != method) {
    Response r = message(405, "Method not allowed",
                         std::string("This address takes ") + method + " requests only.");
    r.headers.emplace_back("Allow", method);
    return respond(std::move(r));
  }
  if (m.route == Route::css) {
    Response r{200, "text/css; charset=utf-8", std::string(page_css()), {}};
    protect(r);
    return respond(std::move(r));
  }
  if (m.route == Route::opening) return respond(page(200, opening_page(m.task)));
  std::shared_ptr<const Engine> engine = service_.engine();
  Time now = engine->clock().now();
  const Directory& dir = engine->directory();

  if (m.route == Route::link) {
    // A link from a mail or a message: one person, one task, until it expires.
    Refusal refusal = Refusal::none;
    auto claims = verify_link(options_.key, m.token, now, &refusal);
    if (!claims && refusal == Refusal::expired) {
      return respond(message(410, "This link has expired",
                             "Links from Tollgate's emails work for a limited time. Open the task "
                             "from a newer email or from Slack."));
    }
    if (!claims) {
      return respond(message(400, "This link is not valid",
                             "It may have been cut short or changed. Open it again from your "
                             "email, or find the task in Slack."));
    }
    auto no_longer = [] {
      return message(403, "This link no longer opens this task",
                     "The task is not one of yours any more. Find your tasks in Slack.");
    };
    if (dir.person(claims->person) == nullptr) return respond(no_longer());
    auto task = store_.task(claims->task);
    if (!task.ok() && task.code() != Code::not_found) return respond(busy());
    if (!task.ok() || !involved(dir, *task, claims->person)) return respond(no_longer());
    Session session{claims->person, now + options_.session_ttl, new_session_id()};
    auto max_age = std::chrono::duration_cast<std::chrono::seconds>(options_.session_ttl).count();
    return respond(redirect("/t/open/" + std::to_string(claims->task),
                            cookie(kSessionCookie, sign_session(options_.key, session),
                                   static_cast<long long>(max_age), secure_)));
  }

  // Every other page and form: a session of a person the directory knows.
  Refusal refusal = Refusal::none;
  std::string value = cookie_value(req, kSessionCookie);
  auto session = value.empty() ? std::nullopt : verify_session(options_.key, value, now, &refusal);
  if (!session || dir.person(session->person) == nullptr) return respond(session_ended());
  Call c{options_, secure_, service_, store_, engine, *session, respond, {}};
  if (m.route == Route::task) return respond(show_task(c, req, m.task));
  if (m.route == Route::inbox) return respond(show_inbox(c, req));

  // A form: from Tollgate's own pages, with this session's token.
  const std::string* origin = req.header("origin");
  const std::string* referer = req.header("referer");
  bool ours = origin != nullptr    ? *origin == origin_
              : referer != nullptr ? referer->rfind(options_.public_url + "/", 0) == 0
                                   : false;
  if (!ours) return respond(forged());
  auto form = slack::parse_form(req.body);
  if (!form.ok()) return respond(malformed());
  if (!check_csrf(options_.key, c.session, form->value("csrf"))) return respond(forged());
  c.form = std::move(*form);
  switch (m.route) {
    case Route::task_actions:
      return act_on_task(c, m.task);
    case Route::task_comments:
      return comment_on_task(c, m.task);
    case Route::task_reassign:
      return reassign_task(c, m.task);
    case Route::inbox_actions:
      return bulk_act(c);
    case Route::access_extend:
      return extend_access(c);
    case Route::access_done:
      return end_access(c);
    default:
      return respond(message(404, "Not found", "There is no page here."));
  }
}

}  // namespace tollgate::web
