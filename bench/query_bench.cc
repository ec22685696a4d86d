// Queries at scale, start-up and idle footprint (issue 19).
//
// A generated organisation (tests/support/scale_org.h: 10,000 people, 100
// managers of ~99 reports each) and two SQLite stores seeded through the
// public Store API with a realistic history: every task a report's request
// for one of the app's resources, 99% of them denied by the manager (the
// request and the denial committed as one decision), 1% left open with the
// manager. The reference store holds 10,000 tasks, the large one --tasks.
// On each, once its files are read into the page cache (warm_file), for
// random managers (reviewers) and reports:
//   * App Home, server time, in-process: read_home_tasks + home_view +
//     views_publish's body, what HomePublisher does to open or republish it;
//   * GET /api/v1/tasks?assignee=<manager>&state=open over HTTP against the
//     real `tollgate serve` on that store, one keep-alive connection;
//   * `/tasks list` as a signed slash command, against the same server.
// Every answer is checked (200, exactly the manager's open tasks): any wrong
// answer makes the exit status 1.
// Then the footprint: start-up (spawn to "listening") and idle RSS of serve
// with examples/acme.json and with the generated organisation, empty stores.
//
//   query_bench [--tasks N] [--people P] [--samples S] [--keep DIR]
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "app/home_publisher.h"
#include "bench/history.h"
#include "bench/measure.h"
#include "base/json.h"
#include "slack/home_view.h"
#include "storage/store.h"
#include "tests/support/http_client.h"
#include "tests/support/scale_org.h"
#include "tests/support/slack_requests.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tollgate_process.h"
#include "workflow/config.h"
#include "workflow/engine.h"

namespace tollgate::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;
using testing::ScaleOrg;
using testing::TollgateProcess;

constexpr const char* kApiToken = "query-bench-api-token-0123456789abcdef";
constexpr double kQueryTargetMs = 5;
constexpr double kHomeTargetMs = 10;

double ms_since(SteadyClock::time_point t0) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
}

// The latencies of one query on one store, and how many answers were wrong.
struct Samples {
  std::vector<double> ms;
  int wrong = 0;
  std::string first_wrong;
  void fail(const std::string& why) {
    if (wrong++ == 0) first_wrong = why;
  }
  double p(double q) const { return percentile(ms, q); }
};

// A seeded store: where it is, and each manager's open tasks (what the
// queries must answer).
struct Seeded {
  std::string url;
  std::string path;
  std::vector<int> open_of_manager;
  double seconds = 0;
};

// The request of report `k` for resource `j`, as task `n`; unless `keep_open`,
// denied by their manager in the same decision (history.h).
StatusOr<Decision> history(const Engine& engine, const ScaleOrg& org, int k, int j, bool keep_open,
                           TaskNumber n) {
  RequestInput in;
  in.requester = ScaleOrg::report_id(k);
  in.app = "app";
  in.resource = ScaleOrg::resource_id(j);
  in.justification = "benchmark history";
  std::optional<PersonId> denier;
  if (!keep_open) denier = ScaleOrg::manager_id(org.manager_of(k));
  return past_request(engine, in, denier, n);
}

// Writes `tasks` tasks, keeping at most kInFlight writes queued (well under
// the store's queue cap, which refuses what is beyond it).
bool seed(Store& store, const Engine& engine, const ScaleOrg& org, int tasks, Seeded& out) {
  constexpr int kInFlight = 8000;
  std::mt19937 rng(19);
  std::uniform_int_distribution<int> report(0, org.reports() - 1);
  std::uniform_int_distribution<int> resource(0, org.resources - 1);
  out.open_of_manager.assign(static_cast<std::size_t>(org.managers()), 0);
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  int failed = 0;
  std::string first_error;
  auto t0 = SteadyClock::now();
  for (int i = 0; i < tasks; ++i) {
    int k = report(rng);
    int j = resource(rng);
    bool keep_open = i % 100 == 50;
    if (keep_open) ++out.open_of_manager[static_cast<std::size_t>(org.manager_of(k))];
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return in_flight < kInFlight; });
      ++in_flight;
    }
    store.create(
        [&engine, &org, k, j, keep_open](const Task*, TaskNumber n) {
          return history(engine, org, k, j, keep_open, n);
        },
        [&](StatusOr<Decision> d) {
          std::lock_guard lock(mu);
          if (!d.ok() && failed++ == 0) first_error = d.status().to_string();
          --in_flight;
          cv.notify_all();
        });
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return in_flight == 0; });
  out.seconds = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  if (failed > 0) {
    std::fprintf(stderr, "seed: %d tasks not written; the first: %s\n", failed,
                 first_error.c_str());
    return false;
  }
  return true;
}

