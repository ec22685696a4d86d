#include "bot/slack/blocks.h"

#include <algorithm>

#include "bot/json.h"
#include "bot/slack/actions.h"
#include "bot/slack/views.h"
#include "workflow/time_text.h"

namespace tollgate::slack {
namespace {

// Escapes text for mrkdwn: Slack reads &, < and > as markup.
std::string esc(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out += c;
    }
  }
  return out;
}

class Blocks {
 public:
  Blocks() : w_(buf_) { w_.StartArray(); }

  void header(const std::string& text) {
    w_.StartObject();
    json::kv(w_, "type", "header");
    text_object("text", "plain_text", truncate(text, 150));
    w_.EndObject();
    ++count_;
  }
  void section(const std::string& mrkdwn, const std::string& block_id = {}) {
    if (mrkdwn.empty()) return;
    w_.StartObject();
    json::kv(w_, "type", "section");
    if (!block_id.empty()) json::kv(w_, "block_id", block_id);
    text_object("text", "mrkdwn", truncate(mrkdwn, 3000));
    w_.EndObject();
    ++count_;
  }
  void fields(const std::vector<std::pair<std::string, std::string>>& fs) {
    if (fs.empty()) return;
    w_.StartObject();
    json::kv(w_, "type", "section");
    json::key(w_, "fields");
    w_.StartArray();
    for (std::size_t i = 0; i < fs.size() && i < 10; ++i) {
      w_.StartObject();
      json::kv(w_, "type", "mrkdwn");
      json::kv(w_, "text", truncate("*" + fs[i].first + "*\n" + fs[i].second, 2000));
      w_.EndObject();
    }
    w_.EndArray();
    w_.EndObject();
    ++count_;
  }
  void context(const std::vector<std::string>& lines) {
    if (lines.empty()) return;
    w_.StartObject();
    json::kv(w_, "type", "context");
    json::key(w_, "elements");
    w_.StartArray();
    for (std::size_t i = 0; i < lines.size() && i < 10; ++i) {
      w_.StartObject();
      json::kv(w_, "type", "mrkdwn");
      json::kv(w_, "text", truncate(lines[i], 3000));
      w_.EndObject();
    }
    w_.EndArray();
    w_.EndObject();
    ++count_;
  }
  void divider() {
    w_.StartObject();
    json::kv(w_, "type", "divider");
    w_.EndObject();
    ++count_;
  }

  struct Button {
    std::string action_id;
    std::string text;
    std::string value;
    std::string style;    // "", "primary", "danger"
    std::string confirm;  // a confirmation question, or empty
  };
  struct Option {
    std::string text;
    std::string value;
  };
  void actions(const std::string& block_id, const std::vector<Button>& buttons,
               const std::vector<Option>& more) {
    w_.StartObject();
    json::kv(w_, "type", "actions");
    json::kv(w_, "block_id", block_id);
    json::key(w_, "elements");
    w_.StartArray();
    for (const Button& b : buttons) {
      w_.StartObject();
      json::kv(w_, "type", "button");
      json::kv(w_, "action_id", b.action_id);
      text_object("text", "plain_text", truncate(b.text, 75));
      json::kv(w_, "value", truncate(b.value, 2000));
      if (!b.style.empty()) json::kv(w_, "style", b.style);
      if (!b.confirm.empty()) {
        json::key(w_, "confirm");
        w_.StartObject();
        text_object("title", "plain_text", "Are you sure?");
        text_object("text", "mrkdwn", truncate(b.confirm, 300));
        text_object("confirm", "plain_text", truncate(b.text, 30));
        text_object("deny", "plain_text", "Cancel");
        w_.EndObject();
      }
      w_.EndObject();
    }
    if (!more.empty()) {
      w_.StartObject();
      json::kv(w_, "type", "overflow");
      json::kv(w_, "action_id", kMoreActions);
      json::key(w_, "options");
      w_.StartArray();
      for (std::size_t i = 0; i < more.size() && i < 5; ++i) {
        w_.StartObject();
        text_object("text", "plain_text", truncate(more[i].text, 75));
        json::kv(w_, "value", truncate(more[i].value, 150));
        w_.EndObject();
      }
      w_.EndArray();
      w_.EndObject();
    }
    w_.EndArray();
    w_.EndObject();
    ++count_;
  }

  int count() const { return count_; }
  std::string finish() {
    w_.EndArray();
    return json::text(buf_);
  }

