// Ingress: the running server driven over loopback by signed block_actions
// approving distinct tasks, many keep-alive connections, one load-generator
// thread (Asio). Every 200 from Tollgate means the decision is durable. In the
// same run, the same load against the reference: a minimal Bolt-js app that
// verifies and acks the same action (and stores nothing).
//
// With --postgres URL1 --postgres2 URL2 (two empty databases; scripts/bench.sh
// ingress starts a throwaway cluster for them), the same load also runs
// against PostgreSQL with one instance, and with two instances sharing the
// connections, beside the SQLite figures of the same run.
//
// With --rounds R, every case (PostgreSQL on the round's database of its list, the large store
// on its requests for the round) and the reference run R times, one after the other in each
// round, the reference warmed up first; each throughput ratio is of the rounds' medians, the p99
// the median of the rounds'. On a machine whose speed drifts from minute to minute, a ratio of
// two runs made minutes apart measures the drift.
//
// With --tasks N, the same load also runs against a SQLite store of N tasks
// (history.h: closed requests, then the ones approved), beside the store of
// only the approved ones: how throughput holds as the store grows.
//
// The organisation is examples/acme.json with kReports more reports of Dana's, and the
// approved requests are theirs, in turn: each approval grants a different person's access,
// as real clicks do, so that two instances do not queue on one row of the ledger (one
// person's access granted 20,000 times at once would measure that row's lock, not the
// store).
//
//   ingress_bench [--requests N] [--tasks N] [--connections C] [--rounds R] [--bolt DIR]
//                 [--postgres URL[,URL...] --postgres2 URL[,URL...]]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/history.h"
#include "bench/measure.h"
#include "http/net.h"
#include "storage/store.h"
#include "tests/support/slack_requests.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tollgate_process.h"
#include "workflow/config.h"
#include "workflow/engine.h"

namespace tollgate::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;
using testing::TollgateProcess;

struct Run {
  double seconds = 0;
  std::vector<double> latencies_ms;
  int errors = 0;
  int ok = 0;
};

// One keep-alive connection sending its share of the requests, one at a time.
class Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(net::io_context& ioc, std::uint16_t port, std::vector<std::string> bodies, Run& run)
      : stream_(ioc), port_(port), bodies_(std::move(bodies)), run_(run) {}

  void start() {
    stream_.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_),
                          [self = shared_from_this()](error_code ec) {
                            if (ec) {
                              ++self->run_.errors;
                              return;
                            }
                            self->next();
                          });
  }

 private:
  void next() {
    if (i_ >= bodies_.size()) return;
    req_ = {bhttp::verb::post, "/slack/interactions", 11};
    req_.set(bhttp::field::host, "127.0.0.1");
    for (const auto& [k, v] : testing::signed_headers(bodies_[i_], testing::kForm)) req_.set(k, v);
    req_.body() = bodies_[i_];
    req_.keep_alive(true);
    req_.prepare_payload();
    started_ = SteadyClock::now();
    bhttp::async_write(stream_, req_, [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec) return self->fail();
      self->res_ = {};
      bhttp::async_read(
          self->stream_, self->buffer_, self->res_, [self](error_code rec, std::size_t) {
            if (rec) return self->fail();
            self->run_.latencies_ms.push_back(
                std::chrono::duration<double, std::milli>(SteadyClock::now() - self->started_)
                    .count());
            if (self->res_.result_int() == 200) {
              ++self->run_.ok;
            } else {
              ++self->run_.errors;
            }
            ++self->i_;
            self->next();
          });
    });
  }
  void fail() { ++run_.errors; }

  beast::tcp_stream stream_;
  std::uint16_t port_;
  std::vector<std::string> bodies_;
  Run& run_;
  std::size_t i_ = 0;
  beast::flat_buffer buffer_;
  bhttp::request<bhttp::string_body> req_;
  bhttp::response<bhttp::string_body> res_;
  SteadyClock::time_point started_;
};