double file_mb(const std::string& path) {
  std::error_code ec;
  double bytes = 0;
  for (const char* suffix : {"", "-wal"}) {
    auto n = std::filesystem::file_size(path + suffix, ec);
    if (!ec) bytes += static_cast<double>(n);
  }
  return bytes / (1024.0 * 1024.0);
}

// Reads the store's files once, so that the samples find them in the page
// cache, as a server's working set is: a machine that pages out memory not
// touched for a while (DAMON's reclaim: what was written while seeding, minutes
// before) would otherwise have the first query of each person read its pages
// from the disk, and the percentiles measure the disk. The seconds it took.
double warm_file(const std::string& path) {
  auto t0 = SteadyClock::now();
  std::vector<char> buffer(1 << 20);
  for (const char* suffix : {"", "-wal"}) {
    std::ifstream in(path + suffix, std::ios::binary);
    while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
    }
  }
  return ms_since(t0) / 1000.0;
}

// App Home, server time: what HomePublisher does to publish one view.
void home_samples(Store& store, const Engine& engine, const ScaleOrg& org, const Seeded& s,
                  bool managers, int samples, Samples& out) {
  std::mt19937 rng(managers ? 7 : 8);
  std::uniform_int_distribution<int> pick(0, (managers ? org.managers() : org.reports()) - 1);
  for (int i = 0; i < samples; ++i) {
    int who = pick(rng);
    PersonId person = managers ? ScaleOrg::manager_id(who) : ScaleOrg::report_id(who);
    std::string slack_id = managers ? ScaleOrg::manager_slack(who) : ScaleOrg::report_slack(who);
    auto t0 = SteadyClock::now();
    auto tasks = read_home_tasks(store, person);
    std::string body;
    if (tasks.ok()) {
      slack::kit::HomeView view = slack::home_view(engine, *tasks, person, "requests", 0);
      body = slack::kit::views_publish(slack_id, view);
    }
    out.ms.push_back(ms_since(t0));
    if (!tasks.ok()) {
      out.fail(tasks.status().to_string());
      continue;
    }
    int expected = managers ? s.open_of_manager[static_cast<std::size_t>(who)] : 0;
    if (static_cast<int>(tasks->open.size()) != std::min(expected, 1000) || body.empty()) {
      out.fail(person + ": " + std::to_string(tasks->open.size()) + " open tasks, expected " +
               std::to_string(expected));
    }
  }
}

// Whether the API's answer lists exactly `manager`'s open tasks (the first 100).
std::string check_api_answer(const testing::HttpResult& r, const PersonId& manager, int expected) {
  if (r.status != 200) return "HTTP " + std::to_string(r.status) + ": " + r.body + r.error;
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  if (!d.IsObject() || !d.HasMember("tasks") || !d["tasks"].IsArray()) return "no tasks: " + r.body;
  const auto& tasks = d["tasks"].GetArray();
  if (static_cast<int>(tasks.Size()) != std::min(expected, 100))
    return manager + ": " + std::to_string(tasks.Size()) + " tasks, expected " +
           std::to_string(expected);
  for (const auto& t : tasks) {
    bool mine = false;
    if (t.HasMember("assignees") && t["assignees"].IsArray()) {
      for (const auto& a : t["assignees"].GetArray())
        mine = mine || (a.IsString() && a.GetString() == manager);
    }
    if (!mine || !t.HasMember("open") || !t["open"].IsTrue())
      return manager + ": a task not open with them in " + r.body.substr(0, 300);
  }
  return {};
}

