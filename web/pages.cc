#include "web/pages.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "base/time_text.h"
#include "mail/templates.h"
#include "slack/home_view.h"
#include "slack/markup.h"
#include "slack/views.h"

namespace tollgate::web {
namespace {

using mail::html_escape;

std::string esc(std::string_view text) {
  return html_escape(text);
}

// At most `max` bytes of `text`, never inside a UTF-8 character.
std::string_view cut(std::string_view text, std::size_t max) {
  if (text.size() <= max) return text;
  while (max > 0 && (static_cast<unsigned char>(text[max]) & 0xC0) == 0x80) --max;
  return text.substr(0, max);
}

// ---- The document ----

std::string head(const std::string& title) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<title>" +
         esc(title) +
         " · Tollgate</title>\n"
         "<link rel=\"stylesheet\" href=\"/t/static/page.css\">\n</head>\n<body>\n"
         "<a class=\"skip\" href=\"#main\">Skip to content</a>\n";
}

std::string header(bool inbox_link) {
  std::string out = "<header>\n<p class=\"brand\">Tollgate</p>\n";
  if (inbox_link) out += "<nav aria-label=\"Site\"><a href=\"/t/inbox\">All my tasks</a></nav>\n";
  return out + "</header>\n";
}

std::string document(const std::string& title, bool inbox_link, const std::string& content) {
  return head(title) + header(inbox_link) + "<main id=\"main\">\n" + content +
         "</main>\n</body>\n</html>\n";
}

// Text that may hold line breaks, as paragraphs' worth of lines.
std::string multiline(const std::string& text) {
  std::string out;
  std::size_t start = 0;
  while (true) {
    auto nl = text.find('\n', start);
    out += esc(std::string_view(text).substr(start, nl == std::string::npos ? nl : nl - start));
    if (nl == std::string::npos) break;
    out += "<br>";
    start = nl + 1;
  }
  return out;
}

// The status region: always there, so that assistive technology announces
// what appears in it; the result of the last action when there is one.
std::string flash_area(const std::optional<Flash>& flash) {
  if (!flash || flash->text.empty()) return "<div id=\"flash\" role=\"status\"></div>\n";
  std::string out = std::string("<div id=\"flash\" role=\"status\" class=\"") +
                    (flash->error ? "error" : "ok") + "\">";
  std::size_t start = 0;
  while (start <= flash->text.size()) {
    auto nl = flash->text.find('\n', start);
    std::string_view line =
        std::string_view(flash->text).substr(start, nl == std::string::npos ? nl : nl - start);
    if (!line.empty()) out += "<p>" + esc(line) + "</p>";
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out + "</div>\n";
}

std::string hidden(const std::string& name, const std::string& value) {
  return "<input type=\"hidden\" name=\"" + esc(name) + "\" value=\"" + esc(value) + "\">\n";
}

// ---- Names and facts ----

std::string names(const Directory& d, const std::vector<PersonId>& ids) {
  std::string out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += (i + 1 == ids.size()) ? " and " : ", ";
    out += d.display_name(ids[i]);
  }
  return out.empty() ? "nobody" : out;
}

// "Ana Silva (Engineer, Platform)".
std::string person_line(const Directory& d, const PersonId& id) {
  const Person* p = d.person(id);
  if (p == nullptr) return d.display_name(id);
  std::string role = p->title;
  if (!p->department.empty()) role += role.empty() ? p->department : ", " + p->department;
  return p->name + (role.empty() ? "" : " (" + role + ")");
}

bool contains(const std::vector<PersonId>& v, const PersonId& p) {
  return std::find(v.begin(), v.end(), p) != v.end();
}

std::string readable_state(TaskState s) {
  std::string out(state_name(s));
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

bool by_connector(const TaskStep& s) {
  return s.connector && s.decided_by == kSystemActor;
}

// "approved", or for a connector's change "provisioned" (as Slack says it).
std::string decided_verb(const TaskStep& s) {
  if (by_connector(s)) return s.kind == StepKind::deprovision ? "deprovisioned" : "provisioned";
  return outcome_verb(*s.outcome);
}

bool connector_working(const TaskStep& s) {
  return s.state == StepState::current && s.connector &&
         s.connector->phase != ConnectorRun::Phase::failed;
}
bool connector_failed(const TaskStep& s) {
  return s.state == StepState::current && s.connector &&
         s.connector->phase == ConnectorRun::Phase::failed;
}

// "SCIM (Okta) could not add the access: “HTTP 503”".
std::string connector_failure(const TaskStep& s) {
  const ConnectorRun& run = *s.connector;
  std::string line = run.label + (s.kind == StepKind::deprovision ? " could not remove the access"
                                                                  : " could not add the access");
  if (!run.answer.empty()) line += ": “" + run.answer + "”";
  return line;
}

// "Provisioning by SCIM (Okta)… (attempt 2)", "Waiting for webhook (Deploy bot) to confirm".
std::string connector_progress(const TaskStep& s) {
  const ConnectorRun& run = *s.connector;
  if (run.phase == ConnectorRun::Phase::accepted) return "Waiting for " + run.label + " to confirm";
  std::string line = (s.kind == StepKind::deprovision ? "Deprovisioning by " : "Provisioning by ") +
                     run.label + "…";
  if (run.attempt > 1) line += " (attempt " + std::to_string(run.attempt) + ")";
  return line;
}

std::string step_text(const Engine& e, const Task& t, int i) {
  return "step " + std::to_string(i + 1) + " of " + std::to_string(t.steps.size()) + " (" +
         step_label(e.directory(), t.steps[static_cast<std::size_t>(i)]) + ")";
}

// Where the task stands, in a line of plain text.
std::string state_line(const Engine& e, const Task& t) {
  const Directory& d = e.directory();
  std::string state = readable_state(t.state);
  state[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(state[0])));
  if (t.closed()) {
    std::string line = state;
    if (t.state == TaskState::cancelled && !t.closed_by.empty())
      line += " by " + d.display_name(t.closed_by);
    if (t.closed_at) line += " · " + format_instant(*t.closed_at);
    return line;
  }
  int i = t.current_step();
  const TaskStep& s = t.steps[static_cast<std::size_t>(i)];
  std::string line = state + " · " + step_text(e, t, i);
  if (connector_working(s)) return line + " · " + connector_progress(s);
  if (connector_failed(s)) line += " · " + connector_failure(s);
  return line + " · waiting for " + names(d, s.assignees);
}

std::string duration_line(const Directory& d, const Task& t) {
  if (!t.duration) return "No end";
  std::string out = format_duration(*t.duration);
  if (!t.duration_by.empty()) out += " (chosen by " + d.display_name(t.duration_by) + ")";
  return out;
}

std::string task_heading(const Directory& d, const Task& t) {
  return std::string(t.kind == TaskKind::grant ? "Access request" : "Revocation") + " #" +
         std::to_string(t.number) + ": " + d.display_name(t.subject) + " → " + t.app_name + " / " +
         t.resource_name;
}

// ---- The task page's sections ----

std::string details(const Engine& e, const Task& t) {
  const Directory& d = e.directory();
  auto row = [](const std::string& term, const std::string& value_html) {
    return "<dt>" + esc(term) + "</dt><dd>" + value_html + "</dd>\n";
  };
  std::string out =
      "<section aria-labelledby=\"details-h\">\n<h2 id=\"details-h\">Details</h2>\n<dl>\n";
  out += row("Account", esc(person_line(d, t.subject)));
  out += row("Resource",
             esc(t.app_name + " / " + t.resource_name + (t.sensitive ? " (sensitive)" : "")));
  out += row("Requested by", esc(person_line(d, t.requester)));
  out += row(t.kind == TaskKind::grant ? "Justification" : "Reason",
             t.justification.empty()
                 ? "<em>none given</em>"
                 : "<span class=\"text\">" + multiline(t.justification) + "</span>");
  out += row("Emergency", t.emergency ? "Yes" : "No");
  out += row("Duration", esc(duration_line(d, t)));
  out += row("State", esc(state_line(e, t)));
  out += row("Opened", esc(format_instant(t.created_at)));
  return out + "</dl>\n</section>\n";
}

std::string insights(const Task& t) {
  std::string out =
      "<section aria-labelledby=\"insights-h\">\n<h2 id=\"insights-h\">Insights</h2>\n";
  if (t.insights.empty()) return out + "<p>No insights for this task.</p>\n</section>\n";
  out += "<ul>\n";
  for (const Insight& i : t.insights) out += "<li>" + esc(i.text) + "</li>\n";
  return out + "</ul>\n</section>\n";
}

std::string step_state_text(StepState s) {
  switch (s) {
    case StepState::upcoming:
      return "Upcoming";
    case StepState::current:
      return "Open";
    case StepState::done:
      return "Done";
    case StepState::skipped:
      return "Not needed";
  }
  return {};
}

// One step of the plan: label, state, people, decision and by whom.
std::string plan_step(const Directory& d, const Task& t, const PlanStep& p,
                      const PersonId& viewer) {
  const TaskStep& s = t.steps[static_cast<std::size_t>(p.index)];
  bool open_mine = p.state == StepState::current && contains(s.assignees, viewer);
  std::string attrs;
  if (p.viewer_involved || open_mine) attrs += " class=\"mine\"";
  if (open_mine) attrs += " aria-current=\"step\"";
  std::string text;
  if (p.state == StepState::done && s.outcome) {
    text = decided_verb(s) + " by " +
           (by_connector(s) ? decider_name(d, s) : d.display_name(s.decided_by));
    if (s.decided_at) text += " at " + format_instant(*s.decided_at);
    if (!s.comment.empty()) text += ": “" + s.comment + "”";
    text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
  } else if (connector_working(s)) {
    text = connector_progress(s);
  } else if (p.state == StepState::current) {
    if (connector_failed(s)) text = connector_failure(s) + " · ";
    text += "Waiting for " + names(d, p.people);
  } else if (p.state == StepState::upcoming) {
    text = "Then " + (s.connector ? s.connector->label : names(d, p.people));
  }
  if (p.by_fallback) text += " (fallback)";
  std::string out = "<li" + attrs + "><strong>" + esc(p.label) +
                    "</strong> · <span class=\"state\">" + esc(step_state_text(p.state)) +
                    "</span>";
  if (!text.empty()) out += " · " + esc(text);
  if (p.viewer_involved || open_mine) out += " <strong class=\"you\">(you)</strong>";
  return out + "</li>\n";
}

std::string plan(const Engine& e, const Task& t, const PersonId& viewer) {
  Plan pl = e.plan(t, viewer);
  std::string out =
      "<section aria-labelledby=\"plan-h\">\n<h2 id=\"plan-h\">Execution plan</h2>\n<p>" +
      esc(pl.headline.empty() ? pl.policy_name : pl.headline) + "</p>\n<ol class=\"plan\">\n";
  for (const PlanStep& p : pl.steps) out += plan_step(e.directory(), t, p, viewer);
  return out + "</ol>\n</section>\n";
}

std::string comments(const Directory& d, const Task& t, const PageContext& ctx) {
  std::string n = std::to_string(t.number);
  std::string out =
      "<section aria-labelledby=\"comments-h\">\n<h2 id=\"comments-h\">Comments</h2>\n";
  std::string list;
  for (const Comment& c : t.comments) {
    if (c.deleted) continue;
    std::string author =
        c.author.rfind("slack:", 0) == 0 ? "A Slack user" : d.display_name(c.author);
    list += "<li><p class=\"meta\"><strong>" + esc(author) + "</strong> · " +
            esc(format_instant(c.at)) + (c.edited_at ? " · edited" : "") +
            "</p><p class=\"text\">" + multiline(c.text) + "</p></li>\n";
  }
  out +=
      list.empty() ? "<p>No comments yet.</p>\n" : "<ol class=\"comments\">\n" + list + "</ol>\n";
  out += "<form id=\"comment-form\" method=\"post\" action=\"/t/tasks/" + n + "/comments\">\n" +
         hidden("csrf", ctx.csrf) +
         "<label for=\"comment-text\">Add a comment</label>\n"
         "<textarea id=\"comment-text\" name=\"text\" rows=\"3\" required></textarea>\n"
         "<button type=\"submit\">Comment</button>\n</form>\n";
  return out + "</section>\n";
}

// Who the open step may go to: the step's list when it has one (groups
// expanded), else everyone in the directory.
std::vector<const Person*> reassign_choices(const Directory& d, const TaskStep& s) {
  std::vector<const Person*> out;
  auto add = [&](const PersonId& id) {
    const Person* p = d.person(id);
    if (p != nullptr && std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  };
  if (s.rule.reassign_to.empty()) {
    for (const Person& p : d.people) out.push_back(&p);
    return out;
  }
  for (const PersonId& id : s.rule.reassign_to) {
    if (const Group* g = d.group(id)) {
      for (const PersonId& m : g->members) add(m);
    } else {
      add(id);
    }
  }
  return out;
}

std::string action_form(const Task& t, int step, const OfferedAction& a, const PageContext& ctx) {
  std::string name(action_name(a.action));
  std::string id = "comment-" + name;
  return "<form class=\"action\" method=\"post\" action=\"/t/tasks/" + std::to_string(t.number) +
         "/actions\">\n" + hidden("csrf", ctx.csrf) + hidden("step", std::to_string(step)) +
         hidden("action", name) + "<label for=\"" + id + "\">" +
         (a.reason_required ? "Reason (required)" : "Comment (optional)") + "</label>\n" +
         "<textarea id=\"" + id + "\" name=\"comment\" rows=\"2\"" +
         (a.reason_required ? " aria-required=\"true\"" : "") + "></textarea>\n" +
         "<button type=\"submit\"" +
         (a.action == Action::approve || a.action == Action::confirm ||
                  a.action == Action::provisioned || a.action == Action::deprovisioned
              ? " class=\"primary\""
              : "") +
         ">" + esc(a.label) + "</button>\n</form>\n";
}

std::string reassign_form(const Directory& d, const Task& t, const PageContext& ctx) {
  int step = t.current_step();
  const TaskStep& s = t.steps[static_cast<std::size_t>(step)];
  std::string out = "<form class=\"action\" method=\"post\" action=\"/t/tasks/" +
                    std::to_string(t.number) + "/reassign\">\n" + hidden("csrf", ctx.csrf) +
                    hidden("step", std::to_string(step)) +
                    "<label for=\"reassign-to\">Reassign to</label>\n"
                    "<select id=\"reassign-to\" name=\"to\">\n"
                    "<option value=\"\">Choose a person</option>\n";
  for (const Person* p : reassign_choices(d, s))
    out += "<option value=\"" + esc(p->id) + "\">" + esc(p->name) + "</option>\n";
  return out +
         "</select>\n<label for=\"reassign-reason\">Reason (required)</label>\n"
         "<textarea id=\"reassign-reason\" name=\"comment\" rows=\"2\" aria-required=\"true\">"
         "</textarea>\n<button type=\"submit\">Reassign</button>\n</form>\n";
}

std::string your_actions(const Engine& e, const Task& t, const PageContext& ctx) {
  const Directory& d = e.directory();
  std::vector<OfferedAction> offered = offered_actions(t, ctx.viewer);
  bool reassign = can_reassign(d, t, ctx.viewer);
  if (offered.empty() && !reassign) return {};
  int step = t.current_step();
  const TaskStep& s = t.steps[static_cast<std::size_t>(step)];
  std::string out =
      "<section aria-labelledby=\"actions-h\">\n<h2 id=\"actions-h\">Your actions</h2>\n";
  if (auto it = s.delegated_for.find(ctx.viewer); it != s.delegated_for.end() && !offered.empty())
    out += "<p>Delegated to you: " + esc(d.display_name(it->second)) + " is out of office.</p>\n";
  if (connector_failed(s)) out += "<p class=\"warning\">" + esc(connector_failure(s)) + ".</p>\n";
  // The instructions, for the people doing the change by hand.
  if (!offered.empty() && s.kind != StepKind::review && !t.instructions.empty()) {
    out += std::string("<p><strong>") +
           (s.kind == StepKind::provision ? "How to provision" : "How to remove") +
           "</strong>: <span class=\"text\">" + multiline(t.instructions) + "</span></p>\n";
  }
  for (const OfferedAction& a : offered) out += action_form(t, step, a, ctx);
  if (reassign) out += reassign_form(d, t, ctx);
  return out + "</section>\n";
}

// ---- The inbox ----

const char* tab_title(std::string_view tab) {
  if (tab == "requests") return "Requests";
  if (tab == "revocations") return "Revocations";
  if (tab == "provisioning") return "Awaiting provisioning";
  if (tab == "deprovisioning") return "Awaiting deprovisioning";
  return "Completed";
}

std::string task_summary(const Directory& d, const Task& t) {
  return std::string(t.kind == TaskKind::grant ? "Access request" : "Revocation") +
         (t.emergency ? " (emergency)" : "") + " · " + d.display_name(t.subject) + " → " +
         t.app_name + " / " + t.resource_name;
}

std::string task_anchor(const Directory& d, const Task& t) {
  return "<a href=\"/t/tasks/" + std::to_string(t.number) + "\">" + esc(task_summary(d, t)) +
         "</a>";
}

std::string open_rows(const Engine& e, const std::vector<const Task*>& rows) {
  const Directory& d = e.directory();
  std::string out;
  for (const Task* t : rows) {
    std::string n = std::to_string(t->number);
    int i = t->current_step();
    const TaskStep& s = t->steps[static_cast<std::size_t>(i)];
    std::string value = n + ":" + std::to_string(i);
    std::string step = "Step " + std::to_string(i + 1) + " of " + std::to_string(t->steps.size()) +
                       " · " + step_label(d, s);
    if (connector_failed(s)) step += " · " + s.connector->label + " failed";
    out += "<tr><td><input type=\"checkbox\" name=\"task\" value=\"" + esc(value) +
           "\" id=\"pick-" + n + "\"> <label for=\"pick-" + n + "\">#" + n + "</label></td><td>" +
           task_anchor(d, *t) + "<br><span class=\"muted\">" + esc(cut(t->justification, 200)) +
           "</span></td><td>" + esc(step) + "</td><td>" +
           esc(format_instant(s.opened_at.value_or(t->created_at))) + "</td></tr>\n";
  }
  return out;
}

std::string open_tab(const Engine& e, const std::string& tab, const std::vector<const Task*>& rows,
                     const PageContext& ctx) {
  if (rows.empty()) return "<p>Nothing waiting for you here.</p>\n";
  std::string out = "<form id=\"bulk\" method=\"post\" action=\"/t/inbox/actions\">\n" +
                    hidden("csrf", ctx.csrf) + hidden("tab", tab) +
                    "<div class=\"scroll\"><table>\n<caption>" + esc(tab_title(tab)) +
                    " waiting for you</caption>\n<thead><tr><th scope=\"col\">Select</th>"
                    "<th scope=\"col\">Task</th><th scope=\"col\">Step</th>"
                    "<th scope=\"col\">Since</th></tr></thead>\n<tbody>\n" +
                    open_rows(e, rows) + "</tbody>\n</table></div>\n" +
                    "<label for=\"bulk-comment\">Comment (posted on each task)</label>\n"
                    "<textarea id=\"bulk-comment\" name=\"comment\" rows=\"2\"></textarea>\n"
                    "<div class=\"buttons\">\n";
  for (const auto& [action, label] : slack::bulk_actions(tab)) {
    out += "<button type=\"submit\" name=\"action\" value=\"" + std::string(action_name(action)) +
           "\">" + esc(label) + "</button>\n";
  }
  return out + "</div>\n</form>\n";
}

std::string completed_tab(const Engine& e, const std::vector<const Task*>& rows) {
  const Directory& d = e.directory();
  if (rows.empty()) return "<p>Nothing completed yet.</p>\n";
  std::string out =
      "<div class=\"scroll\"><table>\n<caption>Completed tasks you took part in</caption>\n"
      "<thead><tr><th scope=\"col\">Task</th><th scope=\"col\">What</th>"
      "<th scope=\"col\">Outcome</th><th scope=\"col\">Closed</th></tr></thead>\n<tbody>\n";
  for (const Task* t : rows) {
    out += "<tr><td>#" + std::to_string(t->number) + "</td><td>" + task_anchor(d, *t) +
           "</td><td>" + esc(readable_state(t->state)) + "</td><td>" +
           esc(format_instant(t->closed_at.value_or(t->updated_at))) + "</td></tr>\n";
  }
  return out + "</tbody>\n</table></div>\n";
}

std::string extend_form(const Directory& d, const Holding& h, std::size_t i, const std::string& tab,
                        const PageContext& ctx) {
  const Resource* r = d.resource(h.app, h.resource);
  std::vector<Duration> choices =
      slack::duration_choices(r != nullptr ? r->max_duration : std::nullopt, true);
  std::string n = std::to_string(i);
  std::string out = "<form class=\"access\" method=\"post\" action=\"/t/access/extend\">\n" +
                    hidden("csrf", ctx.csrf) + hidden("app", h.app) +
                    hidden("resource", h.resource) + hidden("tab", tab) +
                    "<label for=\"extend-duration-" + n + "\">How much longer</label>\n";
  if (choices.empty()) {
    out += "<input id=\"extend-duration-" + n + "\" name=\"duration\" type=\"text\" size=\"8\">\n";
  } else {
    out += "<select id=\"extend-duration-" + n +
           "\" name=\"duration\">\n"
           "<option value=\"\">How long</option>\n";
    for (Duration c : choices) {
      std::string text = format_duration(c);
      out += "<option value=\"" + esc(text) + "\">" + esc(text) + "</option>\n";
    }
    out += "</select>\n";
  }
  return out + "<label for=\"extend-reason-" + n + "\">Why (required)</label>\n" +
         "<textarea id=\"extend-reason-" + n +
         "\" name=\"reason\" rows=\"2\" aria-required=\"true\"></textarea>\n"
         "<button type=\"submit\">Extend</button>\n</form>\n";
}

std::string done_form(const Holding& h, const std::string& tab, const PageContext& ctx) {
  return "<form class=\"access\" method=\"post\" action=\"/t/access/done\">\n" +
         hidden("csrf", ctx.csrf) + hidden("app", h.app) + hidden("resource", h.resource) +
         hidden("tab", tab) + "<button type=\"submit\">I'm done</button>\n</form>\n";
}

std::string your_access(const Engine& e, const std::vector<Holding>& rows, const std::string& tab,
                        const PageContext& ctx) {
  const Directory& d = e.directory();
  Time now = e.clock().now();
  std::string out =
      "<section aria-labelledby=\"access-h\">\n<h2 id=\"access-h\">Your access</h2>\n";
  if (rows.empty()) return out + "<p>You hold no access that Tollgate knows of.</p>\n</section>\n";
  out += "<ul class=\"access\">\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Holding& h = rows[i];
    out += "<li><p>" + esc(access_row_text(d, h, now)) + "</p>\n";
    // As on My access: nothing left to do once its removal is under way.
    if (h.ending_task == 0) {
      if (h.expires_at) out += extend_form(d, h, i, tab, ctx);
      out += done_form(h, tab, ctx);
    }
    out += "</li>\n";
  }
  return out + "</ul>\n</section>\n";
}

}  // namespace