// Connection i goes to ports[i % ports.size()].
Run drive(const std::vector<std::uint16_t>& ports, const std::vector<std::string>& bodies,
          int connections) {
  net::io_context ioc;
  Run run;
  run.latencies_ms.reserve(bodies.size());
  std::vector<std::vector<std::string>> shares(static_cast<std::size_t>(connections));
  for (std::size_t i = 0; i < bodies.size(); ++i) shares[i % shares.size()].push_back(bodies[i]);
  for (std::size_t c = 0; c < shares.size(); ++c) {
    std::make_shared<Conn>(ioc, ports[c % ports.size()], std::move(shares[c]), run)->start();
  }
  auto t0 = SteadyClock::now();
  ioc.run();
  run.seconds = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  return run;
}

void row(const char* name, const Run& r, long idle_kb, long peak_kb) {
  std::fflush(stdout);
  std::printf("%-30s %11.0f %8.2f %8.2f %8.2f %12.1f %12.1f %7d\n", name,
              double(r.ok + r.errors) / r.seconds, percentile(r.latencies_ms, 0.5),
              percentile(r.latencies_ms, 0.9), percentile(r.latencies_ms, 0.99),
              static_cast<double>(idle_kb) / 1024.0, static_cast<double>(peak_kb) / 1024.0,
              r.errors);
}

// Acme's people and their managers, whose requests make up a store's history.
constexpr std::pair<const char*, const char*> kRequesters[] = {
    {"ana", "dana"}, {"bo", "dana"},   {"carl", "dana"}, {"eve", "dana"}, {"hugo", "gita"},
    {"ines", "gita"}, {"jon", "gita"}, {"lee", "sam"},   {"nora", "sam"}};

// Dana's reports added to Acme's for the benchmark ("report-0001", ...): the requests Dana
// approves are theirs, in turn, so that one person's access comes round again only after
// kReports approvals, far more than are ever in flight at once.
constexpr int kReports = 1000;

std::string report_id(int k) {
  char id[32];
  std::snprintf(id, sizeof id, "report-%04d", k % kReports);
  return id;
}

// examples/acme.json with the kReports reports added to its people; its path.
std::string write_organisation(const std::string& acme, const std::string& path) {
  std::ifstream in(acme);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string reports;
  for (int k = 0; k < kReports; ++k) {
    std::string id = report_id(k);
    reports += "\n    {\"id\": \"" + id + "\", \"name\": \"Report " + std::to_string(k) +
               "\", \"email\": \"" + id + "@acme.test\", \"manager\": \"dana\"},";
  }
  const std::string people = "\"people\": [";
  auto at = text.find(people);
  if (at == std::string::npos) return {};
  text.insert(at + people.size(), reports);
  std::ofstream(path) << text;
  return path;
}

// Writes `history` closed requests (history.h), then opens `requests`
// distinct tasks for Dana to approve (her reports' staging access, in turn:
// manager only, automatic) in the store at `db`.
bool seed(const std::string& db, const std::string& acme, int requests, int history = 0) {
  auto store = open_store(db, testing::serve_store_options());
  if (!store.ok()) {
    std::fprintf(stderr, "setup: %s\n", store.status().to_string().c_str());
    return false;
  }
  SystemClock clock;
  Engine engine(load_config_file(acme).directory, clock);
  RequestInput in{"ana", "", "aws", "staging", "benchmark", std::nullopt, false};
  // In chunks well under the store's queue cap, which refuses what is beyond it.
  for (int done = 0; done < history + requests;) {
    int chunk = std::min(5000, history + requests - done);
    std::atomic<int> left{chunk};
    std::atomic<int> failed{0};
    std::promise<void> all;
    for (int i = 0; i < chunk; ++i) {
      int k = done + i;
      std::optional<PersonId> denier;
      RequestInput past = in;
      if (k < history) {
        const auto& [requester, manager] = kRequesters[k % std::size(kRequesters)];
        past.requester = requester;
        denier = manager;
      } else {
        past.requester = report_id(k - history);
      }
      (*store)->create(
          [&engine, past, denier](const Task*, TaskNumber n) {
            return past_request(engine, past, denier, n);
          },
          [&](StatusOr<Decision> d) {
            if (!d.ok() && failed.fetch_add(1) == 0)
              std::fprintf(stderr, "setup: %s\n", d.status().to_string().c_str());
            if (left.fetch_sub(1) == 1) all.set_value();
          });
    }
    all.get_future().wait();
    if (failed.load() > 0) {
      std::fprintf(stderr, "setup: %d tasks not opened\n", failed.load());
      return false;
    }
    done += chunk;
  }
  return true;
}