void api_samples(std::uint16_t port, const ScaleOrg& org, const Seeded& s, int samples,
                 Samples& out) {
  testing::HttpClient client(port);
  testing::Headers auth{{"Authorization", std::string("Bearer ") + kApiToken}};
  std::mt19937 rng(9);
  std::uniform_int_distribution<int> pick(0, org.managers() - 1);
  for (int i = 0; i < samples; ++i) {
    int m = pick(rng);
    PersonId manager = ScaleOrg::manager_id(m);
    std::string target = "/api/v1/tasks?assignee=" + manager + "&state=open";
    auto t0 = SteadyClock::now();
    testing::HttpResult r = client.request("GET", target, {}, auth);
    out.ms.push_back(ms_since(t0));
    std::string why = check_api_answer(r, manager, s.open_of_manager[static_cast<std::size_t>(m)]);
    if (!why.empty()) out.fail(why);
  }
}

// `/tasks list` from managers (or reports, who have none open), signed as Slack does.
void list_samples(std::uint16_t port, const ScaleOrg& org, const Seeded& s, bool managers,
                  int samples, Samples& out) {
  testing::HttpClient client(port);
  std::mt19937 rng(managers ? 10 : 11);
  std::uniform_int_distribution<int> pick(0, (managers ? org.managers() : org.reports()) - 1);
  for (int i = 0; i < samples; ++i) {
    int who = pick(rng);
    std::string user = managers ? ScaleOrg::manager_slack(who) : ScaleOrg::report_slack(who);
    std::string body =
        testing::slash_command(user, "list", "https://hooks.slack.com/commands/T0TEST/1/x");
    testing::Headers h = testing::signed_headers(body, testing::kForm);
    auto t0 = SteadyClock::now();
    testing::HttpResult r = client.request("POST", "/slack/commands", body, h);
    out.ms.push_back(ms_since(t0));
    int expected = managers ? s.open_of_manager[static_cast<std::size_t>(who)] : 0;
    std::string text = testing::answer_text(r.body);
    std::string want = expected == 0
                           ? "Your open tasks: none."
                           : "Your open tasks (" + std::to_string(std::min(expected, 200)) + ")";
    if (r.status != 200 || text.find(want) == std::string::npos)
      out.fail(user + ": HTTP " + std::to_string(r.status) + ", expected \"" + want + "\" in " +
               text.substr(0, 200));
  }
}

struct StoreFigures {
  Samples home_manager, home_report, api, list_manager, list_report;
  double startup_ms = 0;
  long idle_kb = 0;
};

void detail(const char* name, const Samples& s) {
  std::printf("  %-28s p50 %7.3f  p90 %7.3f  p99 %7.3f  max %8.3f ms  (%zu samples%s)\n", name,
              s.p(0.5), s.p(0.9), s.p(0.99), s.p(1.0), s.ms.size(),
              s.wrong ? ", WRONG ANSWERS" : "");
  if (s.wrong) std::printf("    %d wrong, the first: %s\n", s.wrong, s.first_wrong.c_str());
}

testing::ProcessOptions serve_options(const std::string& config, const std::string& db) {
  testing::ProcessOptions o;
  o.config = config;
  o.db = db;
  o.token.clear();  // no Slack: nothing to deliver, nobody to look up
  o.env = {{"SLACK_TEAM_ID", "T0TEST"}, {"TOLLGATE_API_TOKEN", kApiToken}};
  return o;
}

