#include "app/audit_export.h"

#include "base/json.h"
#include "storage/store.h"
#include "workflow/directory.h"
#include "base/time_text.h"

namespace tollgate {

EventLinks::~EventLinks() = default;

std::string EventLinks::permalink(const StoredEvent& se) {
  const Event& e = se.event;
  if (e.task <= 0) return {};
  if (e.task != task_ || messages_ == nullptr) {
    auto m = store_.messages(e.task);
    if (!m.ok()) return {};
    if (messages_ == nullptr) messages_ = std::make_unique<std::vector<SlackMessage>>();
    *messages_ = std::move(*m);
    task_ = e.task;
  }
  const std::string* channel = e.get("slack_channel");
  const std::string* ts = e.get("slack_ts");
  if (channel != nullptr && ts != nullptr) {
    for (const SlackMessage& m : *messages_) {  // the message clicked on
      if (m.channel == *channel && m.ts == *ts && !m.permalink.empty()) return m.permalink;
    }
    for (const SlackMessage& m : *messages_) {  // a reply: its thread's message
      if (m.channel == *channel && m.purpose == "assign" && !m.permalink.empty())
        return m.permalink;
    }
  }
  std::string found;
  for (const SlackMessage& m : *messages_) {  // the actor's own message (the latest before)
    if (m.person == e.actor && !m.permalink.empty() && m.posted_at <= e.at) found = m.permalink;
  }
  return found;
}

std::string event_json(const StoredEvent& e, const Directory* directory, EventLinks* links) {
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  w.Key("seq");
  w.Int64(e.seq);
  w.Key("task");
  w.Int64(e.event.task);
  json::kv(w, "type", e.event.type);
  json::kv(w, "actor", e.event.actor);
  const Person* p = directory != nullptr ? directory->person(e.event.actor) : nullptr;
  std::string slack_id = p != nullptr                            ? p->slack_user_id
                         : e.event.actor.rfind("slack:", 0) == 0 ? e.event.actor.substr(6)
                                                                 : std::string();
  json::kv(w, "actor_person", p != nullptr ? p->id : std::string());
  json::kv(w, "actor_name",
           p != nullptr                    ? p->name
           : e.event.actor == kSystemActor ? std::string("Tollgate")
                                           : std::string());
  json::kv(w, "actor_slack_id", slack_id);
  json::kv(w, "at", format_iso8601(e.event.at));
  json::key(w, "data");
  w.StartObject();
  for (const auto& [k, v] : e.event.data) json::kv(w, k, v);
  w.EndObject();
  json::kv(w, "slack_permalink", links != nullptr ? links->permalink(e) : std::string());
  json::kv(w, "prev_hash", e.prev_hash);
  json::kv(w, "hash", e.hash);
  w.EndObject();
  return json::text(b);
}

StatusOr<std::int64_t> export_audit(Store& store, const Directory* directory, std::int64_t since,
                                    std::ostream& out) {
  std::int64_t written = 0;
  EventLinks links(store);
  for (;;) {
    auto page = store.events(since, 1000);
    if (!page.ok()) return page.status();
    if (page->empty()) return written;
    for (const StoredEvent& e : *page) {
      out << event_json(e, directory, &links) << '\n';
      ++written;
      since = e.seq;
    }
  }
}

}  // namespace tollgate