std::vector<OfferedAction> offered_actions(const Task& t, const PersonId& viewer) {
  const TaskStep* s = t.current();
  if (s == nullptr || s->state != StepState::current || !contains(s->assignees, viewer)) return {};
  auto needs = [&](Action a) { return s->rule.require_reason.count(a) != 0; };
  std::vector<OfferedAction> out;
  switch (s->kind) {
    case StepKind::review:
      // Slack's labels: a revocation's "deny" keeps the access, and says so.
      if (t.kind == TaskKind::grant) {
        out.push_back({Action::approve, "Approve", needs(Action::approve)});
        out.push_back({Action::deny, "Deny", needs(Action::deny)});
      } else {
        out.push_back({Action::confirm, "Confirm removal", needs(Action::confirm)});
        out.push_back({Action::deny, "Keep access", needs(Action::deny)});
      }
      break;
    case StepKind::provision:
      out.push_back({Action::provisioned, "Provisioned", needs(Action::provisioned)});
      out.push_back({Action::wont_provision, "Won't provision", true});
      break;
    case StepKind::deprovision:
      out.push_back({Action::deprovisioned, "Deprovisioned", needs(Action::deprovisioned)});
      out.push_back({Action::wont_deprovision, "Won't deprovision", true});
      break;
  }
  if (s->connector && s->connector->phase == ConnectorRun::Phase::failed)
    out.push_back({Action::retry, "Retry", false});
  return out;
}

