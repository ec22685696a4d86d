// Engine and store throughput: concurrent approvals on distinct tasks through
// the SQLite store, with group commit and, as the reference in the same run,
// with one commit per decision. Every decision is durable (WAL,
// synchronous=FULL) before its completion runs.
//
//   store_bench [--tasks N] [--inflight K]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <sys/resource.h>
#include <vector>

#include "storage/store.h"
#include "workflow/config.h"
#include "workflow/engine.h"

namespace tollgate {
namespace {

using Clock = std::chrono::steady_clock;

struct Result {
  double seconds = 0;
  std::vector<double> latencies_ms;
  StoreStats stats;
  int failures = 0;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

long peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

// Opens `tasks` requests, then approves each at step 1 with `inflight`
// commands outstanding at all times; measures only the approvals.
Result run(const std::string& dir, const Engine& engine, int max_batch, int tasks, int inflight) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  StoreOptions o;
  o.max_batch = 512;  // the set-up always uses group commit
  auto opened = open_store("sqlite:" + dir + "/bench.db", o);
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.status().to_string().c_str());
    std::exit(2);
  }
  {
    std::atomic<int> left{tasks};
    std::mutex mu;
    std::condition_variable cv;
    RequestInput in{"ana", "", "github", "maintainer", "benchmark", std::nullopt, false};
    for (int i = 0; i < tasks; ++i) {
      (*opened)->create([&](const Task*, TaskNumber n) { return engine.open_request(in, n); },
                        [&](StatusOr<Decision> d) {
                          if (!d.ok())
                            std::fprintf(stderr, "create: %s\n", d.status().to_string().c_str());
                          if (left.fetch_sub(1) == 1) {
                            std::lock_guard l(mu);
                            cv.notify_all();
                          }
                        });
    }
    std::unique_lock l(mu);
    cv.wait(l, [&] { return left.load() == 0; });
  }
  opened->reset();
  o.max_batch = max_batch;
  auto store = std::move(*open_store("sqlite:" + dir + "/bench.db", o));

  Result r;
  r.latencies_ms.resize(static_cast<std::size_t>(tasks));
  std::atomic<int> next{1};
  std::atomic<int> done{0};
  std::atomic<int> failures{0};
  std::mutex mu;
  std::condition_variable cv;
  Command approve{Action::approve, "dana", {}, {}, {}};
  std::function<void()> submit_one = [&] {
    int n = next.fetch_add(1);
    if (n > tasks) return;
    auto start = Clock::now();
    store->update(
        n, [&](const Task* t, TaskNumber) { return engine.act(*t, approve); },
        [&, n, start](StatusOr<Decision> d) {
          r.latencies_ms[static_cast<std::size_t>(n - 1)] =
              std::chrono::duration<double, std::milli>(Clock::now() - start).count();
          if (!d.ok()) failures.fetch_add(1);
          if (done.fetch_add(1) + 1 == tasks) {
            std::lock_guard l(mu);
            cv.notify_all();
          }
          submit_one();
        });
  };
  auto t0 = Clock::now();
  for (int i = 0; i < inflight; ++i) submit_one();
  {
    std::unique_lock l(mu);
    cv.wait(l, [&] { return done.load() == tasks; });
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  r.stats = store->stats();
  r.failures = failures.load();
  store.reset();
  std::filesystem::remove_all(dir);
  return r;
}

// The engine alone: decisions per second with no storage at all.
double engine_only(const Engine& engine, int n) {
  RequestInput in{"ana", "", "github", "maintainer", "benchmark", std::nullopt, false};
  Task t = engine.open_request(in, 1)->task;
  Command approve{Action::approve, "dana", {}, {}, {}};
  auto t0 = Clock::now();
  std::size_t sink = 0;
  for (int i = 0; i < n; ++i) sink += engine.act(t, approve)->effects.size();
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (sink == 0) std::puts("");
  return n / s;
}

void print_row(const char* mode, const Result& r) {
  double writes_per_commit = r.stats.commits ? double(r.stats.writes) / double(r.stats.commits) : 0;
  std::printf("%-28s %12.0f %10.0f %14.1f %9.2f %9.2f %9.2f %9d\n", mode,
              double(r.latencies_ms.size()) / r.seconds, double(r.stats.commits) / r.seconds,
              writes_per_commit, percentile(r.latencies_ms, 0.50), percentile(r.latencies_ms, 0.90),
              percentile(r.latencies_ms, 0.99), r.failures);
}

}  // namespace
}  // namespace tollgate

int main(int argc, char** argv) {
  using namespace tollgate;
  int tasks = 4000;
  int inflight = 64;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--tasks") == 0) tasks = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--inflight") == 0) inflight = std::atoi(argv[i + 1]);
  }
  LoadedConfig cfg = load_config_file(std::string(TOLLGATE_SOURCE_DIR) + "/examples/acme.json");
  if (!cfg.ok()) {
    std::fprintf(stderr, "examples/acme.json does not load\n");
    return 2;
  }
  SystemClock clock;
  Engine engine(cfg.directory, clock);
  std::string dir = (std::filesystem::temp_directory_path() / "tollgate-bench").string();

  std::printf(
      "Tollgate store benchmark: %d approvals of distinct tasks, %d in flight,\n"
      "SQLite WAL with synchronous=FULL (every decision durable before its completion)\n\n",
      tasks, inflight);
  std::printf("%-28s %12s %10s %14s %9s %9s %9s %9s\n", "mode", "decisions/s", "commits/s",
              "decisions/commit", "p50 ms", "p90 ms", "p99 ms", "failures");
  Result group = run(dir, engine, 512, tasks, inflight);
  print_row("group commit (batch <= 512)", group);
  Result single = run(dir, engine, 1, tasks, inflight);
  print_row("one commit per decision", single);
  std::printf("\ngroup commit: %.1fx the decisions/s of one commit per decision\n",
              (double(tasks) / group.seconds) / (double(tasks) / single.seconds));
  std::printf("ratio | store: group commit / one commit per decision | %.1fx | (no target)\n",
              (double(tasks) / group.seconds) / (double(tasks) / single.seconds));
  std::printf("engine alone (no store): %.0f decisions/s\n", engine_only(engine, 200000));
  std::printf("peak RSS: %ld MB\n", peak_rss_mb());
  return group.failures + single.failures == 0 ? 0 : 1;
}
