#include "storage/detail/codec.h"

#include <algorithm>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace tollgate::codec {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
using rapidjson::Value;

std::int64_t ms(Time t) {
  return t.time_since_epoch().count();
}
Time from_ms(std::int64_t v) {
  return Time(Duration(v));
}

void str(Writer& w, std::string_view key, std::string_view v) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}
void num(Writer& w, std::string_view key, std::int64_t v) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.Int64(v);
}
void boolean(Writer& w, std::string_view key, bool v) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.Bool(v);
}
void strs(Writer& w, std::string_view key, const std::vector<std::string>& v) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.StartArray();
  for (const auto& s : v) w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  w.EndArray();
}
void opt_time(Writer& w, std::string_view key, const std::optional<Time>& t) {
  if (t) num(w, key, ms(*t));
}

// Readers are lenient about missing members (defaults) and strict about types.
struct Reader {
  bool bad = false;
  const Value* member(const Value& o, const char* key) {
    if (!o.IsObject()) {
      bad = true;
      return nullptr;
    }
    auto it = o.FindMember(key);
    return it == o.MemberEnd() ? nullptr : &it->value;
  }
  std::string s(const Value& o, const char* key) {
    const Value* v = member(o, key);
    if (v == nullptr) return {};
    if (!v->IsString()) {
      bad = true;
      return {};
    }
    return {v->GetString(), v->GetStringLength()};
  }
  std::int64_t i(const Value& o, const char* key, std::int64_t fallback = 0) {
    const Value* v = member(o, key);
    if (v == nullptr) return fallback;
    if (!v->IsInt64()) {
      bad = true;
      return fallback;
    }
    return v->GetInt64();
  }
  bool b(const Value& o, const char* key) {
    const Value* v = member(o, key);
    if (v == nullptr) return false;
    if (!v->IsBool()) {
      bad = true;
      return false;
    }
    return v->GetBool();
  }
  std::optional<Time> t(const Value& o, const char* key) {
    const Value* v = member(o, key);
    if (v == nullptr) return std::nullopt;
    if (!v->IsInt64()) {
      bad = true;
      return std::nullopt;
    }
    return from_ms(v->GetInt64());
  }
  std::vector<std::string> list(const Value& o, const char* key) {
    std::vector<std::string> out;
    const Value* v = member(o, key);
    if (v == nullptr) return out;
    if (!v->IsArray()) {
      bad = true;
      return out;
    }
    for (const Value& e : v->GetArray()) {
      if (!e.IsString()) {
        bad = true;
        continue;
      }
      out.emplace_back(e.GetString(), e.GetStringLength());
    }
    return out;
  }
};

void encode_connector(Writer& w, const ConnectorRun& run) {
  w.Key("connector");
  w.StartObject();
  str(w, "mode", provisioning_mode_name(run.mode));
  str(w, "label", run.label);
  str(w, "phase", connector_phase_name(run.phase));
  num(w, "attempt", run.attempt);
  str(w, "answer", run.answer);
  opt_time(w, "answered_at", run.answered_at);
  opt_time(w, "confirm_by", run.confirm_by);
  w.EndObject();
}

ConnectorRun decode_connector(Reader& r, const Value& o) {
  ConnectorRun run;
  auto mode = parse_provisioning_mode(r.s(o, "mode"));
  auto phase = parse_connector_phase(r.s(o, "phase"));
  if (!mode || !is_connector(*mode) || !phase) r.bad = true;
  if (mode) run.mode = *mode;
  if (phase) run.phase = *phase;
  run.label = r.s(o, "label");
  run.attempt = static_cast<int>(r.i(o, "attempt", 1));
  run.answer = r.s(o, "answer");
  run.answered_at = r.t(o, "answered_at");
  run.confirm_by = r.t(o, "confirm_by");
  return run;
}