std::string task_page(const Engine& e, const Task& t, const PageContext& ctx) {
  std::string body = "<h1>" + esc(task_heading(e.directory(), t)) + "</h1>\n" +
                     flash_area(ctx.flash) + details(e, t) + insights(t) + plan(e, t, ctx.viewer) +
                     comments(e.directory(), t, ctx) + your_actions(e, t, ctx);
  return document("#" + std::to_string(t.number), true, body);
}

bool is_inbox_tab(std::string_view tab) {
  return std::find(std::begin(kInboxTabs), std::end(kInboxTabs), tab) != std::end(kInboxTabs);
}

std::string inbox_page(const Engine& e, const slack::HomeTasks& tasks, const std::string& tab_in,
                       const PageContext& ctx) {
  std::string tab = is_inbox_tab(tab_in) ? tab_in : "requests";
  // Counts and membership as the App Home has them (slack::home_tab_of).
  std::map<std::string, int> counts;
  std::vector<const Task*> rows;
  for (const Task& t : tasks.open) {
    std::string of = slack::home_tab_of(t);
    ++counts[of];
    if (of == tab) rows.push_back(&t);
  }
  counts["completed"] = static_cast<int>(tasks.completed.size());
  if (tab == "completed") {
    for (const Task& t : tasks.completed) rows.push_back(&t);
  }
  std::string body = "<h1>All my tasks</h1>\n" + flash_area(ctx.flash) +
                     "<nav aria-label=\"Tabs\">\n<ul class=\"tabs\">\n";
  for (const char* t : kInboxTabs) {
    body += std::string("<li><a href=\"/t/inbox?tab=") + t + "\"" +
            (tab == t ? " aria-current=\"page\"" : "") + ">" + tab_title(t) + " (" +
            std::to_string(counts[t]) + ")</a></li>\n";
  }
  body += "</ul>\n</nav>\n<section aria-labelledby=\"tab-h\">\n<h2 id=\"tab-h\">" +
          esc(tab_title(tab)) + "</h2>\n";
  body += tab == "completed" ? completed_tab(e, rows) : open_tab(e, tab, rows, ctx);
  body += "</section>\n" + your_access(e, tasks.access, tab, ctx);
  return document("All my tasks", true, body);
}

