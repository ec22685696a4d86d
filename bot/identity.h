// Who a Slack user is in the directory, and the other way round.
//
// Answers come from memory (the directory's slack_user_id, then what the
// identity cache in the store has learnt), so that no Slack Web API call is
// made while Slack waits for an acknowledgement. What is not known yet is
// learnt in the background: users.info gives a Slack user's email, matched to
// a person's; users.lookupByEmail gives the Slack id of a person who has an
// email but no slack_user_id. Both are cached in the store.
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

  std::optional<PersonId> person_for(const std::string& slack_user_id);
  std::optional<std::string> slack_id_for(const PersonId& person);

  // Asks Slack who `slack_user_id` is (users.info), in the background.
  void learn_user(const std::string& slack_user_id);
  // Looks up, in the background, the Slack ids of people who have an email
  // but no slack_user_id (users.lookupByEmail).
  void learn_people();

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

  std::mutex mu_;
  std::shared_ptr<const Directory> directory_;
  std::map<std::string, PersonId> person_by_slack_;  // learnt, not in the directory
  std::map<PersonId, std::string> slack_by_person_;
  std::set<std::string> asked_;  // Slack users asked about, to ask once
  std::set<std::string> answered_;
  std::map<PersonId, Zone> zones_;
  Store& store_;
  slack::WebClient* client_;
  const Clock& clock_;
};

}  // namespace tollgate