void encode_rule(Writer& w, const PolicyStep& r) {
  w.Key("rule");
  w.StartObject();
  str(w, "name", r.name);
  str(w, "reviewers", reviewer_type_name(r.reviewers.type));
  strs(w, "users", r.reviewers.users);
  str(w, "group", r.reviewers.group);
  strs(w, "fallback", r.fallback);
  std::vector<std::string> reasons;
  for (Action a : r.require_reason) reasons.emplace_back(action_name(a));
  strs(w, "require_reason", reasons);
  boolean(w, "allow_reassign", r.allow_reassign);
  strs(w, "reassign_to", r.reassign_to);
  boolean(w, "allow_self_review", r.allow_self_review);
  if (r.allow_same_reviewer) boolean(w, "allow_same_reviewer", true);
  boolean(w, "allow_delegation", r.allow_delegation);
  if (r.sla.any()) {
    w.Key("sla");
    w.StartObject();
    auto dur = [&](const char* key, const std::optional<Duration>& d) {
      if (d) num(w, key, d->count());
    };
    dur("remind_after_ms", r.sla.remind_after);
    dur("escalate_after_ms", r.sla.escalate_after);
    dur("expire_after_ms", r.sla.expire_after);
    str(w, "escalate_to",
        r.sla.escalate_to == EscalateTo::manager    ? "manager"
        : r.sla.escalate_to == EscalateTo::fallback ? "fallback"
                                                    : "people");
    strs(w, "escalate_people", r.sla.escalate_people);
    boolean(w, "remind_on_weekends", r.sla.remind_on_weekends);
    w.EndObject();
  }
  w.EndObject();
}

// A map of person ids, as an object.
void encode_people_map(Writer& w, const char* key, const std::map<PersonId, PersonId>& m) {
  if (m.empty()) return;
  w.Key(key);
  w.StartObject();
  for (const auto& [k, v] : m) str(w, k, v);
  w.EndObject();
}

void encode_times(Writer& w, const char* key, const std::map<PersonId, Time>& m) {
  if (m.empty()) return;
  w.Key(key);
  w.StartObject();
  for (const auto& [k, v] : m) num(w, k, ms(v));
  w.EndObject();
}

void decode_rule(Reader& r, const Value& o, PolicyStep& out) {
  out.name = r.s(o, "name");
  std::string type = r.s(o, "reviewers");
  for (ReviewerType t : {ReviewerType::manager, ReviewerType::app_owners,
                         ReviewerType::resource_owners, ReviewerType::users, ReviewerType::group}) {
    if (reviewer_type_name(t) == type) out.reviewers.type = t;
  }
  out.reviewers.users = r.list(o, "users");
  out.reviewers.group = r.s(o, "group");
  out.fallback = r.list(o, "fallback");
  for (const std::string& a : r.list(o, "require_reason")) {
    if (auto act = parse_action(a)) out.require_reason.insert(*act);
  }
  out.allow_reassign = r.b(o, "allow_reassign");
  out.reassign_to = r.list(o, "reassign_to");
  out.allow_self_review = r.b(o, "allow_self_review");
  out.allow_same_reviewer = r.b(o, "allow_same_reviewer");
  out.allow_delegation = r.member(o, "allow_delegation") == nullptr || r.b(o, "allow_delegation");
  if (const Value* sla = r.member(o, "sla"); sla != nullptr && sla->IsObject()) {
    auto dur = [&](const char* key) -> std::optional<Duration> {
      if (r.member(*sla, key) == nullptr) return std::nullopt;
      return Duration(r.i(*sla, key));
    };
    out.sla.remind_after = dur("remind_after_ms");
    out.sla.escalate_after = dur("escalate_after_ms");
    out.sla.expire_after = dur("expire_after_ms");
    std::string to = r.s(*sla, "escalate_to");
    out.sla.escalate_to = to == "fallback" ? EscalateTo::fallback
                          : to == "people" ? EscalateTo::people
                                           : EscalateTo::manager;
    out.sla.escalate_people = r.list(*sla, "escalate_people");
    out.sla.remind_on_weekends = r.b(*sla, "remind_on_weekends");
  }
}

}  // namespace

