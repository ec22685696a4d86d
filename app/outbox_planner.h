// What to send for an effect of the outbox, apart from the sending of it.
//
// The planner turns one effect, and the facts it needs (the task as it is
// now, the messages already posted about it, the recipient's Slack account),
// into the calls that deliver it: Slack Web API calls with their bodies,
// built with the Block Kit vocabulary and the renderers (slack/blocks.h), or
// a mail (mail/templates.h). It reads nothing itself and does no I/O: the
// delivery (outbox_worker.cc) reads the store and the identity cache, hands
// them in, and then claims, paces, retries and records the calls planned.
// The only clock read is the renderers' own, through the engine's injected
// clock. So every message an effect leads to can be checked without Slack,
// a store or a thread.
//
// Calls are named by a key that is stable across retries of one item ("post",
// "update:D1:1.2", "reply:D1:1.2", "mail"): the store records the keys of the
// calls that succeeded, and a retry of the item leaves those out (drop_done),
// so the keys must not change from one version of Tollgate to the next.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "connect/connector.h"
#include "mail/smtp.h"
#include "storage/store.h"
#include "workflow/task.h"

namespace tollgate {

class Engine;

namespace outbox {

// The method of a call that is a mail rather than a Slack Web API call.
inline constexpr const char* kSmtp = "smtp";
// The method of a call to an app's connector (paced per app: its channel is
// "connector:<app>", which a 429's Retry-After blocks).
inline constexpr const char* kConnector = "connector";

// A connector call: the change of the task's open step in the app.
struct ConnectorCall {
  ProvisioningMode mode = ProvisioningMode::webhook;
  Connector settings;
  connect::Job job;
  int step = 0;
  int attempt = 1;
  // Set: nothing to call (the app's connector is gone from the
  // configuration, or the subject has no email for SCIM); the step fails
  // with this answer and goes to people.
  std::string refused;
};

// One call of a delivery.
struct Call {
  std::string key;      // names it within its item across retries (see above)
  std::string method;   // a Web API method ("chat.postMessage", "chat.update"), or kSmtp
  std::string channel;  // where it posts, for pacing (empty for a mail)
  std::string body;     // the Web API call's JSON body (empty for a mail)
  // A post into this person's DM: its D... channel is learnt from Slack's answer.
  PersonId dm_of;
  // A post to record once made (task, person, purpose, step); its channel,
  // ts, time and permalink come from Slack's answer.
  std::optional<SlackMessage> record;
  std::optional<mail::MailMessage> mail;  // for kSmtp
  std::optional<ConnectorCall> connector;  // for kConnector
};

// What the planner needs to know besides the effect. Values only, read by the
// caller beforehand.
struct PlanInput {
  // The configuration, directory and clock the renderers use.
  const Engine& engine;
  // The effect's task, as it is now: messages are rendered from it.
  const Task& task;
  // The messages posted about the task (Store::messages), oldest first, when
  // needs_messages() says the effect's kind uses them.
  std::vector<SlackMessage> messages;
  // The Slack user id of the effect's recipient, when known.
  std::optional<std::string> recipient_slack_id;
  // The recipient's DM channel (D...), once learnt from an earlier post; a
  // post into their DM goes to their user id until then.
  std::string recipient_dm;
  // Whether mails can be sent (an SMTP server is configured).
  bool mail_enabled = false;
  // The workspace's address ("https://acme.slack.com/"), or empty.
  std::string workspace_url;
  // Tollgate's own address (TOLLGATE_PUBLIC_URL), or empty: a webhook's
  // callback_url is then only its path.
  std::string public_url;
  // The task page's links (web/links.h): signed with `link_key`, valid
  // `link_ttl`. Without a key or a public URL, messages and mails carry none.
  std::string link_key;
  Duration link_ttl = std::chrono::hours(24 * 7);
};

// The calls that deliver an effect, in the order to make them.
struct Planned {
  std::vector<Call> calls;  // none: nothing (or nothing any more) to send
  // Not ok: the effect cannot be delivered as things are. Code::unavailable
  // may pass (try again later); anything else will not.
  Status failure;
  // The recipient's Slack account is not known yet: the caller should ask
  // Slack for the directory's people (Identity::learn_people) before retrying.
  bool learn_people = false;
};

// Whether planning an effect of `kind` reads PlanInput::messages.
bool needs_messages(EffectKind kind);

// The calls for `effect`, from the task as it is now. An effect the task has
// moved past (an assignment of a step decided since, a reminder of a step no
// longer open, a comment deleted) plans no call.
Planned plan(const Effect& effect, const PlanInput& in);

// `calls` without those whose key is in `done` (the calls an earlier delivery
// of the item made and recorded).
void drop_done(std::vector<Call>& calls, const std::vector<std::string>& done);

// https://acme.slack.com/archives/D0123/p1700000000123456: Slack's permalink
// form, from the workspace's address, the channel and the message's ts; empty
// when any of them is.
std::string permalink(const std::string& workspace_url, const std::string& channel,
                      const std::string& ts);

}  // namespace outbox
}  // namespace tollgate