 private:
  void text_object(const char* key, const char* type, const std::string& text) {
    json::key(w_, key);
    w_.StartObject();
    json::kv(w_, "type", type);
    json::kv(w_, "text", text.empty() ? std::string(" ") : text);
    if (std::string_view(type) == "plain_text") {
      w_.Key("emoji");
      w_.Bool(true);
    }
    w_.EndObject();
  }

  rapidjson::StringBuffer buf_;
  json::Writer w_;
  int count_ = 0;
};

std::string name(const Directory& d, const PersonId& id) {
  if (id.rfind("slack:", 0) == 0) return "<@" + id.substr(6) + ">";
  return esc(d.display_name(id));
}

std::string names(const Directory& d, const std::vector<PersonId>& ids) {
  std::string out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += (i + 1 == ids.size()) ? " and " : ", ";
    out += name(d, ids[i]);
  }
  return out.empty() ? "nobody" : out;
}

std::string person_line(const Directory& d, const PersonId& id) {
  const Person* p = d.person(id);
  if (p == nullptr) return name(d, id);
  std::string out = esc(p->name);
  std::string role = p->title;
  if (!p->department.empty()) role += role.empty() ? p->department : ", " + p->department;
  if (!role.empty()) out += " (" + esc(role) + ")";
  return out;
}

std::string target(const Task& t) {
  return esc(t.app_name) + " / " + esc(t.resource_name) + (t.sensitive ? " :lock:" : "");
}

std::string step_line(const Engine& e, const Task& t, int step) {
  if (step < 0 || step >= static_cast<int>(t.steps.size())) return esc(t.policy_name);
  return "Step " + std::to_string(step + 1) + " of " + std::to_string(t.steps.size()) + " · " +
         esc(step_label(e.directory(), t.steps[static_cast<std::size_t>(step)])) + " · " +
         esc(t.policy_name);
}

// The words for an outcome.
std::string did(Action a) {
  return outcome_verb(a);
}

std::string outcome_emoji(Action a) {
  switch (a) {
    case Action::approve:
    case Action::confirm:
    case Action::provisioned:
    case Action::deprovisioned:
      return ":white_check_mark:";
    default:
      return ":no_entry:";
  }
}

// Where the task stands now, in a line.
std::string task_status(const Engine& e, const Task& t) {
  const Directory& d = e.directory();
  switch (t.state) {
    case TaskState::reviewing:
    case TaskState::provisioning:
    case TaskState::deprovisioning: {
      int i = t.current_step();
      return "Now with " + names(d, t.assignees()) + " (" + step_line(e, t, i) + ")";
    }
    case TaskState::granted:
      return ":white_check_mark: Access granted";
    case TaskState::provisioned:
      return ":white_check_mark: Access provisioned";
    case TaskState::not_provisioned:
      return ":no_entry: Not provisioned";
    case TaskState::denied:
      return t.kind == TaskKind::grant ? ":no_entry: Request denied"
                                       : ":no_entry: Revocation denied: the access is kept";
    case TaskState::revoked:
      return ":white_check_mark: Access removed";
    case TaskState::deprovisioned:
      return ":white_check_mark: Access deprovisioned";
    case TaskState::not_deprovisioned:
      return ":no_entry: Not deprovisioned";
    case TaskState::cancelled:
      return ":heavy_multiplication_x: Cancelled by " + name(d, t.closed_by);
  }
  return "";
}

void facts(Blocks& b, const Engine& e, const Task& t, int step) {
  const Directory& d = e.directory();
  std::vector<std::pair<std::string, std::string>> f;
  f.emplace_back(t.kind == TaskKind::grant ? "For" : "Remove from", person_line(d, t.subject));
  f.emplace_back("Access", target(t));
  if (t.requester != t.subject) {
    f.emplace_back(t.kind == TaskKind::grant ? "Requested by" : "Proposed by",
                   person_line(d, t.requester));
  }
  if (t.duration) f.emplace_back("Duration", format_duration(*t.duration));
  f.emplace_back("Step", step_line(e, t, step));
  b.fields(f);
  std::string why = t.kind == TaskKind::grant ? "*Justification*\n" : "*Reason*\n";
  b.section(why + (t.justification.empty() ? "_none given_" : esc(t.justification)));
}

void insights(Blocks& b, const Task& t, std::size_t max) {
  std::vector<std::string> lines;
  for (const Insight& i : t.insights) {
    if (lines.size() >= max) break;
    if (i.kind == "emergency") continue;  // the header says it already
    lines.push_back(":bulb: " + esc(i.text));
  }
  b.context(lines);
}

}  // namespace

