#include "app/outbox_planner.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "mail/templates.h"
#include "slack/block_kit.h"
#include "slack/blocks.h"
#include "web/links.h"
#include "workflow/engine.h"

namespace tollgate::outbox {
namespace {

// The task page's link for `person`, or empty when Tollgate has none.
std::string web_link(const PlanInput& in, const PersonId& person) {
  if (in.public_url.empty() || in.link_key.empty() || in.task.number == 0 || person.empty())
    return {};
  return web::task_link(in.public_url, in.link_key, in.task.number, person,
                        in.engine.clock().now(), in.link_ttl);
}

// The same link under the reader's copy of a task message.
void open_in_browser(slack::kit::Message& m, const PlanInput& in, const PersonId& person) {
  std::string link = web_link(in, person);
  if (!link.empty()) m.blocks.context({slack::kit::Mrkdwn::link(link, "Open in browser")});
}

// The step an effect names in its data ("step"), `absent` when it names none,
// -1 when what it names is not a number.
int step_of(const Effect& e, int absent) {
  const std::string* s = e.get("step");
  if (s == nullptr) return absent;
  int step = -1;
  auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), step);
  return ec == std::errc() && end == s->data() + s->size() ? step : -1;
}

std::string data_or_empty(const Effect& e, std::string_view key) {
  const std::string* v = e.get(key);
  return v != nullptr ? *v : std::string();
}

bool assigned(const TaskStep& step, const PersonId& person) {
  return std::find(step.assignees.begin(), step.assignees.end(), person) != step.assignees.end();
}

// Where a DM to the effect's recipient goes: their D... channel once learnt,
// else their Slack user id. Without a Slack account known for them, nothing:
// `out` then says so, to be tried again once the people are learnt.
std::optional<std::string> dm_channel(const Effect& e, const PlanInput& in, Planned& out) {
  if (!in.recipient_slack_id) {
    out.learn_people = true;
    out.failure = unavailable("no Slack account known for " +
                              in.engine.directory().display_name(e.recipient) + " yet");
    return std::nullopt;
  }
  return in.recipient_dm.empty() ? *in.recipient_slack_id : in.recipient_dm;
}

// A post into the recipient's DM, recorded as a message of `purpose` about `step`.
Call dm_post(const Effect& e, const std::string& channel, const slack::kit::Message& m,
             const std::string& purpose, int step) {
  SlackMessage rec{e.task, "", "", "", e.recipient, purpose, step, {}, ""};
  return {"post",      "chat.postMessage", channel,     slack::kit::post_message(channel, m),
          e.recipient, std::move(rec),     std::nullopt};
}

// The task's open step is the recipient's: a DM with the step's buttons.
void plan_assign(const Effect& e, const PlanInput& in, Planned& out) {
  const Task& task = in.task;
  int step = step_of(e, task.current_step());
  // Moved on before we got here (decided, reassigned): nothing to ask.
  if (step < 0 || step >= static_cast<int>(task.steps.size())) return;
  const TaskStep& s = task.steps[static_cast<std::size_t>(step)];
  if (s.state != StepState::current || !assigned(s, e.recipient)) return;
  auto channel = dm_channel(e, in, out);
  if (!channel) return;
  slack::kit::Message m = slack::task_message(in.engine, task, e.recipient, step);
  open_in_browser(m, in, e.recipient);
  out.calls.push_back(dm_post(e, *channel, m, "assign", step));
}

// Every posted copy of the task's message, each as its reader sees it now.
void plan_update(const Effect&, const PlanInput& in, Planned& out) {
  for (const SlackMessage& m : in.messages) {
    if (m.purpose != "assign") continue;
    slack::kit::Message view = slack::task_message(in.engine, in.task, m.person, m.step);
    open_in_browser(view, in, m.person);
    out.calls.push_back({"update:" + m.channel + ":" + m.ts, "chat.update", m.channel,
                         slack::kit::update_message(m.channel, m.ts, view), "", std::nullopt,
                         std::nullopt});
  }
}

// An outcome the requester (or subject) is told of, in their DM.
void plan_notify(const Effect& e, const PlanInput& in, Planned& out) {
  auto channel = dm_channel(e, in, out);
  if (!channel) return;
  std::optional<slack::Shortened> shortened;
  if (e.get("duration") != nullptr && e.get("duration_by") != nullptr)
    shortened = slack::Shortened{*e.get("duration"), *e.get("duration_by")};
  slack::kit::Message m =
      slack::notification(in.engine, in.task, e.recipient, data_or_empty(e, "event"),
                          data_or_empty(e, "by"), shortened);
  out.calls.push_back(dm_post(e, *channel, m, "notify", -1));
}

