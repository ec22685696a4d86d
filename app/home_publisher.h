// Keeps each user's App Home current: published when they open it (or pick a
// tab or page), and again, debounced, whenever their tasks or their access
// change (TaskService's commit hook names the subject of a decision, and the
// holder of a change of the ledger), for the users who have opened it since
// the process started.
//
// The home view is derived from the store, so nothing of it needs to be
// durable: a user who opens the tab after a restart gets it fresh.
// Thread-safe; runs its own thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "workflow/directory.h"

namespace tollgate {

class Engine;
class Store;
namespace slack {
class WebClient;
struct HomeTasks;
}  // namespace slack

// What `person`'s inbox shows, read from the store: the open tasks assigned to
// them, the newest 40 closed ones they took part in, and their rows of the
// access ledger. One read for every inbox: the App Home and the task page's
// "All my tasks" (web/).
StatusOr<slack::HomeTasks> read_home_tasks(Store& store, const PersonId& person);

class HomePublisher {
 public:
  HomePublisher(Store& store, slack::WebClient& slack,
                std::function<std::shared_ptr<const Engine>()> engine);
  ~HomePublisher();

  // The user opened the tab, or chose a tab ("" keeps theirs) and a page.
  void show(const std::string& slack_user_id, const PersonId& person, const std::string& tab,
            int page);
  // These people's tasks or access changed: republish for those who are looking.
  void changed(const std::vector<PersonId>& people);
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace tollgate
