#include "slack/blocks.h"

#include <algorithm>

#include "slack/actions.h"
#include "slack/views.h"
#include "base/time_text.h"

namespace tollgate::slack {
namespace {

using kit::Blocks;
using kit::esc;
using kit::Mrkdwn;
using namespace kit::literals;

// A person as a reader should see them: a mention for a Slack user Tollgate
// does not know ("slack:U123"), otherwise the directory's name.
Mrkdwn name(const Directory& d, const PersonId& id) {
  if (id.rfind("slack:", 0) == 0) return Mrkdwn::mention(id.substr(6));
  return esc(d.display_name(id));
}

Mrkdwn names(const Directory& d, const std::vector<PersonId>& ids) {
  Mrkdwn out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += (i + 1 == ids.size()) ? " and "_md : ", "_md;
    out += name(d, ids[i]);
  }
  return out.empty() ? "nobody"_md : out;
}

Mrkdwn person_line(const Directory& d, const PersonId& id) {
  const Person* p = d.person(id);
  if (p == nullptr) return name(d, id);
  std::string role = p->title;
  if (!p->department.empty()) role += role.empty() ? p->department : ", " + p->department;
  return esc(p->name + (role.empty() ? "" : " (" + role + ")"));
}

Mrkdwn target(const Task& t) {
  return esc(t.app_name + " / " + t.resource_name) + (t.sensitive ? " :lock:"_md : Mrkdwn());
}

std::string step_text(const Engine& e, const Task& t, int step) {
  if (step < 0 || step >= static_cast<int>(t.steps.size())) return t.policy_name;
  return "Step " + std::to_string(step + 1) + " of " + std::to_string(t.steps.size()) + " · " +
         step_label(e.directory(), t.steps[static_cast<std::size_t>(step)]) + " · " +
         t.policy_name;
}
Mrkdwn step_line(const Engine& e, const Task& t, int step) { return esc(step_text(e, t, step)); }

std::string capitalised(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

Mrkdwn outcome_emoji(Action a) {
  switch (a) {
    case Action::approve:
    case Action::confirm:
    case Action::provisioned:
    case Action::deprovisioned:
      return ":white_check_mark:"_md;
    default:
      return ":no_entry:"_md;
  }
}

// A decision's comment inside a line of Tollgate's: “…”, on one line.
Mrkdwn quoted(const std::string& comment) { return "“"_md + Mrkdwn::line(comment) + "”"_md; }

// Whether a connector (not a person) decided the step.
bool by_connector(const TaskStep& s) { return s.connector && s.decided_by == kSystemActor; }

// Who decided a done step: a person, or the connector that made the change.
Mrkdwn decider(const Directory& d, const TaskStep& s) {
  return by_connector(s) ? esc(decider_name(d, s)) : name(d, s.decided_by);
}

// "provisioned" for a connector's change, else the outcome's verb ("marked provisioned").
std::string decided_verb(const TaskStep& s) {
  if (by_connector(s)) return s.kind == StepKind::deprovision ? "deprovisioned" : "provisioned";
  return outcome_verb(*s.outcome);
}

// What a connector's open step is doing, in a line (for the calling and
// accepted phases; failed steps are people's): ":hourglass_flowing_sand:
// Provisioning by SCIM (Okta)… (attempt 2)", "Waiting for webhook (Deploy
// bot) to confirm".
Mrkdwn connector_progress(const TaskStep& s) {
  const ConnectorRun& run = *s.connector;
  if (run.phase == ConnectorRun::Phase::accepted)
    return ":hourglass_flowing_sand: Waiting for "_md + esc(run.label) + " to confirm"_md;
  Mrkdwn doing = s.kind == StepKind::deprovision ? "Deprovisioning by "_md : "Provisioning by "_md;
  Mrkdwn line = ":hourglass_flowing_sand: "_md + doing + esc(run.label) + "…"_md;
  if (run.attempt > 1) line += esc(" (attempt " + std::to_string(run.attempt) + ")");
  return line;
}

// "SCIM (Okta) could not add the access: “HTTP 503 …”": what the system
// answered is a remote party's text, shown as quoted text (escaped, one line).
Mrkdwn connector_failure(const TaskStep& s) {
  const ConnectorRun& run = *s.connector;
  Mrkdwn line = esc(run.label) + (s.kind == StepKind::deprovision
                                      ? " could not remove the access"_md
                                      : " could not add the access"_md);
  if (!run.answer.empty()) line += ": "_md + quoted(kit::cut(run.answer, 500));
  return line;
}

bool working_connector(const TaskStep* s) {
  return s != nullptr && s->state == StepState::current && s->connector &&
         s->connector->phase != ConnectorRun::Phase::failed;
}
bool failed_connector(const TaskStep* s) {
  return s != nullptr && s->state == StepState::current && s->connector &&
         s->connector->phase == ConnectorRun::Phase::failed;
}

// The last step, when a connector closed the task with it.
const TaskStep* closed_by_connector(const Task& t) {
  if (t.steps.empty() || !t.closed() || !by_connector(t.steps.back())) return nullptr;
  return &t.steps.back();
}

// Where the task stands now, in a line.
Mrkdwn task_status(const Engine& e, const Task& t) {
  const Directory& d = e.directory();
  switch (t.state) {
    case TaskState::reviewing:
    case TaskState::provisioning:
    case TaskState::deprovisioning: {
      int i = t.current_step();
      const TaskStep* s = t.current();
      if (working_connector(s))
        return connector_progress(*s) + " ("_md + step_line(e, t, i) + ")"_md;
      Mrkdwn now = "Now with "_md + names(d, t.assignees()) + " ("_md + step_line(e, t, i) + ")"_md;
      if (failed_connector(s)) return ":warning: "_md + connector_failure(*s) + ". "_md + now;
      return now;
    }
    case TaskState::granted:
      return ":white_check_mark: Access granted"_md;
    case TaskState::provisioned:
    case TaskState::deprovisioned:
      if (const TaskStep* s = closed_by_connector(t)) {
        Mrkdwn line = ":white_check_mark: "_md + esc(capitalised(decided_verb(*s))) + " by "_md +
                      decider(d, *s);
        if (s->decided_at) line += " at "_md + esc(format_instant(*s->decided_at));
        return line;
      }
      return t.state == TaskState::provisioned ? ":white_check_mark: Access provisioned"_md
                                               : ":white_check_mark: Access deprovisioned"_md;
    case TaskState::not_provisioned:
      return ":no_entry: Not provisioned"_md;
    case TaskState::denied:
      return t.kind == TaskKind::grant ? ":no_entry: Request denied"_md
                                       : ":no_entry: Revocation denied: the access is kept"_md;
    case TaskState::revoked:
      return ":white_check_mark: Access removed"_md;
    case TaskState::not_deprovisioned:
      return ":no_entry: Not deprovisioned"_md;
    case TaskState::cancelled:
      return ":heavy_multiplication_x: Cancelled by "_md + name(d, t.closed_by);
  }
  return {};
}

// "4h", and who chose it when a reviewer approved for less than was asked.
Mrkdwn duration_text(const Directory& d, const Task& t) {
  if (!t.duration) return {};
  Mrkdwn out = esc(format_duration(*t.duration));
  if (!t.duration_by.empty()) out += " (chosen by "_md + name(d, t.duration_by) + ")"_md;
  return out;
}

Mrkdwn justification(const Task& t) {
  return (t.kind == TaskKind::grant ? "*Justification*\n"_md : "*Reason*\n"_md) +
         (t.justification.empty() ? "_none given_"_md : Mrkdwn::quote(t.justification));
}

void facts(Blocks& b, const Engine& e, const Task& t, int step) {
  const Directory& d = e.directory();
  auto field = [](const char* label, const Mrkdwn& value) {
    return "*"_md + Mrkdwn::markup(label) + "*\n"_md + value;
  };
  std::vector<Mrkdwn> f;
  f.push_back(field(t.kind == TaskKind::grant ? "For" : "Remove from", person_line(d, t.subject)));
  f.push_back(field("Access", target(t)));
  if (t.requester != t.subject) {
    f.push_back(field(t.kind == TaskKind::grant ? "Requested by" : "Proposed by",
                      person_line(d, t.requester)));
  }
  if (t.duration) f.push_back(field("Duration", duration_text(d, t)));
  f.push_back(field("Step", step_line(e, t, step)));
  b.fields(f);
  b.section(justification(t));
}

void insights(Blocks& b, const Task& t, std::size_t max) {
  std::vector<Mrkdwn> lines;
  for (const Insight& i : t.insights) {
    if (lines.size() >= max) break;
    if (i.kind == "emergency") continue;  // the header says it already
    lines.push_back(":bulb: "_md + esc(i.text));
  }
  b.context(lines);
}

// "Access request #42: Bo Chen → GitHub / admin", as plain text.
std::string headline(const Directory& d, const Task& t, int step) {
  return task_title(t, step) + ": " + d.display_name(t.subject) + " → " + t.app_name + " / " +
         t.resource_name;
}

// The buttons of an open step for the person it waits for.
std::vector<kit::Element> step_buttons(const Directory& d, const Task& t, const TaskStep& s,
                                       const PersonId& viewer, const std::string& ref) {
  using kit::Button;
  using kit::Confirm;
  using kit::Style;
  auto confirm = [](const std::string& question, const std::string& yes) {
    return Confirm{"Are you sure?", question, yes, "Cancel"};
  };
  std::vector<kit::Element> buttons;
  std::vector<kit::Option> more;
  std::string who = d.display_name(t.subject);
  bool deny_needs_reason = s.rule.require_reason.count(Action::deny) != 0;
  switch (s.kind) {
    case StepKind::review:
      if (t.kind == TaskKind::grant) {
        buttons.push_back(Button{"approve", "Approve", ref, Style::primary, std::nullopt});
        buttons.push_back(Button{"deny", "Deny", ref, Style::danger,
                                 deny_needs_reason ? std::nullopt
                                                   : std::optional(confirm(
                                                         "Deny " + who + "'s request?", "Deny"))});
        // Only when there is a shorter time to offer than the one requested.
        if (!duration_choices(t.duration, false).empty())
          more.push_back({"Approve for…", std::string(kApproveFor) + ":" + ref});
      } else {
        buttons.push_back(Button{"confirm", "Confirm removal", ref, Style::primary, std::nullopt});
        buttons.push_back(Button{"deny", "Keep access", ref, Style::danger,
                                 deny_needs_reason ? std::nullopt
                                                   : std::optional(confirm(
                                                         "Keep " + who + "'s access?", "Keep access"))});
      }
      break;
    case StepKind::provision:
      buttons.push_back(Button{"provisioned", "Provisioned", ref, Style::primary,
                               confirm("Have you added the access?", "Provisioned")});
      more.push_back({"Won't provision", "wont_provision:" + ref});
      break;
    case StepKind::deprovision:
      buttons.push_back(Button{"deprovisioned", "Deprovisioned", ref, Style::primary,
                               confirm("Have you removed the access?", "Deprovisioned")});
      more.push_back({"Won't deprovision", "wont_deprovision:" + ref});
      break;
  }
  // A connector that failed: the people may have it try again (a new attempt).
  if (s.connector && s.connector->phase == ConnectorRun::Phase::failed)
    buttons.push_back(Button{std::string(kRetry), "Retry", ref, Style::plain, std::nullopt});
  if (can_reassign(d, t, viewer)) more.push_back({"Reassign…", std::string(kReassign) + ":" + ref});
  more.push_back({"View details", std::string(kViewDetails) + ":" + ref});
  for (kit::Element& e : kit::menu(kMoreActions, std::move(more))) buttons.push_back(std::move(e));
  return buttons;
}

}  // namespace

std::string task_title(const Task& t, int step) {
  StepKind kind = step >= 0 && step < static_cast<int>(t.steps.size())
                      ? t.steps[static_cast<std::size_t>(step)].kind
                      : StepKind::review;
  std::string what = kind == StepKind::provision     ? "Provisioning task"
                     : kind == StepKind::deprovision ? "Deprovisioning task"
                     : t.extension                   ? "Extension request"
                     : t.kind == TaskKind::grant     ? "Access request"
                                                     : "Revocation";
  std::string title = what + " #" + std::to_string(t.number);
  if (t.emergency) title = ":rotating_light: EMERGENCY " + title;
  return title;
}

Message task_message(const Engine& e, const Task& t, const PersonId& viewer, int step) {
  const Directory& d = e.directory();
  Message m;
  Blocks& b = m.blocks;
  std::string head = headline(d, t, step);
  b.header(head);
  facts(b, e, t, step);
  insights(b, t, 3);
  const TaskStep* s = step >= 0 && step < static_cast<int>(t.steps.size())
                          ? &t.steps[static_cast<std::size_t>(step)]
                          : nullptr;
  // A connector that failed on this step: what it answered, before the
  // instructions the people now follow.
  if (failed_connector(s)) b.section(":warning: "_md + connector_failure(*s) + "."_md);
  // The instructions, for people doing the change (not while a connector makes it).
  bool by_people = s != nullptr && (!s->connector || failed_connector(s));
  if (by_people && s->kind != StepKind::review && !t.instructions.empty()) {
    b.section((s->kind == StepKind::provision ? "*How to provision*\n"_md : "*How to remove*\n"_md) +
              esc(t.instructions));
  }
  bool mine = s != nullptr && s->state == StepState::current &&
              std::find(s->assignees.begin(), s->assignees.end(), viewer) != s->assignees.end();
  std::string ref = task_ref(t.number, step);
  Mrkdwn summary;
  if (mine) {
    if (auto it = s->delegated_for.find(viewer); it != s->delegated_for.end()) {
      b.context({":palm_tree: Delegated to you: "_md + name(d, it->second) +
                 " is out of office"_md});
    }
    b.actions("task:" + ref, step_buttons(d, t, *s, viewer, ref));
    summary = "waiting for you"_md;
  } else {
    std::vector<Mrkdwn> lines;
    if (s != nullptr && s->state == StepState::done && s->outcome) {
      std::string verb = decided_verb(*s);
      Mrkdwn line = outcome_emoji(*s->outcome) + " "_md + esc(capitalised(verb)) + " by "_md +
                    decider(d, *s);
      if (s->decided_at) line += " at "_md + esc(format_instant(*s->decided_at));
      if (!s->comment.empty()) line += ": "_md + quoted(s->comment);
      lines.push_back(line);
      summary = esc(verb) + " by "_md + decider(d, *s);
    } else if (working_connector(s)) {
      // The system is making the change: nothing to click, nobody to name.
      lines.push_back(connector_progress(*s));
      summary = connector_progress(*s);
    } else if (failed_connector(s)) {
      // Left to the status line: what failed, and who has the step now.
    } else if (s != nullptr && s->state == StepState::current) {
      lines.push_back(":arrow_right_hook: Reassigned to "_md + names(d, s->assignees));
      summary = "reassigned to "_md + names(d, s->assignees);
    }
    Mrkdwn status = task_status(e, t);
    // Not twice: a connector's own step and the task's end read the same.
    if ((lines.empty() || t.closed() || (s != nullptr && s->state == StepState::done)) &&
        (lines.empty() || !(lines.back() == status)))
      lines.push_back(status);
    if (summary.empty()) summary = status;
    b.context(lines);
    b.actions("task:" + ref,
              {kit::Button{std::string(kViewDetails), "View details", ref, kit::Style::plain,
                           std::nullopt}});
  }
  m.text = esc(head) + " ("_md + summary + ")"_md;
  return m;
}

Message notification(const Engine& e, const Task& t, const PersonId& recipient,
                     const std::string& event, const PersonId& by,
                     const std::optional<Shortened>& shortened) {
  const Directory& d = e.directory();
  std::string what = t.kind == TaskKind::grant ? "request" : "revocation proposal";
  Mrkdwn subject = recipient == t.subject ? "your access"_md : name(d, t.subject) + "'s access"_md;
  std::string yours = recipient == t.requester ? "Your " + what : "The " + what;
  Mrkdwn head = esc(yours + " #" + std::to_string(t.number)) + " ("_md + subject + " to "_md +
                target(t) + ")"_md;
  // The comment of the step `by` decided, if any.
  std::string reason;
  for (auto it = t.steps.rbegin(); it != t.steps.rend(); ++it) {
    if (it->state == StepState::done && it->decided_by == by && !it->comment.empty()) {
      reason = it->comment;
      break;
    }
  }
  Mrkdwn by_name = name(d, by);
  // Tollgate itself closing the task with a connector's change: the
  // connector made it ("SCIM (Okta) has added the access").
  if (by == kSystemActor) {
    for (auto it = t.steps.rbegin(); it != t.steps.rend(); ++it) {
      if (it->state == StepState::done && by_connector(*it)) {
        by_name = decider(d, *it);
        break;
      }
    }
  }
  Mrkdwn line;
  if (event == "approved" || event == "confirmed") {
    line = head + " was "_md + esc(event) + " by "_md + by_name + ". "_md + task_status(e, t) + "."_md;
  } else if (event == "denied") {
    line = ":no_entry: "_md + head + " was denied by "_md + by_name + "."_md;
  } else if (event == "granted" || event == "revoked") {
    line = ":white_check_mark: "_md + head + " was approved by "_md + by_name +
           (event == "granted" ? ": the access is granted."_md : ": the access is removed."_md);
  } else if (event == "provisioned" || event == "deprovisioned") {
    line = ":white_check_mark: "_md + head + ": "_md + by_name +
           (event == "provisioned" ? " has added the access."_md : " has removed the access."_md);
  } else if (event == "not_provisioned" || event == "not_deprovisioned") {
    line = ":no_entry: "_md + head + ": "_md + by_name +
           (event == "not_provisioned" ? " will not add the access."_md
                                       : " will not remove the access."_md);
  } else if (event == "expired") {
    const TaskStep* last = nullptr;
    for (const TaskStep& st : t.steps) {
      if (st.rule.sla.expire_after && st.opened_at && st.state == StepState::skipped && !last)
        last = &st;
    }
    line = ":hourglass: "_md + head + " expired: nobody decided"_md +
           (last != nullptr ? esc(" within " + format_duration(*last->rule.sla.expire_after))
                            : Mrkdwn()) +
           "."_md + (t.kind == TaskKind::grant ? " Ask again if you still need it."_md : Mrkdwn());
  } else if (event == "cancelled") {
    line = ":heavy_multiplication_x: "_md + head + " was cancelled by "_md + by_name + "."_md;
  } else {
    line = head + ": "_md + esc(event) + " by "_md + by_name + "."_md;
  }
  // Only with news of the approval: a later denial has no time left to tell of.
  bool approval = event == "approved" || event == "granted" || event == "provisioned";
  if (shortened && approval) {
    line += "\n:stopwatch: Approved for "_md + esc(shortened->duration) + " ("_md +
            name(d, shortened->by) + " chose a shorter time than requested)"_md;
  }
  if (!reason.empty()) line += "\n"_md + Mrkdwn::quote(reason);
  Message m;
  m.text = line;
  m.blocks.section(line);
  m.blocks.context({step_line(
      e, t, t.current_step() >= 0 ? t.current_step() : static_cast<int>(t.steps.size()) - 1)});
  return m;
}

namespace {

// "GitHub / Org admin", by the directory's names (the ids if gone since).
Mrkdwn access_target(const Directory& d, const AccessNotice& n) {
  const App* app = d.app(n.app);
  const Resource* res = d.resource(n.app, n.resource);
  return "*"_md + esc((app ? app->name : n.app) + " / " + (res ? res->name : n.resource)) + "*"_md;
}

Mrkdwn at_time(const std::optional<Time>& t) {
  return t ? esc(format_instant(*t)) : "soon"_md;
}

}  // namespace

std::vector<kit::Element> access_buttons(const Directory& d, const std::string& app_id,
                                         const std::string& resource_id, bool extend) {
  const App* app = d.app(app_id);
  const Resource* res = d.resource(app_id, resource_id);
  std::string what = (app ? app->name : app_id) + " / " + (res ? res->name : resource_id);
  std::string ref = access_ref(app_id, resource_id);
  std::vector<kit::Element> out;
  if (extend) {
    out.push_back(
        kit::Button{std::string(kAccessExtend), "Extend…", ref, kit::Style::primary, std::nullopt});
  }
  out.push_back(kit::Button{
      std::string(kAccessDone), "I'm done", ref, kit::Style::plain,
      kit::Confirm{"End your access now?", kit::cut("Your access to " + what + " ends now.", 300),
                   "I'm done", "Cancel"}});
  return out;
}

Message access_notice(const Engine& e, const AccessNotice& n) {
  const Directory& d = e.directory();
  Mrkdwn what = access_target(d, n);
  Mrkdwn line;
  if (n.event == "ending_soon") {
    line = ":hourglass_flowing_sand: Your access to "_md + what + " ends "_md + at_time(n.expires_at) +
           "."_md;
  } else if (n.event == "ended") {
    line = ":white_check_mark: You ended your access to "_md + what +
           (n.at ? " at "_md + esc(format_instant(*n.at)) : Mrkdwn());
  } else if (n.event == "ending") {
    line = ":hourglass: Your access to "_md + what + " has ended"_md;
  } else {  // "expired", and whatever a newer version may send
    line = ":hourglass: Your access to "_md + what + " has ended"_md +
           (n.expires_at ? " (it expired at "_md + esc(format_instant(*n.expires_at)) + ")"_md
                         : Mrkdwn());
  }
  if (n.event != "ending_soon" && n.ending_task != 0) {
    Mrkdwn task = esc("#" + std::to_string(n.ending_task));
    line += n.deprovisioners.empty()
                ? "; "_md + task + " is open to remove it"_md
                : "; "_md + task + " asks "_md + names(d, n.deprovisioners) + " to remove it"_md;
  }
  if (n.event != "ending_soon") line += "."_md;
  Message m;
  m.text = line;
  m.blocks.section(line);
  if (n.event == "ending_soon") {
    m.blocks.actions("access:" + access_ref(n.app, n.resource), access_buttons(d, n.app, n.resource, true));
    m.blocks.context({"*Extend…* asks for more time; *I'm done* removes the access now."_md});
  }
  return m;
}

Message reminder(const Engine& e, const Task& t, const PersonId& recipient,
                 const std::string& slack_id, const std::string& waiting, bool standalone) {
  (void)recipient;
  int step = t.current_step();
  std::string what = task_title(t, step);
  Mrkdwn line = ":alarm_clock: "_md + Mrkdwn::mention(slack_id) + " a reminder: "_md + esc(what);
  if (standalone) line += " ("_md + name(e.directory(), t.subject) + " → "_md + target(t) + ")"_md;
  Mrkdwn since = waiting.empty() ? Mrkdwn() : " for "_md + esc(waiting);
  line += " has been waiting for you"_md + since + "."_md;
  Message m;
  m.text = esc(what) + " has been waiting for you"_md + since;
  m.blocks.section(line);
  m.blocks.context({step_line(e, t, step) + " · reminders stop once the step is decided"_md});
  return m;
}

Message comment_reply(const Directory& d, const Task& t, const Comment& c) {
  Message m;
  m.text = name(d, c.author) + ": "_md + Mrkdwn::line(c.text);
  m.blocks.section("*"_md + name(d, c.author) + "*\n"_md + Mrkdwn::quote(c.text));
  m.blocks.context({esc("Comment on #" + std::to_string(t.number) + " · " + c.source + " · " +
                        format_instant(c.at))});
  return m;
}

kit::Modal details_modal(const Engine& e, const Task& t, const PersonId& viewer) {
  const Directory& d = e.directory();
  kit::Modal modal;
  modal.callback_id = "tollgate.details";
  modal.private_metadata = task_ref(t.number, t.current_step());
  modal.title = "Task #" + std::to_string(t.number);
  modal.close = "Close";
  Blocks& b = modal.blocks;
  const Person* subject = d.person(t.subject);
  auto field = [](const char* label, const Mrkdwn& value) {
    return "*"_md + Mrkdwn::markup(label) + "*\n"_md + value;
  };
  std::vector<Mrkdwn> account;
  account.push_back(field("Account", person_line(d, t.subject)));
  if (subject != nullptr && !subject->manager.empty())
    account.push_back(field("Manager", name(d, subject->manager)));
  if (subject != nullptr && !subject->email.empty())
    account.push_back(field("Email", esc(subject->email)));
  account.push_back(field("Resource", target(t)));
  account.push_back(field(t.kind == TaskKind::grant ? "Requested by" : "Proposed by",
                          person_line(d, t.requester)));
  if (t.duration)
    account.push_back(field("Duration", duration_text(d, t)));
  account.push_back(field("Emergency", t.emergency ? ":rotating_light: yes"_md : "no"_md));
  account.push_back(field("Opened", esc(format_instant(t.created_at))));
  b.section("*"_md + esc(task_title(t, t.current_step())) + "*  ·  "_md + task_status(e, t));
  b.fields(account);
  b.section(justification(t));
  if (!t.insights.empty()) {
    Mrkdwn text = "*Insights*"_md;
    for (const Insight& i : t.insights) text += "\n• "_md + esc(i.text);
    b.section(text);
  }
  b.divider();
  Plan plan = e.plan(t, viewer);
  b.section("*Execution plan* · "_md + esc(plan.policy_name));
  for (const PlanStep& s : plan.steps) {
    Mrkdwn mark = s.state == StepState::done
                      ? (s.outcome ? outcome_emoji(*s.outcome) : ":white_check_mark:"_md)
                  : s.state == StepState::current ? ":hourglass_flowing_sand:"_md
                  : s.state == StepState::skipped ? ":heavy_minus_sign:"_md
                                                  : ":white_circle:"_md;
    Mrkdwn line = mark + " *"_md + esc(std::to_string(s.index + 1) + ". " + s.label) + "*"_md;
    const TaskStep& step = t.steps[static_cast<std::size_t>(s.index)];
    if (s.state == StepState::done && s.outcome) {
      line += " — "_md + esc(step.outcome ? decided_verb(step) : outcome_verb(*s.outcome)) +
              " by "_md + (step.outcome ? decider(d, step) : name(d, s.decided_by));
      if (s.decided_at) line += " at "_md + esc(format_instant(*s.decided_at));
      if (!s.comment.empty()) line += ": "_md + quoted(s.comment);
    } else if (working_connector(&step)) {
      line += " — "_md + connector_progress(step);
    } else if (s.state == StepState::current) {
      line += failed_connector(&step) ? " — :warning: "_md + connector_failure(step) + " · "_md
                                      : " — "_md;
      line += "waiting for "_md + names(d, s.people);
    } else if (s.state == StepState::upcoming && step.connector) {
      line += " — then "_md + esc(step.connector->label);
    } else if (s.state == StepState::upcoming) {
      line += " — then "_md + names(d, s.people);
    } else {
      line += " — not needed"_md;
    }
    if (s.by_fallback) line += " _(fallback)_"_md;
    if (s.viewer_involved) line += "   :point_left: *you*"_md;
    b.section(line);
  }
  std::vector<const Comment*> visible;
  for (const Comment& c : t.comments) {
    if (!c.deleted) visible.push_back(&c);
  }
  if (!visible.empty() && b.room() >= 3) {
    b.divider();
    b.section("*Comments* ("_md + esc(std::to_string(visible.size())) + ")"_md);
    // The newest that fit in the view's 100 blocks.
    std::size_t room = b.room();
    std::size_t start = visible.size() > room ? visible.size() - room : 0;
    for (std::size_t i = start; i < visible.size(); ++i) {
      const Comment& c = *visible[i];
      b.section("*"_md + name(d, c.author) + "* · "_md + esc(format_instant(c.at)) +
                (c.edited_at ? " (edited)"_md : Mrkdwn()) + "\n"_md + Mrkdwn::quote(c.text));
    }
  }
  return modal;
}

Mrkdwn task_line(const Engine& e, const Task& t) {
  const Directory& d = e.directory();
  Mrkdwn line = "*#"_md + esc(std::to_string(t.number)) + "* "_md;
  line += (t.extension ? "Extension request"_md
           : t.kind == TaskKind::grant ? "Access request"_md
                                       : "Revocation"_md) +
          (t.emergency ? " :rotating_light:"_md : Mrkdwn()) + " · "_md +
          esc(d.display_name(t.subject) + " → " + t.app_name + " / " + t.resource_name);
  if (t.closed()) {
    std::string state(state_name(t.state));
    std::replace(state.begin(), state.end(), '_', ' ');
    return line + " · "_md + esc(state);
  }
  int i = t.current_step();
  return line + esc(" · step " + std::to_string(i + 1) + " of " + std::to_string(t.steps.size()) +
                    " (" + step_label(d, t.steps[static_cast<std::size_t>(i)]) + ")");
}

Mrkdwn task_list(const Engine& engine, const std::string& title,
                   const std::vector<const Task*>& shown) {
  constexpr std::size_t kShown = 20;
  Mrkdwn text = Mrkdwn::markup("*") + esc(title + " (" + std::to_string(shown.size()) + ")") +
                Mrkdwn::markup("*");
  for (std::size_t i = 0; i < shown.size() && i < kShown; ++i)
    text += Mrkdwn::markup("\n• ") + task_line(engine, *shown[i]);
  if (shown.size() > kShown)
    text += esc("\n…and " + std::to_string(shown.size() - kShown) + " more.");
  return text;
}

Mrkdwn task_text(const Engine& e, const Task& t, const PersonId& viewer) {
  const Directory& d = e.directory();
  Plan plan = e.plan(t, viewer);
  Mrkdwn out = task_line(e, t) +
               (t.kind == TaskKind::grant ? "\n*Justification:*\n"_md : "\n*Reason:*\n"_md) +
               Mrkdwn::quote(t.justification) + "\n*Requested by:* "_md +
               esc(d.display_name(t.requester) + " · " + format_instant(t.created_at));
  if (t.duration) out += " · for "_md + duration_text(d, t);
  for (const Insight& i : t.insights) out += "\n:bulb: "_md + esc(i.text);
  out += "\n*Plan* · "_md + esc(plan.policy_name);
  for (const PlanStep& s : plan.steps) {
    out += "\n"_md + esc(std::to_string(s.index + 1) + ". " + s.label) + " — "_md;
    std::string people;
    for (const PersonId& p : s.people) people += (people.empty() ? "" : ", ") + d.display_name(p);
    const TaskStep& step = t.steps[static_cast<std::size_t>(s.index)];
    if (s.state == StepState::done && s.outcome) {
      out += step.outcome ? esc(decided_verb(step) + " by " + decider_name(d, step))
                          : esc(outcome_verb(*s.outcome) + " by " + d.display_name(s.decided_by));
      if (!s.comment.empty()) out += ": "_md + quoted(s.comment);
    } else if (working_connector(&step)) {
      out += connector_progress(step);
    } else if (s.state == StepState::current) {
      if (failed_connector(&step)) out += ":warning: "_md + connector_failure(step) + "; "_md;
      out += esc("waiting for " + people);
    } else if (s.state == StepState::upcoming && step.connector) {
      out += esc("then " + step.connector->label);
    } else if (s.state == StepState::upcoming) {
      out += esc("then " + people);
    } else {
      out += "not needed"_md;
    }
    if (s.viewer_involved) out += "  ← you"_md;
  }
  int shown = 0;
  for (auto it = t.comments.rbegin(); it != t.comments.rend() && shown < 5; ++it) {
    if (it->deleted) continue;
    out += (shown++ == 0 ? "\n*Latest comments*"_md : Mrkdwn()) + "\n• "_md +
           Mrkdwn::line(d.display_name(it->author) + ": " + it->text);
  }
  return out;
}

}  // namespace tollgate::slack