std::string opening_page(TaskNumber task) {
  std::string target = "/t/tasks/" + std::to_string(task);
  std::string html = head("Opening #" + std::to_string(task));
  // The refresh goes in the head; head() ends it, so put it before the body's first tag.
  auto at = html.find("</head>");
  html.insert(at, "<meta http-equiv=\"refresh\" content=\"0;url=" + target + "\">\n");
  return html + header(false) + "<main id=\"main\">\n<h1>Opening #" + std::to_string(task) +
         "</h1>\n<p><a href=\"" + target + "\">Continue to #" + std::to_string(task) +
         "</a></p>\n</main>\n</body>\n</html>\n";
}

std::string message_page(const std::string& heading, const std::string& text, bool inbox_link) {
  std::string body = "<h1>" + esc(heading) + "</h1>\n<p>" + esc(text) + "</p>\n";
  return document(heading, inbox_link, body);
}

std::string access_row_text(const Directory& d, const Holding& h, Time now) {
  // slack::access_line's words, read as text: its escapes undone and the
  // bold name ("*AWS / Staging* — …") unmarked.
  std::string line = slack::unescape(slack::access_line(d, h, now).str());
  if (line.rfind('*', 0) == 0) {
    auto close = line.find("* — ");
    if (close != std::string::npos) line = line.substr(1, close - 1) + line.substr(close + 1);
  }
  return line;
}