int granted_in(const std::string& db) {
  StoreOptions so;
  so.migrate = false;
  auto store = open_store(db, so);
  if (!store.ok()) return -1;
  int granted = 0;
  auto tasks = (*store)->tasks({.state = TaskState::granted, .limit = 1000});
  while (tasks.ok() && !tasks->empty()) {
    granted += static_cast<int>(tasks->size());
    tasks = (*store)->tasks(
        {.state = TaskState::granted, .after = tasks->back().number, .limit = 1000});
  }
  return granted;
}

struct Outcome {
  Run run;
  int granted = 0;
  double rps() const { return double(run.ok + run.errors) / run.seconds; }
};

// Seeds `db` with the tasks `bodies` approve (unless not `seed_first`: they are there), starts
// `instances` servers on it, drives the load across them. `granted`: all the store holds.
std::optional<Outcome> measure(const std::string& label, const std::string& db,
                               const std::string& acme, int instances,
                               const std::vector<std::string>& bodies, int connections,
                               bool seed_first = true) {
  if (seed_first && !seed(db, acme, static_cast<int>(bodies.size()))) return std::nullopt;
  std::vector<std::unique_ptr<TollgateProcess>> servers;
  std::vector<std::uint16_t> ports;
  for (int i = 0; i < instances; ++i) {
    testing::ProcessOptions to;
    to.config = acme;
    to.db = db;
    to.token.clear();  // no Slack: every approval succeeds, nothing to tell anyone
    to.env = {{"SLACK_TEAM_ID", "T0TEST"}};  // without auth.test, the team served is this
    servers.push_back(std::make_unique<TollgateProcess>(to));
    if (!servers.back()->start()) {
      std::fprintf(stderr, "tollgate did not start:\n%s\n", servers.back()->log().c_str());
      return std::nullopt;
    }
    ports.push_back(servers.back()->port());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  long idle = 0;
  for (auto& s : servers) idle += rss_kb(s->pid(), "VmRSS:");
  Outcome o;
  o.run = drive(ports, bodies, connections);
  long peak = 0;
  for (auto& s : servers) peak += rss_kb(s->pid(), "VmHWM:");
  for (auto& s : servers) s->stop(SIGTERM);
  row(label.c_str(), o.run, idle, peak);
  o.granted = granted_in(db);
  return o;
}

// Splits "a,b,c"; nothing for "".
std::vector<std::string> list_of(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = std::min(text.find(',', at), text.size());
    out.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

// The middle value, or the mean of the middle two; 0 for none.
double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t m = v.size() / 2;
  return v.size() % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

}  // namespace
}  // namespace tollgate::bench

