// The directory: people, groups, apps, resources, grants and policies, as the
// configuration file describes them (docs/operating.md, "Configuration"). Immutable once built; the
// engine shares it read-only between threads through shared_ptr<const Directory>.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"

namespace tollgate {

using PersonId = std::string;

// The actor of what Tollgate does by itself: reminders, escalations, expiries.
// Not a person of the directory; no configuration may use this id.
inline constexpr std::string_view kSystemActor = "tollgate";

struct Person {
  PersonId id;
  std::string name;
  std::string email;
  std::string slack_user_id;
  PersonId manager;  // empty when none
  std::string department;
  std::string title;
  std::optional<Time> started;
  // Where this person is told of assignments and outcomes ("notify": ["slack",
  // "email"]). Slack by default.
  bool notify_slack = true;
  bool notify_email = false;
};

struct Group {
  std::string id;
  std::vector<PersonId> members;
};

enum class ReviewerType { manager, app_owners, resource_owners, users, group };

struct ReviewerSelector {
  ReviewerType type = ReviewerType::manager;
  std::vector<PersonId> users;  // type users
  std::string group;            // type group
};

// The actions a person can take on a task. `cancel` is the requester's (or an
// admin's) withdrawal of an open task; the comment actions also come from
// Slack thread replies.
enum class Action {
  approve,
  deny,
  confirm,
  provisioned,
  wont_provision,
  deprovisioned,
  wont_deprovision,
  reassign,
  comment,
  cancel,
  edit_comment,    // a comment's author changed it (a Slack thread reply edited)
  delete_comment,  // a comment's author removed it
  // Tollgate's own, taken by kSystemActor only (the scheduler), never by a person:
  remind,    // nudge an assignee in the task message's thread
  escalate,  // reassign a stale step to the escalation target
  expire,    // cancel a task whose step stayed open too long
  // What a connector's system answered (the outbox worker, or the webhook
  // receiver's signed confirmation), taken as kSystemActor:
  connector_done,      // the change is made: the step is done, the task closes
  connector_accepted,  // a webhook answered 202: its confirmation is awaited
  connector_failed,    // for good: the step goes to the provisioners, with Retry
  // A person's: the step's provisioners try the connector again after it failed.
  retry,
};
// Whether only Tollgate itself takes the action (the scheduler, a connector).
bool is_system_action(Action a);

// Who a stale step goes to on escalation.
enum class EscalateTo { manager, fallback, people };

// Service levels of a review step ("sla" in the configuration). Durations run
// from the moment the step opened (reminders: from the last reminder, or from
// the moment the person was assigned).
struct Sla {
  std::optional<Duration> remind_after;
  std::optional<Duration> escalate_after;
  std::optional<Duration> expire_after;
  EscalateTo escalate_to = EscalateTo::manager;
  std::vector<PersonId> escalate_people;  // EscalateTo::people: people or groups
  // Reminders are held back outside 08:00-20:00 in the assignee's time zone,
  // and on Saturdays and Sundays unless this is set.
  bool remind_on_weekends = false;