std::string task_title(const Task& t, int step) {
  StepKind kind = step >= 0 && step < static_cast<int>(t.steps.size())
                      ? t.steps[static_cast<std::size_t>(step)].kind
                      : StepKind::review;
  std::string what = kind == StepKind::provision     ? "Provisioning task"
                     : kind == StepKind::deprovision ? "Deprovisioning task"
                     : t.kind == TaskKind::grant     ? "Access request"
                                                     : "Revocation";
  std::string title = what + " #" + std::to_string(t.number);
  if (t.emergency) title = ":rotating_light: EMERGENCY " + title;
  return title;
}

Message task_message(const Engine& e, const Task& t, const PersonId& viewer, int step) {
  const Directory& d = e.directory();
  Blocks b;
  std::string title = task_title(t, step);
  b.header(title + ": " + d.display_name(t.subject) + " → " + t.app_name + " / " + t.resource_name);
  facts(b, e, t, step);
  insights(b, t, 3);
  const TaskStep* s = step >= 0 && step < static_cast<int>(t.steps.size())
                          ? &t.steps[static_cast<std::size_t>(step)]
                          : nullptr;
  if (s != nullptr && s->kind != StepKind::review && !t.instructions.empty()) {
    b.section(
        std::string(s->kind == StepKind::provision ? "*How to provision*\n" : "*How to remove*\n") +
        esc(t.instructions));
  }
  bool mine = s != nullptr && s->state == StepState::current &&
              std::find(s->assignees.begin(), s->assignees.end(), viewer) != s->assignees.end();
  std::string ref = task_ref(t.number, step);
  std::string summary;
  if (mine) {
    std::vector<Blocks::Button> buttons;
    std::vector<Blocks::Option> more;
    std::string who = d.display_name(t.subject);
    switch (s->kind) {
      case StepKind::review:
        if (t.kind == TaskKind::grant) {
          buttons.push_back({"approve", "Approve", ref, "primary", ""});
          buttons.push_back(
              {"deny", "Deny", ref, "danger",
               s->rule.require_reason.count(Action::deny) ? "" : "Deny " + who + "'s request?"});
        } else {
          buttons.push_back({"confirm", "Confirm removal", ref, "primary", ""});
          buttons.push_back(
              {"deny", "Keep access", ref, "danger",
               s->rule.require_reason.count(Action::deny) ? "" : "Keep " + who + "'s access?"});
        }
        break;
      case StepKind::provision:
        buttons.push_back(
            {"provisioned", "Provisioned", ref, "primary", "Have you added the access?"});
        more.push_back({"Won't provision", "wont_provision:" + ref});
        break;
      case StepKind::deprovision:
        buttons.push_back(
            {"deprovisioned", "Deprovisioned", ref, "primary", "Have you removed the access?"});
        more.push_back({"Won't deprovision", "wont_deprovision:" + ref});
        break;
    }
    if (auto it = s->delegated_for.find(viewer); it != s->delegated_for.end()) {
      b.context({":palm_tree: Delegated to you: " + name(d, it->second) + " is out of office"});
    }
    if (s->rule.allow_reassign || d.is_admin(viewer))
      more.push_back({"Reassign…", std::string(kReassign) + ":" + ref});
    more.push_back({"View details", std::string(kViewDetails) + ":" + ref});
    b.actions("task:" + ref, buttons, more);
    summary = "waiting for you";
  } else {
    std::vector<std::string> lines;
    if (s != nullptr && s->state == StepState::done && s->outcome) {
      std::string line =
          outcome_emoji(*s->outcome) + " " + did(*s->outcome) + " by " + name(d, s->decided_by);
      line[line.find(' ') + 1] =
          static_cast<char>(std::toupper(static_cast<unsigned char>(line[line.find(' ') + 1])));
      if (s->decided_at) line += " at " + format_instant(*s->decided_at);
      if (!s->comment.empty()) line += ": “" + esc(s->comment) + "”";
      lines.push_back(line);
      summary = did(*s->outcome) + " by " + d.display_name(s->decided_by);
    } else if (s != nullptr && s->state == StepState::current) {
      lines.push_back(":arrow_right_hook: Reassigned to " + names(d, s->assignees));
      summary = "reassigned to " + names(d, s->assignees);
    }
    std::string status = task_status(e, t);
    if (lines.empty() || t.closed() || (s != nullptr && s->state == StepState::done))
      lines.push_back(status);
    if (summary.empty()) summary = status;
    b.context(lines);
    b.actions("task:" + ref, {}, {{"View details", std::string(kViewDetails) + ":" + ref}});
  }
  Message m;
  m.text = title + ": " + d.display_name(t.subject) + " → " + t.app_name + " / " + t.resource_name +
           " (" + summary + ")";
  m.blocks = b.finish();
  return m;
}

