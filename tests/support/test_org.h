// A small organisation for engine, store and service tests, and helpers to
// open and decide tasks against it with a manual clock.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "workflow/config.h"
#include "workflow/engine.h"

namespace tollgate::testing {

// Thursday 2026-11-26 10:00 UTC: inside business hours.
inline Time test_start() {
  return Time(Duration(1795687200000LL));
}

inline const char* kTestOrg = R"json({
  "organization": "Test",
  "people": [
    {"id": "boss", "name": "Bea Boss", "email": "boss@t.test", "slack_user_id": "UBOSS"},
    {"id": "dana", "name": "Dana Reyes", "email": "dana@t.test", "slack_user_id": "UDANA", "manager": "boss"},
    {"id": "ana", "name": "Ana Silva", "email": "ana@t.test", "slack_user_id": "UANA", "manager": "dana", "started": "2026-11-20"},
    {"id": "bo", "name": "Bo Chen", "email": "bo@t.test", "manager": "dana"},
    {"id": "cy", "name": "Cy Park", "manager": "dana"},
    {"id": "olga", "name": "Olga Ivanova", "slack_user_id": "UOLGA", "manager": "boss"},
    {"id": "oscar", "name": "Oscar Ortiz", "manager": "boss"},
    {"id": "pat", "name": "Pat Kim", "slack_user_id": "UPAT", "manager": "boss"},
    {"id": "sam", "name": "Sam Okafor", "slack_user_id": "USAM", "manager": "boss"},
    {"id": "lee", "name": "Lee Wong", "manager": "sam"},
    {"id": "nora", "name": "Nora Blake", "manager": "sam"}
  ],
  "groups": [{"id": "security", "members": ["sam", "lee"]}],
  "admins": ["sam"],
  "apps": [
    {"id": "github", "name": "GitHub", "owners": ["olga", "oscar"],
     "provisioning": {"mode": "manual", "provisioners": ["pat"], "instructions": "Add them in Settings → People."},
     "deprovisioning": {"mode": "manual", "deprovisioners": ["pat"]},
     "resources": [
       {"id": "admin", "name": "Org admin", "owners": ["olga"], "sensitive": true,
        "request_policy": "three-step", "emergency_policy": "on-call",
        "revocation_policy": "owner-confirms", "max_duration": "7d"},
       {"id": "member", "name": "Member", "request_policy": "two-step", "revocation_policy": "owner-confirms"}
     ]},
    {"id": "aws", "name": "AWS", "owners": ["olga"],
     "resources": [
       {"id": "staging", "name": "Staging", "request_policy": "manager-only",
        "revocation_policy": "manager-confirms"}
     ]}
  ],
  "grants": [
    {"person": "bo", "app": "github", "resource": "admin", "since": "2024-01-10", "last_used": "2026-08-24"},
    {"person": "cy", "app": "github", "resource": "member"}
  ],
  "policies": [
    {"id": "manager-only", "name": "Manager approves", "kind": "request",
     "steps": [{"reviewers": {"type": "manager"}, "fallback": ["sam"]}]},
    {"id": "two-step", "name": "Manager then app owner", "kind": "request",
     "steps": [
       {"reviewers": {"type": "manager"}, "fallback": ["sam"]},
       {"reviewers": {"type": "app_owners"}, "require_reason": ["deny"], "allow_reassign": true,
        "reassign_to": ["olga", "oscar", "nora"]}
     ]},
    {"id": "three-step", "name": "Manager, owner, security", "kind": "request",
     "steps": [
       {"reviewers": {"type": "manager"}, "fallback": ["sam"]},
       {"reviewers": {"type": "resource_owners"}, "require_reason": ["deny"], "allow_reassign": true},
       {"name": "Security review", "reviewers": {"type": "group", "group": "security"}}
     ]},
    {"id": "on-call", "name": "Emergency", "kind": "request",
     "steps": [{"reviewers": {"type": "users", "users": ["lee"]}}]},
    {"id": "owner-confirms", "name": "Owner confirms removal", "kind": "revocation",
     "steps": [{"reviewers": {"type": "resource_owners"}, "fallback": ["sam"]}]},
    {"id": "manager-confirms", "name": "Manager confirms", "kind": "revocation",
     "steps": [{"reviewers": {"type": "manager"}}]}
  ]
})json";