// Seeds a store of `tasks` tasks and measures every query on it.
std::optional<StoreFigures> measure_store(const char* label, const std::string& dir,
                                          const std::string& config, const Engine& engine,
                                          const ScaleOrg& org, int tasks, int samples,
                                          Seeded& seeded) {
  seeded.path = dir + "/" + label + ".db";
  seeded.url = "sqlite:" + seeded.path;
  StoreFigures f;
  {
    auto store = open_store(seeded.url, testing::serve_store_options());
    if (!store.ok()) {
      std::fprintf(stderr, "open %s: %s\n", seeded.url.c_str(), store.status().to_string().c_str());
      return std::nullopt;
    }
    if (!seed(**store, engine, org, tasks, seeded)) return std::nullopt;
    int open = 0;
    for (int n : seeded.open_of_manager) open += n;
    std::printf("%s store: %d tasks (%d open) seeded in %.1f s (%.0f tasks/s), %.1f MB\n", label,
                tasks, open, seeded.seconds, tasks / seeded.seconds, file_mb(seeded.path));
    std::printf("  read once into the page cache before the samples in %.1f s\n",
                warm_file(seeded.path));
    std::fflush(stdout);
    home_samples(**store, engine, org, seeded, true, samples, f.home_manager);
    home_samples(**store, engine, org, seeded, false, samples, f.home_report);
  }
  TollgateProcess server(serve_options(config, seeded.url));
  auto t0 = SteadyClock::now();
  if (!server.start()) {
    std::fprintf(stderr, "tollgate did not start:\n%s\n", server.log().c_str());
    return std::nullopt;
  }
  f.startup_ms = ms_since(t0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  f.idle_kb = rss_kb(server.pid(), "VmRSS:");
  api_samples(server.port(), org, seeded, samples, f.api);
  list_samples(server.port(), org, seeded, true, samples, f.list_manager);
  list_samples(server.port(), org, seeded, false, samples, f.list_report);
  server.stop(SIGTERM);
  std::printf("  serve on it: started in %.0f ms, idle RSS %.1f MB\n", f.startup_ms,
              static_cast<double>(f.idle_kb) / 1024.0);
  detail("App Home (manager)", f.home_manager);
  detail("App Home (report)", f.home_report);
  detail("GET /api/v1/tasks (manager)", f.api);
  detail("/tasks list (manager)", f.list_manager);
  detail("/tasks list (report)", f.list_report);
  std::printf("\n");
  std::fflush(stdout);
  return f;
}

bool table_row(const char* name, const Samples& ref, const Samples& big, double target) {
  bool met = big.p(0.99) <= target;
  std::printf("%-30s %8.3f %8.3f %8.3f %8.3f %8.2fx   p99 <= %2.0f ms: %s\n", name, ref.p(0.5),
              ref.p(0.99), big.p(0.5), big.p(0.99), big.p(0.99) / ref.p(0.99), target,
              met ? "yes" : "NO");
  return met;
}

struct Footprint {
  double startup_ms = 0;
  long idle_kb = 0;
};

std::optional<Footprint> footprint(const std::string& config, const std::string& db) {
  TollgateProcess server(serve_options(config, db));
  auto t0 = SteadyClock::now();
  if (!server.start()) {
    std::fprintf(stderr, "tollgate did not start with %s:\n%s\n", config.c_str(),
                 server.log().c_str());
    return std::nullopt;
  }
  Footprint f;
  f.startup_ms = ms_since(t0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  f.idle_kb = rss_kb(server.pid(), "VmRSS:");
  server.stop(SIGTERM);
  return f;
}

int arg(int argc, char** argv, const char* name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::atoi(argv[i + 1]);
  }
  return fallback;
}

}  // namespace
}  // namespace tollgate::bench