// A number of the effect's data (`key`), if it is one.
std::optional<std::int64_t> number_of(const Effect& e, std::string_view key) {
  const std::string* s = e.get(key);
  std::int64_t n = 0;
  if (s == nullptr) return std::nullopt;
  auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), n);
  return ec == std::errc() && end == s->data() + s->size() ? std::optional(n) : std::nullopt;
}

// A holder told of their own access, in their DM. The effect's task (the one
// that granted the access, or the one that removes it) may be closed: the
// notice is about the access, not the task.
void plan_access_notice(const Effect& e, const PlanInput& in, Planned& out) {
  auto channel = dm_channel(e, in, out);
  if (!channel) return;
  slack::AccessNotice n;
  n.event = data_or_empty(e, "event");
  n.app = data_or_empty(e, "app");
  n.resource = data_or_empty(e, "resource");
  if (auto ms = number_of(e, "expires_at")) n.expires_at = Time(Duration(*ms));
  n.ending_task = number_of(e, "ending_task").value_or(0);
  // The removal's task, when it is the one handed in: whoever it waits for.
  if (n.ending_task != 0 && n.ending_task == in.task.number) n.deprovisioners = in.task.assignees();
  slack::kit::Message m = slack::access_notice(in.engine, n);
  out.calls.push_back(dm_post(e, *channel, m, "access", -1));
}

// A comment, into the thread of every posted copy but the one it was written in.
void plan_comment(const Effect& e, const PlanInput& in, Planned& out) {
  const std::string* id = e.get("comment_id");
  const Comment* c = nullptr;
  for (const Comment& x : in.task.comments) {
    if (id != nullptr && std::to_string(x.id) == *id) c = &x;
  }
  if (c == nullptr || c->deleted) return;
  slack::kit::Message m = slack::comment_reply(in.engine.directory(), in.task, *c);
  for (const SlackMessage& msg : in.messages) {
    if (msg.purpose != "assign") continue;
    // Not back into the thread it was written in.
    if (c->source == "slack" && c->slack_channel == msg.channel) continue;
    out.calls.push_back({"reply:" + msg.channel + ":" + msg.ts, "chat.postMessage", msg.channel,
                         slack::kit::post_message(msg.channel, m, msg.ts), "", std::nullopt,
                         std::nullopt});
  }
}

// A nudge in the thread of the recipient's message about the open step (the
// latest copy), or a DM of its own when there is none.
void plan_remind(const Effect& e, const PlanInput& in, Planned& out) {
  const Task& task = in.task;
  int step = step_of(e, -1);
  // Decided or moved on since: nothing to remind of.
  if (step < 0 || step != task.current_step() || task.current() == nullptr ||
      !assigned(*task.current(), e.recipient)) {
    return;
  }
  auto channel = dm_channel(e, in, out);
  if (!channel) return;
  const SlackMessage* parent = nullptr;
  for (const SlackMessage& m : in.messages) {
    if (m.purpose == "assign" && m.person == e.recipient && m.step == step) parent = &m;
  }
  slack::kit::Message m = slack::reminder(in.engine, task, e.recipient, *in.recipient_slack_id,
                                          data_or_empty(e, "waiting"), parent == nullptr);
  if (parent == nullptr) {
    out.calls.push_back({"post", "chat.postMessage", *channel,
                         slack::kit::post_message(*channel, m), e.recipient, std::nullopt,
                         std::nullopt});
    return;
  }
  out.calls.push_back({"post", "chat.postMessage", parent->channel,
                       slack::kit::post_message(parent->channel, m, parent->ts), "", std::nullopt,
                       std::nullopt});
}

// A mail, linking to the recipient's message about the task (or the workspace).
void plan_email(const Effect& e, const PlanInput& in, Planned& out) {
  const Person* p = in.engine.directory().person(e.recipient);
  if (p == nullptr || p->email.empty()) {
    out.failure = invalid_argument("no email address for " + e.recipient);
    return;
  }
  if (!in.mail_enabled) {
    out.failure = invalid_argument("email is not configured (TOLLGATE_SMTP_URL)");
    return;
  }
  std::string link;
  for (const SlackMessage& m : in.messages) {
    if (m.person == e.recipient && !m.permalink.empty()) link = m.permalink;
  }
  if (link.empty()) link = in.workspace_url;
  out.calls.push_back({"mail", kSmtp, "", "", "", std::nullopt,
                       mail::task_mail(in.engine, in.task, e, link, web_link(in, e.recipient))});
}