  bool any() const { return remind_after || escalate_after || expire_after; }
};

struct PolicyStep {
  std::string name;  // optional label, e.g. "Security review"
  ReviewerSelector reviewers;
  std::vector<PersonId> fallback;
  std::set<Action> require_reason;  // actions that need a comment at this step
  bool allow_reassign = false;
  // When non-empty, a reassignment may only go to these people (groups expanded).
  std::vector<PersonId> reassign_to;
  bool allow_self_review = false;
  // Four eyes: a person who decided an earlier review step of a task is never
  // an assignee of this one, unless this is set ("allow_same_reviewer": true).
  bool allow_same_reviewer = false;
  // Whether a reviewer's delegate (out of office) takes the step in their place.
  bool allow_delegation = true;
  Sla sla;
};

enum class PolicyKind { request, revocation };

struct Policy {
  std::string id;
  std::string name;
  PolicyKind kind = PolicyKind::request;
  std::vector<PolicyStep> steps;
};

// How access is added or removed:
//   automatic  nothing is changed anywhere: the app reads who holds what from
//              Tollgate itself (the ledger, the admin API);
//   manual     a task for the app's provisioners (or deprovisioners);
//   webhook    a signed event POSTed to the app (Standard Webhooks);
//   scim       a SCIM 2.0 group membership added or removed.
// A connector (webhook, scim) that fails for good hands the step to the
// provisioners as a manual task with a Retry button.
enum class ProvisioningMode { automatic, manual, webhook, scim };
std::string_view provisioning_mode_name(ProvisioningMode m);  // "scim"
std::optional<ProvisioningMode> parse_provisioning_mode(std::string_view name);
// Whether the mode makes the change through a connector (webhook, scim).
inline bool is_connector(ProvisioningMode m) {
  return m == ProvisioningMode::webhook || m == ProvisioningMode::scim;
}
// Why `url` may not be a connector's, or empty when it may: https:// to any
// host, http:// only to a loopback address (127.0.0.0/8, [::1], localhost);
// no credentials in it.
std::string connector_url_problem(std::string_view url);
// Whether `name` can name an environment variable: [A-Za-z_][A-Za-z0-9_]*.
bool is_env_name(std::string_view name);

// Where and how a connector reaches the app (docs/connectors.md). Secrets are
// never in the file: `secret_env` and `token_env` name environment variables,
// read when a call is made.
struct Connector {
  std::string url;         // https://…, or http:// to a loopback address
  std::string secret_env;  // webhook: the signing secret ("whsec_<base64>")
  std::string token_env;   // scim: the bearer token
  bool create_users = false;  // scim: create a user the server does not know
  // Shown to people: "SCIM (Okta)". Default: the app's name.
  std::string name;
  // A call that fails for a reason that may pass (network, 5xx, timeout) is
  // tried again after `backoff`, doubling, up to `max_attempts` calls; then
  // the step goes to people. 429s wait their Retry-After and use no attempt.
  int max_attempts = 5;
  Duration backoff = std::chrono::seconds(30);
  Duration timeout = std::chrono::seconds(10);
  // webhook: how long a receiver that answered 202 has to confirm; then the
  // step goes to people (with Retry) as if it had failed.
  Duration confirm_within = std::chrono::hours(24);
};

// How access is added (provisioning) or removed (deprovisioning) for an app.
struct Fulfilment {
  ProvisioningMode mode = ProvisioningMode::automatic;
  // Provisioners / deprovisioners: who does the work in manual mode, and who
  // takes it over when a connector fails for good (required for both).
  std::vector<PersonId> assignees;
  std::string instructions;
  bool allow_reassign = true;
  Connector connector;  // webhook and scim modes
};

struct Resource {
  std::string id;
  std::string name;
  std::vector<PersonId> owners;
  bool sensitive = false;
  std::string request_policy;
  std::string emergency_policy;  // empty: no emergency requests
  std::string revocation_policy;
  std::optional<Duration> max_duration;
  // How long before a time-bound grant ends its holder is told ("notify_before").
  Duration notify_before = std::chrono::hours(24);
  // The SCIM group (its displayName) whose members hold this resource, for
  // an app provisioned or deprovisioned by SCIM.
  std::string scim_group;
};

struct App {
  std::string id;
  std::string name;
  std::vector<PersonId> owners;
  Fulfilment provisioning;
  Fulfilment deprovisioning;
  std::vector<Resource> resources;

  const Fulfilment& fulfilment(bool grant) const { return grant ? provisioning : deprovisioning; }
};

// What people are shown of the system a connector changes: "SCIM (Okta)",
// "webhook (Deploy bot)"; the connector's name, else the app's.
std::string connector_label(const App& app, const Fulfilment& f);

struct Grant {
  PersonId person;
  std::string app;
  std::string resource;
  std::optional<Time> since;
  std::optional<Time> last_used;
};

class Directory {
 public:
  std::string organization;
  // Whether a Slack guest (a single- or multi-channel guest) whose email is a
  // person's may act as that person ("allow_guests", default false). Guests
  // are often outsiders whose profile email nobody checked.
  bool allow_guests = false;
  std::vector<Person> people;
  std::vector<Group> groups;
  std::vector<PersonId> admins;
  std::vector<App> apps;
  std::vector<Grant> grants;
  std::vector<Policy> policies;

  // Builds the lookup indexes. Call once after filling the vectors; the
  // vectors must not change afterwards.
  void index();

  const Person* person(const PersonId& id) const;
  const Person* person_by_slack_id(const std::string& slack_user_id) const;
  const Person* person_by_email(const std::string& email) const;
  const Group* group(const std::string& id) const;
  const App* app(const std::string& id) const;
  const Resource* resource(const std::string& app_id, const std::string& resource_id) const;
  const Policy* policy(const std::string& id) const;
  bool is_admin(const PersonId& id) const;
  // Whether `manager` is `person`'s manager, directly or up the chain (a
  // cycle in the configuration ends the walk).
  bool manages(const PersonId& manager, const PersonId& person) const;
  // People whose manager is `manager`.
  std::vector<const Person*> reports_of(const PersonId& manager) const;
  // "Ana Silva", or the id itself when the person is unknown.
  std::string display_name(const PersonId& id) const;

 private:
  std::map<std::string, std::size_t> people_by_id_, people_by_slack_, people_by_email_;
  std::map<std::string, std::size_t> groups_by_id_, apps_by_id_, policies_by_id_;
  std::set<PersonId> admin_set_;
};

std::string_view action_name(Action a);                     // "wont_provision"
std::optional<Action> parse_action(std::string_view name);  // accepts "wont-provision" too
std::string_view reviewer_type_name(ReviewerType t);              // "app_owners"
std::optional<ReviewerType> parse_reviewer_type(std::string_view name);

}  // namespace tollgate