Message notification(const Engine& e, const Task& t, const PersonId& recipient,
                     const std::string& event, const PersonId& by) {
  const Directory& d = e.directory();
  std::string what = t.kind == TaskKind::grant ? "request" : "revocation proposal";
  std::string subject = recipient == t.subject ? "your access" : name(d, t.subject) + "'s access";
  std::string yours = recipient == t.requester ? "Your " + what : "The " + what;
  std::string head =
      yours + " #" + std::to_string(t.number) + " (" + subject + " to " + target(t) + ")";
  // The comment of the step `by` decided, if any.
  std::string reason;
  for (auto it = t.steps.rbegin(); it != t.steps.rend(); ++it) {
    if (it->state == StepState::done && it->decided_by == by && !it->comment.empty()) {
      reason = it->comment;
      break;
    }
  }
  std::string line;
  if (event == "approved" || event == "confirmed") {
    line = head + " was " + event + " by " + name(d, by) + ". " + task_status(e, t) + ".";
  } else if (event == "denied") {
    line = ":no_entry: " + head + " was denied by " + name(d, by) + ".";
  } else if (event == "granted" || event == "revoked") {
    line = ":white_check_mark: " + head + " was approved by " + name(d, by) + ": " +
           (event == "granted" ? "the access is granted." : "the access is removed.");
  } else if (event == "provisioned" || event == "deprovisioned") {
    line = ":white_check_mark: " + head + ": " + name(d, by) + " has " +
           (event == "provisioned" ? "added the access." : "removed the access.");
  } else if (event == "not_provisioned" || event == "not_deprovisioned") {
    line = ":no_entry: " + head + ": " + name(d, by) + " will not " +
           (event == "not_provisioned" ? "add the access." : "remove the access.");
  } else if (event == "expired") {
    const TaskStep* last = nullptr;
    for (const TaskStep& st : t.steps) {
      if (st.rule.sla.expire_after && st.opened_at && st.state == StepState::skipped && !last)
        last = &st;
    }
    line = ":hourglass: " + head + " expired: nobody decided" +
           (last != nullptr ? " within " + format_duration(*last->rule.sla.expire_after) : "") +
           "." + (t.kind == TaskKind::grant ? " Ask again if you still need it." : "");
  } else if (event == "cancelled") {
    line = ":heavy_multiplication_x: " + head + " was cancelled by " + name(d, by) + ".";
  } else {
    line = head + ": " + esc(event) + " by " + name(d, by) + ".";
  }
  if (!reason.empty()) line += "\n>" + esc(reason);
  Blocks b;
  b.section(line);
  b.context({step_line(
      e, t, t.current_step() >= 0 ? t.current_step() : static_cast<int>(t.steps.size()) - 1)});
  Message m;
  std::string plain = line;
  m.text = truncate(plain, 3000);
  m.blocks = b.finish();
  return m;
}

Message reminder(const Engine& e, const Task& t, const PersonId& recipient,
                 const std::string& slack_id, const std::string& waiting, bool standalone) {
  (void)recipient;
  int step = t.current_step();
  std::string what = task_title(t, step);
  std::string line = ":alarm_clock: <@" + slack_id + "> a reminder: " + esc(what);
  if (standalone) {
    line += " (" + name(e.directory(), t.subject) + " → " + target(t) + ")";
  }
  line += " has been waiting for you" + (waiting.empty() ? "" : " for " + esc(waiting)) + ".";
  Blocks b;
  b.section(line);
  b.context({step_line(e, t, step) + " · reminders stop once the step is decided"});
  return {truncate(what + " has been waiting for you" + (waiting.empty() ? "" : " for " + waiting),
                   3000),
          b.finish()};
}

Message comment_reply(const Directory& d, const Task& t, const Comment& c) {
  (void)t;
  std::string line = "*" + name(d, c.author) + "*: " + esc(c.text);
  Blocks b;
  b.section(line);
  b.context({"Comment on #" + std::to_string(t.number) + " · " + esc(c.source) + " · " +
             format_instant(c.at)});
  return {truncate(d.display_name(c.author) + ": " + c.text, 3000), b.finish()};
}