// The connector call of the task's open step, for the attempt the effect
// names; none once that attempt is answered (or the task moved on).
void plan_connector(const Effect& e, const PlanInput& in, Planned& out) {
  const Task& t = in.task;
  int step = step_of(e, -1);
  std::string attempt = data_or_empty(e, "attempt");
  if (t.closed() || step < 0 || t.current_step() != step) return;
  const TaskStep& s = t.steps[static_cast<std::size_t>(step)];
  if (!s.connector || s.connector->phase != ConnectorRun::Phase::calling ||
      std::to_string(s.connector->attempt) != attempt) {
    return;
  }
  const Directory& dir = in.engine.directory();
  bool grant = t.kind == TaskKind::grant;
  ConnectorCall cc;
  cc.mode = s.connector->mode;
  cc.step = step;
  cc.attempt = s.connector->attempt;
  connect::Job& job = cc.job;
  job.idempotency_id = s.connector->idempotency_id(t.number, static_cast<std::size_t>(step));
  job.op = grant ? connect::Op::grant : connect::Op::revoke;
  job.task = t.number;
  job.app = t.app;
  job.app_name = t.app_name;
  job.resource = t.resource;
  job.resource_name = t.resource_name;
  job.person = t.subject;
  job.person_name = dir.display_name(t.subject);
  if (const Person* p = dir.person(t.subject)) job.email = p->email;
  if (grant && t.duration) job.expires_at = in.engine.clock().now() + *t.duration;
  job.callback_url = in.public_url + "/api/v1/tasks/" + std::to_string(t.number) + "/provisioning";
  const App* app = dir.app(t.app);
  const Fulfilment* f = app != nullptr ? &app->fulfilment(grant) : nullptr;
  if (f == nullptr || f->mode != cc.mode) {
    cc.refused = "the configuration no longer has this " +
                 std::string(provisioning_mode_name(cc.mode)) + " connector for the app";
  } else {
    cc.settings = f->connector;
    const Resource* r = dir.resource(t.app, t.resource);
    job.scim_group = r != nullptr ? r->scim_group : "";
  }
  Call call;
  call.key = "connector:" + attempt;
  call.method = kConnector;
  call.channel = "connector:" + t.app;
  call.connector = std::move(cc);
  out.calls.push_back(std::move(call));
}

// An effect of a kind this build does not know (written by a newer one): kept
// for an operator rather than guessed at.
void plan_unknown(const Effect& e, const PlanInput&, Planned& out) {
  out.failure = invalid_argument("no delivery for effects of kind " +
                                 std::to_string(static_cast<int>(e.kind)));
}

using Planner = void (*)(const Effect&, const PlanInput&, Planned&);

// The planner of each kind of effect.
constexpr std::pair<EffectKind, Planner> kPlanners[] = {
    {EffectKind::assign, plan_assign}, {EffectKind::update_messages, plan_update},
    {EffectKind::notify, plan_notify}, {EffectKind::post_comment, plan_comment},
    {EffectKind::remind, plan_remind}, {EffectKind::email, plan_email},
    {EffectKind::access_notice, plan_access_notice}, {EffectKind::connector, plan_connector},
};

Planner planner_for(EffectKind kind) {
  for (const auto& [k, planner] : kPlanners) {
    if (k == kind) return planner;
  }
  return plan_unknown;
}

}  // namespace

bool needs_messages(EffectKind kind) {
  switch (kind) {
    case EffectKind::assign:
    case EffectKind::notify:
    case EffectKind::access_notice:
    case EffectKind::connector:
      return false;
    case EffectKind::update_messages:
    case EffectKind::post_comment:
    case EffectKind::remind:
    case EffectKind::email:
      return true;
  }
  return true;
}

Planned plan(const Effect& effect, const PlanInput& in) {
  Planned out;
  planner_for(effect.kind)(effect, in, out);
  return out;
}

void drop_done(std::vector<Call>& calls, const std::vector<std::string>& done) {
  std::erase_if(calls, [&](const Call& c) {
    return std::find(done.begin(), done.end(), c.key) != done.end();
  });
}

std::string permalink(const std::string& workspace_url, const std::string& channel,
                      const std::string& ts) {
  if (workspace_url.empty() || channel.empty() || ts.empty()) return {};
  std::string digits;
  for (char c : ts) {
    if (c != '.') digits += c;
  }
  std::string base = workspace_url;
  if (base.back() != '/') base += '/';
  return base + "archives/" + channel + "/p" + digits;
}

}  // namespace tollgate::outbox
