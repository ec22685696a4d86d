#include "edge/events.h"

#include <optional>

#include <spdlog/spdlog.h>

#include "app/home_publisher.h"
#include "app/identity.h"
#include "app/task_service.h"
#include "base/json.h"
#include "base/metrics.h"
#include "edge/slack_context.h"
#include "slack/markup.h"
#include "slack/payloads.h"
#include "storage/store.h"
#include "workflow/engine.h"

namespace tollgate {
namespace {

using http::Response;

// A change in a thread, as a comment command: a new reply, an edit of one, or
// its deletion.
struct ThreadChange {
  Action action = Action::comment;
  std::string user;
  std::string text;
  std::string ts;
  std::string thread;
};

// The change a message event makes in a thread; nullopt when it is not a
// reply, or changes nothing worth mirroring.
std::optional<ThreadChange> thread_change(const slack::MessageEvent& m) {
  ThreadChange c;
  if (m.subtype.empty() || m.subtype == "thread_broadcast" || m.subtype == "file_share") {
    if (m.thread_ts.empty() || m.thread_ts == m.ts) return std::nullopt;  // not a reply
    c = {Action::comment, m.user, m.text, m.ts, m.thread_ts};
  } else if (m.subtype == "message_changed" && m.message) {
    const auto& now = *m.message;
    // The parent's reply count changing, a tombstone, or no change of text: nothing to mirror.
    if (now.subtype == "tombstone" || now.thread_ts.empty() || now.thread_ts == now.ts)
      return std::nullopt;
    if (m.previous_message && m.previous_message->text == now.text) return std::nullopt;
    c = {Action::edit_comment, now.user, now.text, now.ts, now.thread_ts};
  } else if (m.subtype == "message_deleted" && m.previous_message) {
    if (m.previous_message->thread_ts.empty() || m.previous_message->thread_ts == m.deleted_ts)
      return std::nullopt;
    c = {Action::delete_comment, m.previous_message->user, "", m.deleted_ts,
         m.previous_message->thread_ts};
  } else {
    return std::nullopt;
  }
  if (c.user.empty()) return std::nullopt;
  return c;
}

// A reply, edit or deletion in the thread of a task message becomes a
// comment command; false when the event is not about one of our threads.
bool mirror_thread(SlackContext& ctx, const slack::EventEnvelope& ev, http::Respond& respond) {
  const slack::MessageEvent& m = *ev.message;
  auto change = thread_change(m);
  if (!change) return false;
  auto parent = ctx.store.message_at(m.channel, change->thread);
  if (!parent.ok()) {
    respond(unavailable_response());  // Slack will retry
    return true;
  }
  if (!parent->has_value()) return false;  // a thread that is not one of ours
  auto person = ctx.identity.person_for(change->user);
  if (!person) ctx.identity.learn_user(change->user);
  auto engine = ctx.service.engine();
  Identity* identity = &ctx.identity;
  auto name_of = [&](const std::string& id) {
    auto p = identity->person_for(id);
    return p ? engine->directory().display_name(*p) : std::string();
  };
  Command cmd;
  cmd.action = change->action;
  cmd.actor = person ? *person : "slack:" + change->user;
  cmd.comment = slack::plain_text(change->text, name_of);
  cmd.source = "slack";
  cmd.slack_channel = m.channel;
  cmd.slack_ts = change->ts;
  std::string name(action_name(change->action));
  Metrics* metrics = &ctx.metrics;
  // The event id is recorded in the same transaction as the comment: a retry
  // of this delivery is a duplicate, and a failed one is processed again.
  ctx.service.act((*parent)->task, cmd,
                  [metrics, respond, name, type = ev.event_type](StatusOr<Decision> d) {
                    std::string handling = d.ok()                        ? "mirrored"
                                           : d.code() == Code::duplicate ? "duplicate"
                                                                         : "refused";
                    metrics->inc("tollgate_events_total", {{"type", type}, {"handling", handling}});
                    if (d.code() == Code::unavailable) return respond(unavailable_response());
                    if (!d.ok() && d.code() != Code::duplicate) {
                      spdlog::info("thread {} not mirrored: {}", name, d.status().to_string());
                    }
                    respond(Response::empty(200));
                  },
                  "event:" + ev.event_id);
  return true;
}

// Whether the event is about the bot's own doing (its messages, their edits).
bool from_self(const SlackContext& ctx, const slack::EventEnvelope& ev) {
  if (ctx.is_self(ev.user, "")) return true;
  if (!ev.message) return false;
  const slack::MessageEvent& m = *ev.message;
  if (ctx.is_self(m.user, m.bot_id)) return true;
  return m.message && ctx.is_self(m.message->user, m.message->bot_id);
}

Response challenge_answer(const std::string& challenge) {
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::kv(w, "challenge", challenge);
  w.EndObject();
  return Response::json(200, json::text(b));
}

}  // namespace

void on_event(SlackContext& ctx, const slack::EventEnvelope& ev, http::Respond respond) {
  if (ev.type == "url_verification") return respond(challenge_answer(ev.challenge));
  if (ev.type != "event_callback") return respond(Response::empty(200));
  if (ctx.foreign_team(ev.team_id, ev.enterprise_id, respond)) return;
  if (from_self(ctx, ev)) {
    ctx.metrics.inc("tollgate_events_total", {{"type", ev.event_type}, {"handling", "own"}});
    return respond(Response::empty(200));
  }
  if (ev.event_type == "message" && ev.message && mirror_thread(ctx, ev, respond)) return;
  // Who opened the home tab is resolved here, on the network thread: the
  // store's completions run on its writer and must not read.
  std::optional<PersonId> viewer;
  if (ev.event_type == "app_home_opened" && ev.tab == "home" && ctx.home != nullptr) {
    viewer = ctx.identity.person_for(ev.user);
    if (!viewer) ctx.identity.learn_user(ev.user);
  }
  // Retries carry the same event_id: record it, and process it only the first time.
  SlackContext* c = &ctx;
  ctx.store.remember("event:" + ev.event_id, [c, ev, viewer, respond](Status s) {
    if (s.code() == Code::duplicate) {
      c->metrics.inc("tollgate_events_total", {{"type", ev.event_type}, {"handling", "duplicate"}});
      return respond(Response::empty(200));
    }
    if (!s.ok()) return respond(unavailable_response());  // Slack will retry
    c->metrics.inc("tollgate_events_total", {{"type", ev.event_type}, {"handling", "accepted"}});
    respond(Response::empty(200));
    if (viewer) {
      c->home->show(ev.user, *viewer, "", 0);
    } else if (ev.event_type == "message" && ev.message) {
      spdlog::debug("message event in {} ts={} thread_ts={}", ev.message->channel, ev.message->ts,
                    ev.message->thread_ts);
    }
  });
}

}  // namespace tollgate