int main(int argc, char** argv) {
  using namespace tollgate;
  using namespace tollgate::bench;
  int requests = 20000;
  int tasks = 0;  // a store of this many tasks too (history, then the `requests`)
  int connections = 32;
  int rounds = 1;
  std::string bolt_dir = std::string(TOLLGATE_SOURCE_DIR) + "/bench/bolt-reference";
  std::vector<std::string> pg1, pg2;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--requests") == 0) requests = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--tasks") == 0) tasks = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--connections") == 0) connections = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::max(1, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--bolt") == 0) bolt_dir = argv[i + 1];
    if (std::strcmp(argv[i], "--postgres") == 0) pg1 = list_of(argv[i + 1]);
    if (std::strcmp(argv[i], "--postgres2") == 0) pg2 = list_of(argv[i + 1]);
  }
  testing::TempDir dir;
  std::string acme = write_organisation(std::string(TOLLGATE_SOURCE_DIR) + "/examples/acme.json",
                                       dir.file("organisation.json"));
  if (acme.empty()) {
    std::fprintf(stderr, "examples/acme.json has no \"people\": [\n");
    return 2;
  }
  // Dana's approvals of the tasks after the first `history`.
  auto approvals = [&](int history) {
    std::vector<std::string> out;
    for (int i = history + 1; i <= history + requests; ++i) {
      out.push_back(testing::block_action("U0DANA", "approve", std::to_string(i) + ":0",
                                          "https://hooks.slack.com/actions/T0/1/x"));
    }
    return out;
  };
  std::vector<std::string> bodies = approvals(0);
  std::printf(
      "Ingress benchmark: %d signed block_actions (approve, distinct tasks), %d keep-alive\n"
      "connections, one load-generator thread, all on this machine (%u cores); %d round(s),\n"
      "each case and the reference one after the other in each\n\n",
      requests, connections, std::thread::hardware_concurrency(), rounds);
  std::printf("%-30s %11s %8s %8s %8s %12s %12s %7s\n", "server", "requests/s", "p50 ms", "p90 ms",
              "p99 ms", "idle RSS MB", "peak RSS MB", "errors");

  // A case runs in every round on a store of its own (a SQLite file, or the round's database of
  // a --postgres list), but for the large store, seeded once, in the first round only.
  struct Case {
    std::string label;
    std::vector<std::string> dbs;  // one per round it runs in
    int instances;
    int history;
    std::vector<Outcome> outcomes;
    std::vector<double> rps() const {
      std::vector<double> out;
      for (const Outcome& o : outcomes) out.push_back(o.rps());
      return out;
    }
  };
  std::vector<std::string> sqlite_files;
  for (int r = 0; r < rounds; ++r)
    sqlite_files.push_back("sqlite:" + dir.file("bench" + std::to_string(r) + ".db"));
  for (const auto* list : {&pg1, &pg2}) {
    if (!list->empty() && static_cast<int>(list->size()) != rounds) {
      std::fprintf(stderr, "--postgres and --postgres2 need one database per round (%d)\n",
                   rounds);
      return 2;
    }
  }
  std::vector<Case> cases{{"tollgate, SQLite", sqlite_files, 1, 0, {}}};
  // The large store, seeded once: its history, then the requests every round approves, its own
  // in turn. So it holds `tasks` and the approvals of the rounds after the first.
  int history = tasks - requests;
  if (tasks > requests) {
    std::string large = "sqlite:" + dir.file("large.db");
    auto t0 = SteadyClock::now();
    if (!seed(large, acme, rounds * requests, history)) return 2;
    std::printf("  (%d tasks of history and %d to approve seeded in %.0f s)\n", history,
                rounds * requests, std::chrono::duration<double>(SteadyClock::now() - t0).count());
    cases.push_back({"tollgate, SQLite, " + std::to_string(history + rounds * requests) + " tasks",
                     std::vector<std::string>(rounds, large), 1, history, {}});
  }
  if (!pg1.empty()) cases.push_back({"tollgate, PostgreSQL x1", pg1, 1, 0, {}});
  if (!pg2.empty()) cases.push_back({"tollgate, PostgreSQL x2", pg2, 2, 0, {}});

  testing::ProcessOptions bo;
  bo.program = {TOLLGATE_NODE, bolt_dir + "/app.js"};
  bo.env = {{"PORT", "0"}, {"NODE_PATH", bolt_dir + "/node_modules"}};
  bo.token.clear();
  TollgateProcess bolt(bo);
  bool have_bolt =
      std::ifstream(bolt_dir + "/node_modules/@slack/bolt/package.json").good() && bolt.start();
  if (!have_bolt) {
    std::printf("%-30s not run: no node_modules in %s (scripts/bench.sh installs it)\n",
                "bolt-js reference", bolt_dir.c_str());
  }
  std::vector<Run> bolt_runs;
  long bolt_idle = 0;
  if (have_bolt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    bolt_idle = rss_kb(bolt.pid(), "VmRSS:");
    // Not measured: V8 compiles the app during its first few thousand requests.
    (void)drive({bolt.port()}, bodies, connections);
  }
  int large_granted = 0;  // what the large store held granted before the round
  for (int r = 0; r < rounds; ++r) {
    for (Case& c : cases) {
      std::string label = rounds > 1 ? c.label + " #" + std::to_string(r + 1) : c.label;
      auto o = c.history > 0 ? measure(label, c.dbs[r], acme, c.instances,
                                       approvals(c.history + r * requests), connections, false)
                             : measure(label, c.dbs[r], acme, c.instances, bodies, connections);
      if (!o) return 2;
      if (c.history > 0) {
        o->granted -= large_granted;
        large_granted += o->granted;
      }
      c.outcomes.push_back(std::move(*o));
    }
    if (!have_bolt) continue;
    bolt_runs.push_back(drive({bolt.port()}, bodies, connections));
    std::string label = "bolt-js reference (ack only)";
    if (rounds > 1) label += " #" + std::to_string(r + 1);
    row(label.c_str(), bolt_runs.back(), bolt_idle, rss_kb(bolt.pid(), "VmHWM:"));
  }
  if (have_bolt) bolt.stop(SIGTERM);
  std::vector<double> bolt_rps;
  for (const Run& b : bolt_runs) bolt_rps.push_back(double(b.ok + b.errors) / b.seconds);

  bool all_durable = true;
  std::printf("\n");
  for (const Case& c : cases) {
    for (std::size_t r = 0; r < c.outcomes.size(); ++r) {
      const Outcome& o = c.outcomes[r];
      bool durable = o.run.ok == o.granted && o.run.errors == 0;
      all_durable = all_durable && durable;
      std::printf("%s%s: %d acknowledged, %d tasks granted in the store afterwards%s\n",
                  c.label.c_str(), rounds > 1 ? (" #" + std::to_string(r + 1)).c_str() : "",
                  o.run.ok, o.granted,
                  durable ? " (every acknowledged decision is durable)" : " (MISMATCH)");
      if (r < bolt_rps.size())
        std::printf("  throughput / bolt-js: %.2fx\n", o.rps() / bolt_rps[r]);
    }
  }
  // The ratios the issue's targets are about, one per line (scripts/bench.sh all): with several
  // rounds, of the medians of the rounds (each round's own ratio on the line after).
  auto each = [&](const std::vector<double>& num, const std::vector<double>& den) {
    if (num.size() < 2) return;
    std::printf("  each round:");
    for (std::size_t r = 0; r < num.size() && r < den.size(); ++r)
      std::printf(" %.2fx", num[r] / den[r]);
    std::printf("\n");
  };
  std::printf("\n");
  const Case& sqlite = cases.front();
  if (have_bolt) {
    std::printf("ratio | ingress: SQLite / Bolt-js ack-only | %.2fx | >= 5x\n",
                median(sqlite.rps()) / median(bolt_rps));
    each(sqlite.rps(), bolt_rps);
  }
  std::vector<double> p99s;
  for (const Outcome& o : sqlite.outcomes) p99s.push_back(percentile(o.run.latencies_ms, 0.99));
  std::printf("ratio | ingress: SQLite p99 at %d connections | %.2f ms | <= 3 ms\n", connections,
              median(p99s));
  const Case* x1 = nullptr;
  for (const Case& c : cases) {
    if (c.history > 0) {
      std::printf("ratio | ingress: SQLite with %d tasks / with %d | %.2fx | >= 0.85x\n", tasks,
                  requests, median(c.rps()) / median(sqlite.rps()));
      each(c.rps(), sqlite.rps());
    }
    if (c.label == "tollgate, PostgreSQL x1") {
      x1 = &c;
      std::printf("ratio | ingress: PostgreSQL x1 / SQLite | %.2fx | >= 0.5x\n",
                  median(c.rps()) / median(sqlite.rps()));
      each(c.rps(), sqlite.rps());
    }
    if (c.label == "tollgate, PostgreSQL x2" && x1 != nullptr) {
      std::printf("ratio | ingress: PostgreSQL x2 / x1 | %.2fx | >= 1.7x\n",
                  median(c.rps()) / median(x1->rps()));
      each(c.rps(), x1->rps());
    }
  }
  return all_durable ? 0 : 1;
}