std::string_view page_css() {
  return R"css(*, *::before, *::after { box-sizing: border-box; }
html { font-size: 100%; -webkit-text-size-adjust: 100%; }
body { margin: 0 auto; max-width: 52rem; padding: 0 1rem 3rem; font-family: system-ui, -apple-system,
  "Segoe UI", Roboto, Helvetica, Arial, sans-serif; line-height: 1.5; color: #1a1a1a; background: #ffffff; }
main { overflow-wrap: break-word; }
.skip { position: absolute; left: -999px; top: 0; background: #ffffff; color: #0b4f9c; padding: .5rem; }
.skip:focus { left: 1rem; }
header { display: flex; flex-wrap: wrap; justify-content: space-between; align-items: center; gap: .5rem;
  border-bottom: 1px solid #6b6b6b; padding: .75rem 0; margin-bottom: 1rem; }
header .brand { margin: 0; font-weight: 700; font-size: 1.125rem; }
h1 { font-size: 1.5rem; line-height: 1.25; margin: .5rem 0 1rem; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 1.75rem 0 .5rem; border-bottom: 1px solid #d0d0d0; padding-bottom: .25rem; }
a { color: #0b4f9c; text-decoration: underline; }
a:visited { color: #5a2d91; }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible,
textarea:focus-visible { outline: 3px solid #b35900; outline-offset: 2px; }
dl { display: grid; grid-template-columns: minmax(7rem, max-content) 1fr; gap: .25rem 1rem; margin: 0; }
dt { font-weight: 700; }
dd { margin: 0; overflow-wrap: anywhere; }
@media (max-width: 30rem) { dl { grid-template-columns: 1fr; } dd { margin-bottom: .5rem; } }
.text { white-space: pre-wrap; overflow-wrap: anywhere; }
.muted { color: #4d4d4d; }
.warning { border-left: 4px solid #8a4b00; padding-left: .75rem; }
ol.plan li { margin: .35rem 0; padding: .25rem .5rem; }
ol.plan li.mine { border-left: 4px solid #0b4f9c; background: #eef4fb; }
.you { color: #0b4f9c; }
ol.comments { list-style: none; padding: 0; }
ol.comments li { border-left: 3px solid #d0d0d0; padding: .25rem .75rem; margin: .5rem 0; }
ol.comments .meta { margin: 0; font-size: .9rem; color: #4d4d4d; }
ol.comments .text { margin: .25rem 0 0; }
form { margin: 1rem 0; }
form.action, form.access { border: 1px solid #c4c4c4; border-radius: 6px; padding: .75rem; }
label { display: block; font-weight: 600; margin: .5rem 0 .25rem; }
textarea, select, input[type="text"] { width: 100%; max-width: 100%; font: inherit; padding: .5rem;
  color: #1a1a1a; background: #ffffff; border: 1px solid #6b6b6b; border-radius: 4px; }
input[type="checkbox"] { width: 1.25rem; height: 1.25rem; vertical-align: middle; }
td label { display: inline; font-weight: 700; margin: 0; }
button { font: inherit; font-weight: 600; margin-top: .5rem; padding: .5rem 1rem; min-height: 2.75rem;
  color: #ffffff; background: #3d3d3d; border: 2px solid #3d3d3d; border-radius: 6px; cursor: pointer; }
button.primary { background: #0b4f9c; border-color: #0b4f9c; }
button:hover { background: #1a1a1a; border-color: #1a1a1a; }
.buttons { display: flex; flex-wrap: wrap; gap: .5rem; }
#flash:empty { display: none; }
#flash { border: 2px solid #1e6b32; background: #edf7ef; color: #14461f; padding: .5rem .75rem;
  border-radius: 6px; margin-bottom: 1rem; }
#flash.error { border-color: #a4161a; background: #fdeced; color: #7a0d10; }
#flash p { margin: .25rem 0; }
nav ul.tabs { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem .5rem; padding: 0; margin: 0 0 1rem; }
nav ul.tabs a { display: inline-block; padding: .4rem .6rem; border: 1px solid #6b6b6b; border-radius: 6px; }
nav ul.tabs a[aria-current="page"] { background: #0b4f9c; color: #ffffff; border-color: #0b4f9c;
  font-weight: 700; text-decoration: none; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; overflow-wrap: normal; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { text-align: left; vertical-align: top; padding: .4rem .5rem; border-bottom: 1px solid #d0d0d0; }
ul.access { list-style: none; padding: 0; }
ul.access > li { border-bottom: 1px solid #d0d0d0; padding: .5rem 0; }
)css";
}

}  // namespace tollgate::web