std::string encode_task(const Task& t) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  num(w, "number", t.number);
  num(w, "version", t.version);
  str(w, "kind", kind_name(t.kind));
  str(w, "state", state_name(t.state));
  str(w, "requester", t.requester);
  str(w, "subject", t.subject);
  str(w, "app", t.app);
  str(w, "resource", t.resource);
  str(w, "app_name", t.app_name);
  str(w, "resource_name", t.resource_name);
  str(w, "justification", t.justification);
  if (t.duration) num(w, "duration_ms", t.duration->count());
  if (!t.duration_by.empty()) str(w, "duration_by", t.duration_by);
  if (t.extension) boolean(w, "extension", true);
  opt_time(w, "extends", t.extends);
  if (!t.ending.empty()) str(w, "ending", t.ending);
  boolean(w, "emergency", t.emergency);
  boolean(w, "sensitive", t.sensitive);
  str(w, "policy_id", t.policy_id);
  str(w, "policy_name", t.policy_name);
  str(w, "instructions", t.instructions);
  num(w, "created_at", ms(t.created_at));
  num(w, "updated_at", ms(t.updated_at));
  str(w, "closed_by", t.closed_by);
  opt_time(w, "closed_at", t.closed_at);
  w.Key("steps");
  w.StartArray();
  for (const TaskStep& s : t.steps) {
    w.StartObject();
    str(w, "kind", step_kind_name(s.kind));
    str(w, "state", step_state_name(s.state));
    encode_rule(w, s.rule);
    strs(w, "assignees", s.assignees);
    if (!s.former_assignees.empty()) strs(w, "former_assignees", s.former_assignees);
    boolean(w, "by_fallback", s.by_fallback);
    opt_time(w, "opened_at", s.opened_at);
    if (s.outcome) str(w, "outcome", action_name(*s.outcome));
    str(w, "decided_by", s.decided_by);
    opt_time(w, "decided_at", s.decided_at);
    str(w, "comment", s.comment);
    encode_people_map(w, "delegated_for", s.delegated_for);
    encode_times(w, "nudged_at", s.nudged_at);
    if (s.escalated) boolean(w, "escalated", true);
    if (s.connector) encode_connector(w, *s.connector);
    w.EndObject();
  }
  w.EndArray();
  w.Key("insights");
  w.StartArray();
  for (const Insight& i : t.insights) {
    w.StartObject();
    str(w, "kind", i.kind);
    str(w, "text", i.text);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

StatusOr<Task> decode_task(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return internal_error("stored task is not JSON");
  Reader r;
  Task t;
  t.number = r.i(doc, "number");
  t.version = r.i(doc, "version");
  auto kind = parse_kind(r.s(doc, "kind"));
  auto state = parse_state(r.s(doc, "state"));
  if (!kind || !state) return internal_error("stored task has an unknown kind or state");
  t.kind = *kind;
  t.state = *state;
  t.requester = r.s(doc, "requester");
  t.subject = r.s(doc, "subject");
  t.app = r.s(doc, "app");
  t.resource = r.s(doc, "resource");
  t.app_name = r.s(doc, "app_name");
  t.resource_name = r.s(doc, "resource_name");
  t.justification = r.s(doc, "justification");
  if (r.member(doc, "duration_ms") != nullptr) t.duration = Duration(r.i(doc, "duration_ms"));
  t.duration_by = r.s(doc, "duration_by");
  t.extension = r.b(doc, "extension");
  t.extends = r.t(doc, "extends");
  t.ending = r.s(doc, "ending");
  t.emergency = r.b(doc, "emergency");
  t.sensitive = r.b(doc, "sensitive");
  t.policy_id = r.s(doc, "policy_id");
  t.policy_name = r.s(doc, "policy_name");
  t.instructions = r.s(doc, "instructions");
  t.created_at = from_ms(r.i(doc, "created_at"));
  t.updated_at = from_ms(r.i(doc, "updated_at"));
  t.closed_by = r.s(doc, "closed_by");
  t.closed_at = r.t(doc, "closed_at");
  if (const Value* steps = r.member(doc, "steps"); steps != nullptr && steps->IsArray()) {
    for (const Value& so : steps->GetArray()) {
      TaskStep s;
      std::string k = r.s(so, "kind");
      s.kind = k == "provision"     ? StepKind::provision
               : k == "deprovision" ? StepKind::deprovision
                                    : StepKind::review;
      std::string st = r.s(so, "state");
      s.state = st == "current"   ? StepState::current
                : st == "done"    ? StepState::done
                : st == "skipped" ? StepState::skipped
                                  : StepState::upcoming;
      if (const Value* rule = r.member(so, "rule")) decode_rule(r, *rule, s.rule);
      s.assignees = r.list(so, "assignees");
      s.former_assignees = r.list(so, "former_assignees");
      s.by_fallback = r.b(so, "by_fallback");
      s.opened_at = r.t(so, "opened_at");
      if (std::string o = r.s(so, "outcome"); !o.empty()) s.outcome = parse_action(o);
      s.decided_by = r.s(so, "decided_by");
      s.decided_at = r.t(so, "decided_at");
      s.comment = r.s(so, "comment");
      if (const Value* m = r.member(so, "delegated_for"); m != nullptr && m->IsObject()) {
        for (auto it = m->MemberBegin(); it != m->MemberEnd(); ++it) {
          if (!it->value.IsString()) {
            r.bad = true;
            continue;
          }
          s.delegated_for[it->name.GetString()] = it->value.GetString();
        }
      }
      if (const Value* m = r.member(so, "nudged_at"); m != nullptr && m->IsObject()) {
        for (auto it = m->MemberBegin(); it != m->MemberEnd(); ++it) {
          if (!it->value.IsInt64()) {
            r.bad = true;
            continue;
          }
          s.nudged_at[it->name.GetString()] = from_ms(it->value.GetInt64());
        }
      }
      s.escalated = r.b(so, "escalated");
      if (const Value* run = r.member(so, "connector"); run != nullptr && run->IsObject())
        s.connector = decode_connector(r, *run);
      t.steps.push_back(std::move(s));
    }
  }
  if (const Value* ins = r.member(doc, "insights"); ins != nullptr && ins->IsArray()) {
    for (const Value& io : ins->GetArray())
      t.insights.push_back({r.s(io, "kind"), r.s(io, "text")});
  }
  if (r.bad) return internal_error("stored task #" + std::to_string(t.number) + " is malformed");
  return t;
}

std::string encode_pairs(const Pairs& pairs) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartArray();
  for (const auto& [k, v] : pairs) {
    w.StartArray();
    w.String(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    w.EndArray();
  }
  w.EndArray();
  return {buf.GetString(), buf.GetSize()};
}

StatusOr<Pairs> decode_pairs(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsArray())
    return internal_error("stored data is not a JSON array");
  Pairs out;
  for (const Value& e : doc.GetArray()) {
    if (!e.IsArray() || e.Size() != 2 || !e[0].IsString() || !e[1].IsString()) {
      return internal_error("stored data has a malformed pair");
    }
    out.emplace_back(std::string(e[0].GetString(), e[0].GetStringLength()),
                     std::string(e[1].GetString(), e[1].GetStringLength()));
  }
  return out;
}

