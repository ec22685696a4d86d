// Who a Slack user is in the directory, and the other way round.
//
// Answers come from memory (the directory's slack_user_id, then what the
// identity cache in the store has learnt), so that no Slack Web API call is
// made while Slack waits for an acknowledgement. What is not known yet is
// learnt in the background, and only so (issue 15, strict identity):
//   * the configured slack_user_id always maps to its person;
//   * users.lookupByEmail's answer for a person's email, and users.info's
//     email matched to a person's, map only a user of our workspace (our team,
//     or our enterprise on Enterprise Grid) who is not deactivated and not a
//     guest (is_restricted, is_ultra_restricted), unless the directory says
//     "allow_guests": true. A profile email is whatever its owner typed in
//     another workspace, so it says nothing about who they are there;
//   * a learnt id never maps to a person who has a configured one, nor to a
//     person who already has another Slack id (configured or learnt), and a
//     Slack id learnt for one person is not learnt for another.
// Which workspace is ours comes from auth.test (set_workspace); until it is
// known nothing is learnt from users.info or users.lookupByEmail, and
// team_of() answers `unknown`.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "storage/store.h"
#include "workflow/directory.h"

namespace tollgate {
namespace slack {
class WebClient;
}

class Identity {
 public:
  // `client` may be null (then nothing is learnt from Slack).
  Identity(std::shared_ptr<const Directory> directory, Store& store, slack::WebClient* client,
           const Clock& clock);

  void set_directory(std::shared_ptr<const Directory> directory);

  // Our workspace: the team (T...) and, on Enterprise Grid, the enterprise
  // (E...) the bot token belongs to, as auth.test says (or SLACK_TEAM_ID
  // until it does).
  void set_workspace(std::string team_id, std::string enterprise_id);
  enum class Team { ours, foreign, unknown };
  // Whether a request from `team_id` (and `enterprise_id`, if any) comes from
  // our workspace: same team, or same enterprise when we have one. `unknown`
  // until set_workspace().
  Team team_of(const std::string& team_id, const std::string& enterprise_id) const;

  std::optional<PersonId> person_for(const std::string& slack_user_id);
  std::optional<std::string> slack_id_for(const PersonId& person);

  // Asks Slack who `slack_user_id` is (users.info), in the background.
  void learn_user(const std::string& slack_user_id);
  // Looks up, in the background, the Slack ids of people who have an email
  // but no slack_user_id (users.lookupByEmail). A person is asked about at
  // most once per kLookupAgainAfter while a lookup is under way or its answer
  // was refused (guest, deactivated, another workspace, no such user, a
  // conflict), and once per kLookupRetryAfter after a failure to get an
  // answer: the outbox calls this each time a DM cannot be planned, and
  // users.lookupByEmail is rate limited (Tier 3). A new directory forgets it.
  void learn_people();
  static constexpr std::chrono::hours kLookupAgainAfter{1};
  static constexpr std::chrono::minutes kLookupRetryAfter{1};

  // A person's time zone as Slack knows it (users.info `tz`, `tz_offset`).
  struct Zone {
    std::string name;  // "Europe/Paris"; "UTC" when assumed
    std::chrono::seconds offset{0};
  };
  // Known: their zone. Not known yet: asks Slack in the background and sets
  // `*pending`; once asked without an answer (no Slack account, no client),
  // UTC is assumed.
  std::optional<Zone> zone_of(const PersonId& person, bool* pending);

 private:
  void remember(IdentityEntry entry);
  void learned_user(const std::string& slack_user_id, const std::string& users_info_body);
  void learned_email(const PersonId& person, const std::string& email,
                     const std::string& lookup_body);
  // Empty when `slack_user_id` may be learnt as `person`'s (neither has
  // another, configured or learnt); otherwise why not. With `ask_store`, what
  // the store's cache holds for the person counts too (a read: not under mu_).
  std::string conflict(const Directory& dir, const std::string& slack_user_id,
                       const PersonId& person, bool ask_store);

  mutable std::mutex mu_;
  std::string team_id_;        // ours; empty while not known
  std::string enterprise_id_;  // ours on Enterprise Grid; else empty
  std::shared_ptr<const Directory> directory_;
  std::map<std::string, PersonId> person_by_slack_;  // learnt, not in the directory
  std::map<PersonId, std::string> slack_by_person_;
  std::set<std::string> asked_;  // Slack users asked about, to ask once
  std::set<std::string> answered_;
  // Per person: no users.lookupByEmail before this time (learn_people()).
  std::map<PersonId, Time> lookup_after_;
  std::map<PersonId, Zone> zones_;
  Store& store_;
  slack::WebClient* client_;
  const Clock& clock_;
};

}  // namespace tollgate
