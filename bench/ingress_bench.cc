// Ingress: the running server driven over loopback by signed block_actions
// approving distinct tasks, many keep-alive connections, one load-generator
// thread (Asio). Every 200 from Tollgate means the decision is durable. In the
// same run, the same load against the reference: a minimal Bolt-js app that
// verifies and acks the same action (and stores nothing).
//
//   ingress_bench [--requests N] [--connections C] [--bolt DIR]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bot/net.h"
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

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

long rss_kb(int pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field));
  }
  return -1;
}

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

Run drive(std::uint16_t port, const std::vector<std::string>& bodies, int connections) {
  net::io_context ioc;
  Run run;
  run.latencies_ms.reserve(bodies.size());
  std::vector<std::vector<std::string>> shares(static_cast<std::size_t>(connections));
  for (std::size_t i = 0; i < bodies.size(); ++i) shares[i % shares.size()].push_back(bodies[i]);
  for (auto& share : shares) std::make_shared<Conn>(ioc, port, std::move(share), run)->start();
  auto t0 = SteadyClock::now();
  ioc.run();
  run.seconds = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  return run;
}

void row(const char* name, const Run& r, long idle_kb, long peak_kb) {
  std::printf("%-30s %11.0f %8.2f %8.2f %8.2f %12.1f %12.1f %7d\n", name,
              double(r.ok + r.errors) / r.seconds, percentile(r.latencies_ms, 0.5),
              percentile(r.latencies_ms, 0.9), percentile(r.latencies_ms, 0.99),
              static_cast<double>(idle_kb) / 1024.0, static_cast<double>(peak_kb) / 1024.0,
              r.errors);
}

}  // namespace
}  // namespace tollgate::bench

int main(int argc, char** argv) {
  using namespace tollgate;
  using namespace tollgate::bench;
  int requests = 20000;
  int connections = 32;
  std::string bolt_dir = std::string(TOLLGATE_SOURCE_DIR) + "/bench/bolt-reference";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--requests") == 0) requests = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--connections") == 0) connections = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--bolt") == 0) bolt_dir = argv[i + 1];
  }
  testing::TempDir dir;
  std::string db = "sqlite:" + dir.file("bench.db");
  std::string acme = std::string(TOLLGATE_SOURCE_DIR) + "/examples/acme.json";

  // Distinct open tasks for Dana to approve (Ana's staging access: manager only, automatic).
  {
    auto store = open_store(db);
    SystemClock clock;
    Engine engine(load_config_file(acme).directory, clock);
    RequestInput in{"ana", "", "aws", "staging", "benchmark", std::nullopt, false};
    // In chunks well under the store's queue cap, which refuses what is beyond it.
    for (int done = 0; done < requests;) {
      int chunk = std::min(5000, requests - done);
      std::atomic<int> left{chunk};
      std::atomic<int> failed{0};
      std::promise<void> all;
      for (int i = 0; i < chunk; ++i) {
        (*store)->create([&](const Task*, TaskNumber n) { return engine.open_request(in, n); },
                         [&](StatusOr<Decision> d) {
                           if (!d.ok()) failed.fetch_add(1);
                           if (left.fetch_sub(1) == 1) all.set_value();
                         });
      }
      all.get_future().wait();
      if (failed.load() > 0) {
        std::fprintf(stderr, "setup: %d tasks not opened\n", failed.load());
        return 2;
      }
      done += chunk;
    }
  }
  std::vector<std::string> bodies;
  for (int i = 1; i <= requests; ++i) {
    bodies.push_back(testing::block_action("U0DANA", "approve", std::to_string(i) + ":0",
                                           "https://hooks.slack.com/actions/T0/1/x"));
  }
  std::printf(
      "Ingress benchmark: %d signed block_actions (approve, distinct tasks), %d keep-alive\n"
      "connections, one load-generator thread, all on this machine (%u cores)\n\n",
      requests, connections, std::thread::hardware_concurrency());
  std::printf("%-30s %11s %8s %8s %8s %12s %12s %7s\n", "server", "requests/s", "p50 ms", "p90 ms",
              "p99 ms", "idle RSS MB", "peak RSS MB", "errors");

  testing::ProcessOptions to;
  to.config = acme;
  to.db = db;
  to.token.clear();  // no Slack: every approval succeeds, nothing to tell anyone
  TollgateProcess tollgate(to);
  if (!tollgate.start()) {
    std::fprintf(stderr, "tollgate did not start:\n%s\n", tollgate.log().c_str());
    return 2;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  long idle = rss_kb(tollgate.pid(), "VmRSS:");
  Run t = drive(tollgate.port(), bodies, connections);
  long peak = rss_kb(tollgate.pid(), "VmHWM:");
  tollgate.stop(SIGTERM);
  row("tollgate (durable decisions)", t, idle, peak);
  int granted = 0;
  {
    StoreOptions so;
    so.migrate = false;
    auto store = open_store(db, so);
    auto tasks = (*store)->tasks({.state = TaskState::granted, .limit = 1000});
    for (TaskNumber after = 0; tasks.ok() && !tasks->empty();) {
      granted += static_cast<int>(tasks->size());
      after = tasks->back().number;
      tasks = (*store)->tasks({.state = TaskState::granted, .after = after, .limit = 1000});
    }
  }

  Run b;
  long bolt_idle = -1;
  long bolt_peak = -1;
  testing::ProcessOptions bo;
  bo.program = {TOLLGATE_NODE, bolt_dir + "/app.js"};
  bo.env = {{"PORT", "0"}, {"NODE_PATH", bolt_dir + "/node_modules"}};
  bo.token.clear();
  TollgateProcess bolt(bo);
  bool have_bolt =
      std::ifstream(bolt_dir + "/node_modules/@slack/bolt/package.json").good() && bolt.start();
  if (have_bolt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    bolt_idle = rss_kb(bolt.pid(), "VmRSS:");
    b = drive(bolt.port(), bodies, connections);
    bolt_peak = rss_kb(bolt.pid(), "VmHWM:");
    bolt.stop(SIGTERM);
    row("bolt-js reference (ack only)", b, bolt_idle, bolt_peak);
  } else {
    std::printf("%-30s not run: no node_modules in %s (scripts/bench.sh installs it)\n",
                "bolt-js reference", bolt_dir.c_str());
  }
  std::printf("\ntollgate: %d acknowledged, %d tasks granted in the store afterwards%s\n", t.ok,
              granted,
              t.ok == granted ? " (every acknowledged decision is durable)" : " (MISMATCH)");
  if (have_bolt) {
    std::printf("tollgate / bolt-js throughput: %.1fx\n",
                (double(t.ok + t.errors) / t.seconds) / (double(b.ok + b.errors) / b.seconds));
  }
  return t.ok == granted && t.errors == 0 ? 0 : 1;
}