std::string details_modal(const Engine& e, const Task& t, const PersonId& viewer) {
  const Directory& d = e.directory();
  Blocks b;
  const Person* subject = d.person(t.subject);
  std::vector<std::pair<std::string, std::string>> account;
  account.emplace_back("Account", person_line(d, t.subject));
  if (subject != nullptr && !subject->manager.empty())
    account.emplace_back("Manager", name(d, subject->manager));
  if (subject != nullptr && !subject->email.empty())
    account.emplace_back("Email", esc(subject->email));
  account.emplace_back("Resource", target(t));
  account.emplace_back(t.kind == TaskKind::grant ? "Requested by" : "Proposed by",
                       person_line(d, t.requester));
  if (t.duration) account.emplace_back("Duration", format_duration(*t.duration));
  account.emplace_back("Emergency", t.emergency ? ":rotating_light: yes" : "no");
  account.emplace_back("Opened", format_instant(t.created_at));
  b.section("*" + esc(task_title(t, t.current_step())) + "*  ·  " + task_status(e, t));
  b.fields(account);
  b.section(std::string(t.kind == TaskKind::grant ? "*Justification*\n" : "*Reason*\n") +
            (t.justification.empty() ? "_none given_" : esc(t.justification)));
  if (!t.insights.empty()) {
    std::string text = "*Insights*";
    for (const Insight& i : t.insights) text += "\n• " + esc(i.text);
    b.section(text);
  }
  b.divider();
  Plan plan = e.plan(t, viewer);
  b.section("*Execution plan* · " + esc(plan.policy_name));
  for (const PlanStep& s : plan.steps) {
    std::string mark = s.state == StepState::done
                           ? (s.outcome ? outcome_emoji(*s.outcome) : ":white_check_mark:")
                       : s.state == StepState::current ? ":hourglass_flowing_sand:"
                       : s.state == StepState::skipped ? ":heavy_minus_sign:"
                                                       : ":white_circle:";
    std::string line = mark + " *" + std::to_string(s.index + 1) + ". " + esc(s.label) + "*";
    if (s.state == StepState::done && s.outcome) {
      line += " — " + did(*s.outcome) + " by " + name(d, s.decided_by);
      if (s.decided_at) line += " at " + format_instant(*s.decided_at);
      if (!s.comment.empty()) line += ": “" + esc(s.comment) + "”";
    } else if (s.state == StepState::current) {
      line += " — waiting for " + names(d, s.people);
    } else if (s.state == StepState::upcoming) {
      line += " — then " + names(d, s.people);
    } else {
      line += " — not needed";
    }
    if (s.by_fallback) line += " _(fallback)_";
    if (s.viewer_involved) line += "   :point_left: *you*";
    b.section(line);
  }
  std::vector<const Comment*> visible;
  for (const Comment& c : t.comments) {
    if (!c.deleted) visible.push_back(&c);
  }
  if (!visible.empty()) {
    b.divider();
    b.section("*Comments* (" + std::to_string(visible.size()) + ")");
    // The newest that fit in the view's 100 blocks.
    std::size_t room = static_cast<std::size_t>(std::max(0, 99 - b.count()));
    std::size_t start = visible.size() > room ? visible.size() - room : 0;
    for (std::size_t i = start; i < visible.size(); ++i) {
      const Comment& c = *visible[i];
      b.section("*" + name(d, c.author) + "* · " + format_instant(c.at) +
                (c.edited_at ? " (edited)" : "") + "\n" + esc(c.text));
    }
  }
  rapidjson::StringBuffer out;
  json::Writer w(out);
  w.StartObject();
  json::kv(w, "type", "modal");
  json::kv(w, "callback_id", "tollgate.details");
  json::kv(w, "private_metadata", task_ref(t.number, t.current_step()));
  json::key(w, "title");
  w.StartObject();
  json::kv(w, "type", "plain_text");
  json::kv(w, "text", truncate("Task #" + std::to_string(t.number), 24));
  w.EndObject();
  json::key(w, "close");
  w.StartObject();
  json::kv(w, "type", "plain_text");
  json::kv(w, "text", "Close");
  w.EndObject();
  w.Key("blocks");
  std::string blocks = b.finish();
  w.RawValue(blocks.data(), blocks.size(), rapidjson::kArrayType);
  w.EndObject();
  return json::text(out);
}

}  // namespace tollgate::slack