const std::string& genesis_hash() {
  static const std::string zeros(64, '0');
  return zeros;
}

namespace {

std::string hex_of(const unsigned char* bytes, unsigned len) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(len * 2, '0');
  for (unsigned i = 0; i < len; ++i) {
    hex[2 * i] = kHex[bytes[i] >> 4];
    hex[2 * i + 1] = kHex[bytes[i] & 0xf];
  }
  return hex;
}

std::string hmac_hex(std::string_view key, std::string_view text) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), mac, &len);
  return hex_of(mac, len);
}

// Compares two MACs in time independent of where they differ.
bool same_mac(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::string event_hash(const std::string& prev_hash, std::int64_t seq, TaskNumber task,
                       std::string_view type, std::string_view actor, std::int64_t at_ms,
                       std::string_view data_json, std::string_view key) {
  std::string text = prev_hash;
  text += '\n';
  text += std::to_string(seq);
  text += '\n';
  text += std::to_string(task);
  text += '\n';
  text.append(type);
  text += '\n';
  text.append(actor);
  text += '\n';
  text += std::to_string(at_ms);
  text += '\n';
  text.append(data_json);
  if (!key.empty()) return hmac_hex(key, text);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
  return hex_of(digest, len);
}

Status check_audit_key(std::string_view key) {
  if (key.size() < kMinAuditKeyBytes || key.size() > kMaxAuditKeyBytes) {
    return invalid_argument("an audit key is 32 to 64 bytes, not " + std::to_string(key.size()));
  }
  return {};
}

std::string key_id(std::string_view key) {
  return hmac_hex(key, "tollgate audit key id").substr(0, 16);
}

std::string head_mac(std::string_view key, const ChainHead& h) {
  std::string text = "tollgate audit head\n";
  text += std::to_string(h.last_seq) + '\n' + h.last_hash + '\n' + std::to_string(h.sealed_from) +
          '\n' + std::to_string(h.sealed_at_ms) + '\n' + h.key_id;
  return hmac_hex(key, text);
}

void seal_head(ChainHead& h, std::string_view key, std::int64_t now_ms) {
  h.sealed_from = h.last_seq + 1;
  h.sealed_at_ms = now_ms;
  h.key_id = key_id(key);
  h.mac = head_mac(key, h);
}

void advance_head(ChainHead& h, std::int64_t seq, std::string hash) {
  h.last_seq = seq;
  h.last_hash = std::move(hash);
}

void renew_head_mac(ChainHead& h, std::string_view key) {
  if (h.sealed()) h.mac = head_mac(key, h);
}

Status check_head(const ChainHead& h, std::string_view key) {
  if (!h.sealed()) {
    return permission_denied(
        "the log is not sealed with a key, although one was given: no `tollgate serve` or "
        "`tollgate migrate` has opened it with this key yet, or its seal was removed");
  }
  std::string id = key_id(key);
  if (!same_mac(h.key_id, id)) {
    return permission_denied("the log is sealed with another audit key (key id " + h.key_id +
                             "; this key's id is " + id + ")");
  }
  if (!same_mac(h.mac, head_mac(key, h)) || h.sealed_from > h.last_seq + 1) {
    return permission_denied(
        "the audit head (table chain_head) does not verify under the key: it was changed "
        "outside Tollgate");
  }
  return {};
}

Status may_append(const ChainHead* head, std::string_view key) {
  if (head == nullptr) return internal_error("the audit head (table chain_head) is missing");
  if (!head->sealed()) return {};
  if (key.empty()) {
    return permission_denied(
        "the audit log is sealed with a key and this store was opened without it");
  }
  Status s = check_head(*head, key);
  if (!s.ok()) return permission_denied(s.message() + "; run `tollgate audit verify`");
  return {};
}

Status unsealed_refusal(const ChainHead& head) {
  return permission_denied(
      "the audit log is not sealed (its head names event " + std::to_string(head.last_seq) +
      " and carries no MAC): a log is sealed when its head is created, so its seal was removed "
      "or it was migrated without the audit key; run `tollgate audit verify`, and only if you "
      "know why, `tollgate audit seal` to seal it as it now is");
}

ChainChecker::ChainChecker(const ChainHead* head, std::string key) : key_(std::move(key)) {
  if (head != nullptr) {
    head_ = *head;
    report_.sealed_from = head->sealed_from;
    report_.sealed_at = from_ms(head->sealed_at_ms);
    report_.key_id = head->key_id;
  }
  if (key_.empty()) return;
  if (head == nullptr) {
    head_problem_ = "the audit head (table chain_head) is missing";
  } else if (Status s = check_head(*head, key_); !s.ok()) {
    head_problem_ = s.message();
    // Under another key every keyed event would look forged: say only that.
    if (head->sealed() && head->key_id != key_id(key_)) report_.problem = head_problem_;
  } else {
    report_.authenticated = true;
  }
}

void ChainChecker::broken(std::int64_t seq, std::string problem) {
  report_.broken_seq = seq;
  report_.problem = std::move(problem);
  report_.authenticated = false;
}

bool ChainChecker::next(std::int64_t seq, TaskNumber task, const std::string& type,
                        const std::string& actor, std::int64_t at_ms, const std::string& data_json,
                        const std::string& prev_hash, const std::string& hash) {
  if (!report_.problem.empty()) return false;
  ++report_.events;
  std::string what =
      "event " + std::to_string(seq) + " (task #" + std::to_string(task) + ", " + type + ")";
  bool keyed = report_.sealed_from > 0 && seq >= report_.sealed_from;
  std::string problem;
  if (seq != expected_seq_) {
    problem = "event " + std::to_string(expected_seq_) + " is missing";
  } else if (prev_hash != prev_) {
    problem = what + " does not link to the event before it";
  } else if (keyed && key_.empty()) {
    // Without the key a keyed event's MAC cannot be recomputed: links only.
  } else if (!same_mac(event_hash(prev_, seq, task, type, actor, at_ms, data_json,
                                  keyed ? std::string_view(key_) : std::string_view()),
                       hash)) {
    problem = what + ": its content does not match its hash";
  }
  if (!problem.empty()) {
    broken(expected_seq_, std::move(problem));
    return false;
  }
  prev_ = hash;
  ++expected_seq_;
  return true;
}

const ChainReport& ChainChecker::finish() {
  report_.head_hash = prev_;
  if (!report_.problem.empty()) return report_;
  // An event named broken says more than a head that does not verify: look
  // at the events first (an unverified head still tells where the log ended).
  if (head_) compare_end();
  if (report_.problem.empty()) report_.problem = head_problem_;
  return report_;
}

void ChainChecker::compare_end() {
  std::int64_t last = expected_seq_ - 1;
  std::string counts = " (the audit head counts " + std::to_string(head_->last_seq) + ")";
  if (last < head_->last_seq) {
    std::string missing = last + 1 == head_->last_seq
                              ? "event " + std::to_string(last + 1) + " is missing"
                              : "events " + std::to_string(last + 1) + " to " +
                                    std::to_string(head_->last_seq) + " are missing";
    broken(last + 1, last == 0 ? "the log is empty: " + missing + counts
                               : missing + " from the end" + counts);
  } else if (last > head_->last_seq) {
    broken(head_->last_seq + 1, "event " + std::to_string(head_->last_seq + 1) +
                                    " is past the end of the log" + counts +
                                    ": it was written outside Tollgate");
  } else if (prev_ != head_->last_hash) {
    broken(last, "event " + std::to_string(last) + " is not the last event the audit head names");
  }
}

std::vector<std::pair<PersonId, std::string>> task_people(const Task& t) {
  std::vector<std::pair<PersonId, std::string>> out;
  auto add = [&](const PersonId& p, const char* role) {
    if (p.empty()) return;
    std::pair<PersonId, std::string> row{p, role};
    if (std::find(out.begin(), out.end(), row) == out.end()) out.push_back(std::move(row));
  };
  add(t.requester, "requester");
  add(t.subject, "subject");
  for (const TaskStep& s : t.steps) {
    if (s.state == StepState::current) {
      for (const PersonId& p : s.assignees) add(p, "assignee");
    } else if (s.state == StepState::done || s.state == StepState::skipped) {
      for (const PersonId& p : s.assignees) add(p, "reviewer");
      add(s.decided_by, "reviewer");
    }
  }
  return out;
}

}  // namespace tollgate::codec
