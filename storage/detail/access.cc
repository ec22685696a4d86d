#include "storage/detail/access.h"

#include <algorithm>
#include <tuple>

namespace tollgate::detail {
namespace {

constexpr const char* kColumns =
    "person, app, resource, since, expires_at, task, how, last_used, warned_at, ending_task, via";

StatusOr<Holding> holding_from_row(const Row& r) {
  Holding h;
  h.person = r.text(0);
  h.app = r.text(1);
  h.resource = r.text(2);
  h.since = from_ms(r.i64(3));
  if (!r.is_null(4)) h.expires_at = from_ms(r.i64(4));
  h.task = r.i64(5);
  auto how = parse_grant_source(r.text(6));
  if (!how) return internal_error("access row with an unknown source \"" + r.text(6) + "\"");
  h.how = *how;
  if (!r.is_null(7)) h.last_used = from_ms(r.i64(7));
  if (!r.is_null(8)) h.warned_at = from_ms(r.i64(8));
  h.ending_task = r.i64(9);
  h.via = r.text(10);
  return h;
}

std::optional<std::int64_t> opt_ms(const std::optional<Time>& t) {
  if (!t) return std::nullopt;
  return ms(*t);
}

std::string text_ms(const std::optional<Time>& t) {
  return t ? std::to_string(ms(*t)) : std::string();
}

// "Ana Silva's aws / staging" is for people; the log and errors name the key.
std::string key_text(const Holding& h) {
  return h.person + " on " + h.app + "/" + h.resource;
}

// The event of an applied change: its op, the row's key and fields.
Event event_of(const AccessChange& ch) {
  const Holding& h = ch.holding;
  Event e{ch.task, "access_" + std::string(access_op_name(ch.op)), ch.actor, ch.at, {}};
  e.data = {{"person", h.person},
            {"app", h.app},
            {"resource", h.resource},
            {"since", std::to_string(ms(h.since))},
            {"expires_at", text_ms(h.expires_at)},
            {"how", std::string(grant_source_name(h.how))},
            {"granted_by", std::to_string(h.task)},
            {"reason", ch.reason}};
  if (!h.via.empty()) e.data.emplace_back("via", h.via);
  if (!ch.answer.empty()) e.data.emplace_back("answer", ch.answer);
  if (ch.op == AccessChange::Op::ending)
    e.data.emplace_back("ending_task", std::to_string(ch.task));
  if (ch.op == AccessChange::Op::kept)
    e.data.emplace_back("without_end", ch.without_end ? "true" : "false");
  return e;
}

// One statement and its parameters.
struct Statement {
  std::string sql;
  std::vector<Value> params;
};

// `sql` (its parameters: `lead`, then the row's key) with the guard's
// condition on the row's end appended when the change is guarded.
Statement guarded(std::string sql, const AccessChange& ch, std::vector<Value> lead) {
  const Holding& h = ch.holding;
  lead.insert(lead.end(), {Value(h.person), Value(h.app), Value(h.resource)});
  if (ch.guarded) {
    sql += ch.expect_expires_at ? " AND expires_at = ?" : " AND expires_at IS NULL";
    if (ch.expect_expires_at) lead.emplace_back(ms(*ch.expect_expires_at));
  }
  return {std::move(sql), std::move(lead)};
}

// The statement that applies `ch` to the table `access` (a seed's or an
// unseed's row of seeded_grants is written before it); it changes a row
// unless there is nothing to do or the guard no longer holds.
Statement access_statement(const AccessChange& ch) {
  using Op = AccessChange::Op;
  const Holding& h = ch.holding;
  switch (ch.op) {
    case Op::grant:
      if (ch.guarded) {  // an extension: moves the end of access still held with the end it read
        return guarded(
            "UPDATE access SET expires_at = ?, task = ?, how = ?, warned_at = NULL "
            "WHERE person = ? AND app = ? AND resource = ? AND ending_task = 0",
            ch, {value(opt_ms(h.expires_at)), h.task, value(grant_source_name(h.how))});
      }
      [[fallthrough]];
    case Op::seed: {
      std::string sql = std::string("INSERT INTO access (") + kColumns +
                        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, 0, ?) ON CONFLICT (person, app, "
                        "resource) DO ";
      // A grant on a row held (a task opened before the ledger, a seed that
      // landed first) keeps the later end (none is latest) and its ending task.
      sql += ch.op == Op::seed
                 ? "NOTHING"
                 : "UPDATE SET expires_at = CASE WHEN access.expires_at IS NULL OR "
                   "excluded.expires_at IS NULL THEN NULL WHEN excluded.expires_at > "
                   "access.expires_at THEN excluded.expires_at ELSE access.expires_at END, "
                   "task = excluded.task, how = excluded.how, warned_at = NULL, via = CASE WHEN "
                   "excluded.how = 'extension' THEN access.via ELSE excluded.via END";
      return {std::move(sql),
              {value(h.person), value(h.app), value(h.resource), value(ms(h.since)),
               value(opt_ms(h.expires_at)), value(h.task), value(grant_source_name(h.how)),
               value(opt_ms(h.last_used)), value(h.via)}};
    }
    case Op::unseed:
      return {"DELETE FROM access WHERE person = ? AND app = ? AND resource = ? AND "
              "how = 'configuration'",
              {value(h.person), value(h.app), value(h.resource)}};
    case Op::remove:
      return guarded("DELETE FROM access WHERE person = ? AND app = ? AND resource = ?", ch, {});
    case Op::warned:
      return guarded(
          "UPDATE access SET warned_at = ? WHERE person = ? AND app = ? AND "
          "resource = ? AND warned_at IS NULL",
          ch, {ms(ch.at)});
    case Op::ending:
      return guarded(
          "UPDATE access SET ending_task = ? WHERE person = ? AND app = ? AND "
          "resource = ? AND ending_task = 0",
          ch, {ch.task});
    case Op::kept:
      return {"UPDATE access SET ending_task = 0, expires_at = CASE WHEN ? = 1 THEN NULL ELSE "
              "expires_at END WHERE person = ? AND app = ? AND resource = ? AND "
              "ending_task = ?",
              {value(ch.without_end ? 1 : 0), value(h.person), value(h.app), value(h.resource),
               value(ch.task)}};
  }
  return {};  // an unknown op: refused by apply_access
}

// What `ch` changing `changed` rows means: its event, none, or a refusal.
Status outcome(const AccessChange& ch, std::int64_t changed, const AccessApplied& then) {
  using Op = AccessChange::Op;
  if (changed > 0) return then(event_of(ch));
  // Nothing to do: a seed of a row held, an unseed or a plain removal of a
  // row missing. A guarded change, or a mark of a row gone, is refused.
  bool nothing_to_do = ch.op == Op::seed || ch.op == Op::unseed || ch.op == Op::kept ||
                       (ch.op == Op::remove && !ch.guarded);
  if (nothing_to_do) return then(std::nullopt);
  if (ch.op == Op::grant) {  // a guarded grant is an extension
    return Status{Code::conflict, "the access of " + key_text(ch.holding) +
                                      " changed meanwhile (ended, or being removed): this "
                                      "extension cannot apply; request the access anew"};
  }
  return Status{Code::conflict, "the access of " + key_text(ch.holding) + " changed meanwhile"};
}

}  // namespace

Status apply_access(Connection& c, const AccessChange& ch, bool deferred, AccessApplied then) {
  using Op = AccessChange::Op;
  const Holding& h = ch.holding;
  if (ch.op == Op::seed) {  // once per grant of the configuration, ever
    ASSIGN_OR_RETURN(std::int64_t first,
                     run(c,
                         "INSERT INTO seeded_grants (person, app, resource) VALUES (?, ?, ?) "
                         "ON CONFLICT (person, app, resource) DO NOTHING",
                         h.person, h.app, h.resource));
    if (first == 0) return then(std::nullopt);
  }
  if (ch.op == Op::unseed) {  // the row of access is what the event is about
    RETURN_IF_ERROR(run(c,
                        "DELETE FROM seeded_grants WHERE person = ? AND app = ? AND resource = ?",
                        h.person, h.app, h.resource));
  }
  Statement st = access_statement(ch);
  if (st.sql.empty()) return internal_error("unknown access change");
  if (!deferred) {
    ASSIGN_OR_RETURN(std::int64_t changed, c.exec(st.sql, st.params));
    return outcome(ch, changed, then);
  }
  return c.defer(st.sql, st.params, [ch, then = std::move(then)](std::int64_t changed) {
    return outcome(ch, changed, then);
  });
}

StatusOr<std::vector<AccessChange>> backfill_access(Connection& c, Time now) {
  std::vector<AccessChange> out;
  RETURN_IF_ERROR(query(
      c,
      "SELECT number, kind, state, subject, app, resource, updated_at FROM tasks WHERE state IN "
      "('granted', 'provisioned', 'revoked', 'deprovisioned') ORDER BY number",
      [&](const Row& r) {
        AccessChange ch;
        bool grant = r.text(2) == "granted" || r.text(2) == "provisioned";
        ch.op = grant ? AccessChange::Op::grant : AccessChange::Op::remove;
        ch.holding = {r.text(3), r.text(4), r.text(5), from_ms(r.i64(6)), std::nullopt, r.i64(0),
                      GrantSource::request};
        ch.actor = std::string(kSystemActor);
        ch.at = now;
        ch.task = r.i64(0);
        ch.reason = "backfill";
        out.push_back(std::move(ch));
        return Status{};
      }));
  return out;
}

StatusOr<std::vector<Holding>> read_holdings(Connection& c, const AccessFilter& f) {
  std::string sql = std::string("SELECT ") + kColumns + " FROM access WHERE 1 = 1";
  std::vector<Value> params;
  auto where = [&](const char* clause, Value v) {
    sql += clause;
    params.push_back(std::move(v));
  };
  if (!f.person.empty()) where(" AND person = ?", f.person);
  if (!f.app.empty()) where(" AND app = ?", f.app);
  if (!f.app.empty() && !f.resource.empty()) where(" AND resource = ?", f.resource);
  if (f.expiring_before) where(" AND expires_at < ?", ms(*f.expiring_before));
  if (!f.people.empty()) {
    sql += " AND person IN (";
    for (std::size_t i = 0; i < f.people.size() && i < 1000; ++i) {
      sql += i == 0 ? "?" : ", ?";
      params.emplace_back(f.people[i]);
    }
    sql += ")";
  }
  if (f.not_ending) sql += " AND ending_task = 0";
  if (f.not_warned) sql += " AND warned_at IS NULL";
  sql += f.soonest_first ? " ORDER BY expires_at, person, app, resource LIMIT ?"
                         : " ORDER BY person, app, resource LIMIT ?";
  params.push_back(std::int64_t{std::clamp(f.limit, 1, 100000)});
  std::vector<Holding> out;
  RETURN_IF_ERROR(c.query(sql, params, [&](const Row& r) -> Status {
    ASSIGN_OR_RETURN(Holding h, holding_from_row(r));
    out.push_back(std::move(h));
    return {};
  }));
  return out;
}

Status replay_access_event(const Event& e, std::vector<Holding>& ledger) {
  using Op = AccessChange::Op;
  if (e.type.rfind("access_", 0) != 0) return {};
  auto text = [&](const char* k) -> std::string {
    const std::string* v = e.get(k);
    return v == nullptr ? std::string() : *v;
  };
  auto number = [&](const char* k) -> std::int64_t {
    std::string v = text(k);
    return v.empty() ? 0 : std::stoll(v);
  };
  Holding h;
  h.person = text("person");
  h.app = text("app");
  h.resource = text("resource");
  auto key = [](const Holding& x) { return std::tie(x.person, x.app, x.resource); };
  auto at = std::lower_bound(ledger.begin(), ledger.end(), h,
                             [&](const Holding& a, const Holding& b) { return key(a) < key(b); });
  bool held = at != ledger.end() && at->same_access(h);
  std::string op = e.type.substr(7);
  try {
    if (op == access_op_name(Op::grant) || op == access_op_name(Op::seed)) {
      h.since = from_ms(number("since"));
      if (!text("expires_at").empty()) h.expires_at = from_ms(number("expires_at"));
      h.task = number("granted_by");
      auto how = parse_grant_source(text("how"));
      if (!how) return internal_error("event with an unknown grant source");
      h.how = *how;
      if (held) {
        // As run_change: an extension sets the end it computed; another
        // grant keeps the later end (none is latest). Either way `since`,
        // last use and the ending task stay.
        if (h.how != GrantSource::extension && (!at->expires_at || !h.expires_at)) {
          h.expires_at.reset();
        } else if (h.how != GrantSource::extension) {
          h.expires_at = std::max(*at->expires_at, *h.expires_at);
        }
        h.since = at->since;
        h.last_used = at->last_used;
        h.ending_task = at->ending_task;
        h.via = h.how == GrantSource::extension ? at->via : text("via");
        *at = std::move(h);
      } else {
        h.via = text("via");
        ledger.insert(at, std::move(h));
      }
    } else if (op == access_op_name(Op::remove) || op == access_op_name(Op::unseed)) {
      if (held) ledger.erase(at);
    } else if (op == access_op_name(Op::warned)) {
      if (held) at->warned_at = e.at;
    } else if (op == access_op_name(Op::ending)) {
      if (held) at->ending_task = number("ending_task");
    } else if (op == access_op_name(Op::kept)) {
      if (held) {
        at->ending_task = 0;
        if (text("without_end") == "true") at->expires_at.reset();
      }
    }
  } catch (const std::exception&) {
    return internal_error("access event with a malformed number");
  }
  return {};
}

}  // namespace tollgate::detail
