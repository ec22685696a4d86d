// What the handlers of Slack's requests share (internal to edge/): the parts
// they act through, the bot's own identity, and the answers and checks they
// have in common. The router owns one and hands it to the interaction, event
// and /tasks handlers (interactions.h, events.h, tasks_command.h), which have
// no state of their own.
#pragma once

#include <mutex>
#include <string>

#include "http/message.h"

namespace tollgate {

class HomePublisher;
class Identity;
class Metrics;
class Store;
class TaskService;
namespace slack {
class WebClient;
struct Interaction;
}  // namespace slack

struct SlackContext {
  // Every reference must outlive the context. `slack` may be null (nothing is
  // sent to Slack; refusals are only logged).
  SlackContext(TaskService& task_service, Store& task_store, Identity& people,
               slack::WebClient* client, Metrics& counters)
      : service(task_service),
        store(task_store),
        identity(people),
        slack(client),
        metrics(counters) {}

  TaskService& service;
  Store& store;
  Identity& identity;
  slack::WebClient* slack;
  Metrics& metrics;
  // Where App Home views are published (null: the home tab is not served).
  HomePublisher* home = nullptr;

  // The bot's own Slack identity (from auth.test), to ignore its own messages.
  void set_bot_identity(const std::string& bot_user_id, const std::string& bot_id);
  // Whether `user` (a user id) or `bot` (a bot id) is this bot.
  bool is_self(const std::string& user, const std::string& bot) const;

  // Answers (and returns true) a request that is not from our workspace: 403
  // from another team or enterprise; 503 while it is not known yet which is
  // ours (auth.test has not answered, SLACK_TEAM_ID unset): Slack retries an
  // event, and a click or command can be made again.
  bool foreign_team(const std::string& team_id, const std::string& enterprise_id,
                    http::Respond& respond);
  // Tells the clicker alone: via response_url, else an ephemeral message, else a DM.
  void tell(const slack::Interaction& in, const std::string& plain);

 private:
  mutable std::mutex bot_mu_;
  std::string bot_user_id_;
  std::string bot_id_;
};

// 503: the store did not take the change (Slack shows an error, or retries an event).
http::Response unavailable_response();

// What a person not (yet) known to the directory is told.
inline constexpr const char* kUnknownSlackUser =
    "Tollgate does not know your Slack account: ask an admin to add your Slack id or email to "
    "the directory.";

}  // namespace tollgate