inline std::shared_ptr<const Directory> load_org(const std::string& text = kTestOrg) {
  LoadedConfig cfg = load_config_text(text);
  for (const ConfigIssue& i : cfg.issues) {
    if (i.severity == ConfigIssue::Severity::error) ADD_FAILURE() << format_issue(i);
  }
  return cfg.directory;
}

// `text` with the one occurrence of `from` replaced by `to`.
inline std::string replaced(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  if (at == std::string::npos) {
    ADD_FAILURE() << "not in the text: " << from;
    return text;
  }
  EXPECT_EQ(text.find(from, at + 1), std::string::npos) << "more than once: " << from;
  return text.replace(at, from.size(), to);
}

// What the ledger says right after `dir`'s configuration seeded it, for
// engine tests without a store: the config's grants of app/resource (the
// holders) and `subject`'s own (held). TaskService reads these from the store.
inline AccessFacts config_facts(const Directory& dir, const PersonId& subject,
                                const std::string& app, const std::string& resource) {
  AccessFacts f;
  for (const Grant& g : dir.grants) {
    if (g.app != app || g.resource != resource) continue;
    Holding h{g.person, g.app, g.resource, g.since.value_or(Time{}), std::nullopt, 0,
              GrantSource::configuration, g.last_used};
    if (g.person == subject) f.held = h;
    f.holders.push_back(std::move(h));
  }
  return f;
}

// An engine over the test organisation with a manual clock.
struct World {
  World() = default;
  // Over the organisation `org` instead.
  explicit World(const std::string& org) : dir(load_org(org)) {}

  ManualClock clock{test_start()};
  std::shared_ptr<const Directory> dir = load_org();
  Engine engine{dir, clock};
  TaskNumber next = 1;

  // Without facts given, the ledger is the configuration's grants (config_facts).
  Task request(RequestInput in) {
    if (in.facts.holders.empty() && !in.facts.held)
      in.facts = config_facts(*dir, in.subject.empty() ? in.requester : in.subject, in.app,
                              in.resource);
    auto d = engine.open_request(in, next++);
    EXPECT_TRUE(d.ok()) << d.status().to_string();
    return d.ok() ? d->task : Task{};
  }
  Task revoke(RevocationInput in) {
    if (in.facts.holders.empty() && !in.facts.held)
      in.facts = config_facts(*dir, in.subject, in.app, in.resource);
    auto d = engine.propose_revocation(in, next++);
    EXPECT_TRUE(d.ok()) << d.status().to_string();
    return d.ok() ? d->task : Task{};
  }
  StatusOr<Decision> act(const Task& t, Action a, const PersonId& actor, std::string comment = {},
                         PersonId to = {}) {
    return engine.act(t, Command{a, actor, std::move(comment), std::move(to), {}});
  }
  // Acts and expects success; returns the new task.
  Task must(const Task& t, Action a, const PersonId& actor, std::string comment = {},
            PersonId to = {}) {
    auto d = act(t, a, actor, std::move(comment), std::move(to));
    EXPECT_TRUE(d.ok()) << d.status().to_string();
    return d.ok() ? d->task : t;
  }
};

// Who the effects of `kind` in `d` are for, in order.
inline std::vector<PersonId> recipients(const Decision& d, EffectKind kind) {
  std::vector<PersonId> out;
  for (const Effect& e : d.effects) {
    if (e.kind == kind) out.push_back(e.recipient);
  }
  return out;
}

inline RequestInput github_admin_for(const PersonId& who, std::string why = "rotate deploy keys") {
  RequestInput in;
  in.requester = who;
  in.app = "github";
  in.resource = "admin";
  in.justification = std::move(why);
  return in;
}

}  // namespace tollgate::testing