int main(int argc, char** argv) {
  using namespace tollgate;
  using namespace tollgate::bench;
  int tasks = arg(argc, argv, "--tasks", 1000000);
  int samples = arg(argc, argv, "--samples", 2000);
  // --keep DIR: the stores are written there and kept (to look at their query plans).
  std::string keep;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--keep") == 0) keep = argv[i + 1];
  }
  ScaleOrg org;
  org.people = arg(argc, argv, "--people", 10000);
  constexpr int kReferenceTasks = 10000;
  testing::TempDir dir;
  std::string config = dir.file("scale.json");
  std::ofstream(config) << org.json();
  LoadedConfig loaded = load_config_file(config);
  if (!loaded.ok()) {
    std::fprintf(stderr, "the generated organisation is not valid: %s\n",
                 loaded.issues.empty() ? "?" : loaded.issues[0].message.c_str());
    return 2;
  }
  SystemClock clock;
  Engine engine(loaded.directory, clock);
  std::printf(
      "Query benchmark: %d people (%d managers, %d reports), SQLite stores of %d (reference)\n"
      "and %d tasks, 1%% open with the requester's manager; %d samples per query; %u cores\n\n",
      org.people, org.managers(), org.reports(), kReferenceTasks, tasks, samples,
      std::thread::hardware_concurrency());

  Seeded ref_seed, big_seed;
  std::string stores = keep.empty() ? dir.path().string() : keep;
  auto ref =
      measure_store("reference", stores, config, engine, org, kReferenceTasks, samples, ref_seed);
  if (!ref) return 2;
  auto big = measure_store("large", stores, config, engine, org, tasks, samples, big_seed);
  if (!big) return 2;

  std::printf("%-30s %17s %17s\n", "", "10k tasks (ms)",
              (std::to_string(tasks) + " tasks (ms)").c_str());
  std::printf("%-30s %8s %8s %8s %8s %9s\n", "query", "p50", "p99", "p50", "p99", "p99 ratio");
  bool met = true;
  met = table_row("App Home (manager), server", ref->home_manager, big->home_manager,
                  kHomeTargetMs) &&
        met;
  met = table_row("App Home (report), server", ref->home_report, big->home_report, kHomeTargetMs) &&
        met;
  met = table_row("GET /api/v1/tasks?assignee=", ref->api, big->api, kQueryTargetMs) && met;
  met = table_row("/tasks list (manager)", ref->list_manager, big->list_manager, kQueryTargetMs) &&
        met;
  met =
      table_row("/tasks list (report)", ref->list_report, big->list_report, kQueryTargetMs) && met;

  std::printf(
      "(a manager has ~%d open tasks in the reference store and ~%d in the large one: the\n"
      "ratio is the store's size and the answer's length together)\n",
      kReferenceTasks / 100 / org.managers(), tasks / 100 / org.managers());

  std::string acme = std::string(TOLLGATE_SOURCE_DIR) + "/examples/acme.json";
  auto fa = footprint(acme, "sqlite:" + dir.file("acme-empty.db"));
  auto fs = footprint(config, "sqlite:" + dir.file("scale-empty.db"));
  if (!fa || !fs) return 2;
  std::printf(
      "\nFootprint of tollgate serve, empty store (spawn to \"listening\"; VmRSS after 300 ms "
      "idle)\n");
  std::printf("%-34s %12s %14s\n", "configuration", "start-up ms", "idle RSS MB");
  bool acme_ok = fa->idle_kb <= 15 * 1024;
  bool scale_ok = fs->startup_ms < 1000;
  std::printf("%-34s %12.0f %14.1f   idle RSS <= 15 MB: %s\n", "examples/acme.json (reference)",
              fa->startup_ms, static_cast<double>(fa->idle_kb) / 1024.0, acme_ok ? "yes" : "NO");
  std::printf("%-34s %12.0f %14.1f   start-up < 1 s: %s\n",
              (std::to_string(org.people) + " people").c_str(), fs->startup_ms,
              static_cast<double>(fs->idle_kb) / 1024.0, scale_ok ? "yes" : "NO");
  std::printf("%-34s %12.0f %14.1f\n",
              (std::to_string(org.people) + " people, " + std::to_string(tasks) + " tasks").c_str(),
              big->startup_ms, static_cast<double>(big->idle_kb) / 1024.0);

  // The figures the issue's targets are about, one per line (scripts/bench.sh all).
  std::printf("\n");
  auto ratio = [&](const char* what, const Samples& s, double target) {
    std::printf("ratio | queries at %d tasks: %s p99 | %.2f ms | <= %.0f ms\n", tasks, what,
                s.p(0.99), target);
  };
  ratio("App Home (manager)", big->home_manager, kHomeTargetMs);
  ratio("GET /api/v1/tasks?assignee=", big->api, kQueryTargetMs);
  ratio("/tasks list (manager)", big->list_manager, kQueryTargetMs);
  std::printf("ratio | idle RSS, examples/acme.json | %.1f MB | <= 15 MB\n",
              static_cast<double>(fa->idle_kb) / 1024.0);
  std::printf("ratio | start-up, %d people | %.0f ms | < 1000 ms\n", org.people, fs->startup_ms);

  int wrong = 0;
  for (const StoreFigures* f : {&*ref, &*big}) {
    for (const Samples* s :
         {&f->home_manager, &f->home_report, &f->api, &f->list_manager, &f->list_report})
      wrong += s->wrong;
  }
  std::printf("\n%s; targets %s\n", wrong ? "WRONG ANSWERS (see above)" : "every answer checked",
              met && acme_ok && scale_ok ? "met" : "NOT all met");
  return wrong ? 1 : 0;
}
