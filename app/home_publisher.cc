#include "app/home_publisher.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "base/json.h"
#include "slack/home_view.h"
#include "slack/web_client.h"
#include "storage/store.h"
#include "workflow/engine.h"

namespace tollgate {
namespace {

using Steady = std::chrono::steady_clock;
constexpr auto kDebounce = std::chrono::milliseconds(300);

struct Viewer {
  std::string slack_user_id;
  std::string tab = "requests";
  int page = 0;
};

}  // namespace

StatusOr<slack::HomeTasks> read_home_tasks(Store& store, const PersonId& person) {
  TaskFilter open;
  open.assignee = person;
  open.open = true;
  open.limit = 1000;
  auto o = store.tasks(open);
  if (!o.ok()) return o.status();
  TaskFilter done;  // the newest 40, newest first
  done.involving = person;
  done.open = false;
  done.limit = 40;
  done.newest_first = true;
  auto c = store.tasks(done);
  if (!c.ok()) return c.status();
  // The My access tab's rows (and its count, shown on every tab).
  auto held = store.holdings({.person = person});
  if (!held.ok()) return held.status();
  slack::HomeTasks tasks;
  tasks.open = std::move(*o);
  tasks.completed = std::move(*c);
  tasks.access = std::move(*held);
  return tasks;
}

struct HomePublisher::Impl : std::enable_shared_from_this<HomePublisher::Impl> {
  Store& store;
  slack::WebClient& slack;
  std::function<std::shared_ptr<const Engine>()> engine;
  std::mutex mu;
  std::condition_variable cv;
  std::map<PersonId, Viewer> viewers;
  std::map<PersonId, Steady::time_point> due;
  bool stopping = false;
  std::thread thread;

  Impl(Store& s, slack::WebClient& c, std::function<std::shared_ptr<const Engine>()> e)
      : store(s), slack(c), engine(std::move(e)) {}

  void publish(const PersonId& person, const Viewer& v) {
    auto tasks = read_home_tasks(store, person);
    if (!tasks.ok()) {
      spdlog::warn("home: cannot read {}'s tasks or access: {}", person,
                   tasks.status().to_string());
      return;
    }
    slack::kit::HomeView view = slack::home_view(*engine(), *tasks, person, v.tab, v.page);
    slack.call(
        "views.publish", slack::kit::views_publish(v.slack_user_id, view),
        [person](slack::ApiResult r) {
          if (!r.ok())
            spdlog::warn("home: views.publish for {} failed: {}", person, r.status.to_string());
        });
  }

  void run() {
    std::unique_lock lock(mu);
    while (!stopping) {
      auto now = Steady::now();
      auto next = now + std::chrono::seconds(60);
      std::vector<std::pair<PersonId, Viewer>> ready;
      for (auto it = due.begin(); it != due.end();) {
        if (it->second <= now) {
          if (auto v = viewers.find(it->first); v != viewers.end())
            ready.emplace_back(it->first, v->second);
          it = due.erase(it);
        } else {
          next = std::min(next, it->second);
          ++it;
        }
      }
      if (!ready.empty()) {
        lock.unlock();
        for (const auto& [person, v] : ready) publish(person, v);
        lock.lock();
        continue;
      }
      cv.wait_until(lock, next);
    }
  }
};

HomePublisher::HomePublisher(Store& store, slack::WebClient& slack,
                             std::function<std::shared_ptr<const Engine>()> engine)
    : impl_(std::make_shared<Impl>(store, slack, std::move(engine))) {
  impl_->thread = std::thread([impl = impl_] { impl->run(); });
}

HomePublisher::~HomePublisher() {
  stop();
}

void HomePublisher::stop() {
  if (!impl_->thread.joinable()) return;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  impl_->thread.join();
}

void HomePublisher::show(const std::string& slack_user_id, const PersonId& person,
                         const std::string& tab, int page) {
  {
    std::lock_guard lock(impl_->mu);
    Viewer& v = impl_->viewers[person];
    v.slack_user_id = slack_user_id;
    if (!tab.empty()) v.tab = tab;
    v.page = page;
    impl_->due[person] = Steady::now();  // at once: the user is looking
  }
  impl_->cv.notify_all();
}

void HomePublisher::changed(const std::vector<PersonId>& people) {
  bool any = false;
  {
    std::lock_guard lock(impl_->mu);
    auto at = Steady::now() + kDebounce;
    for (const PersonId& p : people) {
      if (impl_->viewers.count(p) == 0) continue;
      auto [it, inserted] = impl_->due.emplace(p, at);
      (void)it;
      any = any || inserted;
    }
  }
  if (any) impl_->cv.notify_all();
}

}  // namespace tollgate
