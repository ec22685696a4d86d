#include "bot/service.h"

namespace tollgate {

TaskService::TaskService(Store& store, std::shared_ptr<const Engine> engine)
    : store_(store), engine_(std::move(engine)) {}

void TaskService::set_engine(std::shared_ptr<const Engine> engine) {
  std::lock_guard lock(mu_);
  engine_ = std::move(engine);
}

void TaskService::set_on_commit(std::function<void(const Decision&)> hook) {
  std::lock_guard lock(mu_);
  on_commit_ = std::move(hook);
}

TaskService::Done TaskService::with_hook(Done done) {
  std::function<void(const Decision&)> hook;
  {
    std::lock_guard lock(mu_);
    hook = on_commit_;
  }
  if (!hook) return done;
  return [hook = std::move(hook), done = std::move(done)](StatusOr<Decision> d) {
    if (d.ok()) hook(*d);  // before `done` takes the decision
    done(std::move(d));
  };
}

std::shared_ptr<const Engine> TaskService::engine() const {
  std::lock_guard lock(mu_);
  return engine_;
}

void TaskService::request(RequestInput in, Done done, std::string key) {
  store_.create([engine = engine(), in = std::move(in)](
                    const Task*, TaskNumber n) { return engine->open_request(in, n); },
                with_hook(std::move(done)), std::move(key));
}

void TaskService::revoke(RevocationInput in, Done done, std::string key) {
  store_.create([engine = engine(), in = std::move(in)](
                    const Task*, TaskNumber n) { return engine->propose_revocation(in, n); },
                with_hook(std::move(done)), std::move(key));
}

void TaskService::act(TaskNumber task, Command cmd, Done done, std::string key) {
  store_.update(
      task,
      [engine = engine(), cmd = std::move(cmd)](const Task* current, TaskNumber) {
        return engine->act(*current, cmd);
      },
      with_hook(std::move(done)), std::move(key));
}

void TaskService::act_many(std::vector<TaskNumber> tasks, Command cmd,
                           std::function<void(std::vector<BulkResult>)> done) {
  struct Gather {
    std::mutex mu;
    std::vector<BulkResult> results;
    std::size_t left;
    std::function<void(std::vector<BulkResult>)> done;
  };
  if (tasks.empty()) {
    done({});
    return;
  }
  auto g = std::make_shared<Gather>();
  g->left = tasks.size();
  g->done = std::move(done);
  for (TaskNumber n : tasks) {
    g->results.push_back({n, Status(Code::internal, "not decided")});
  }
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    act(tasks[i], cmd, [g, i](StatusOr<Decision> r) {
      bool last = false;
      {
        std::lock_guard lock(g->mu);
        g->results[i].outcome = std::move(r);
        last = --g->left == 0;
      }
      if (last) g->done(std::move(g->results));
    });
  }
}

}  // namespace tollgate
