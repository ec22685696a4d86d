// Fan-out: N assignment DMs to M reviewers through the fake Slack with its
// limits on (one chat.postMessage per second per channel, tier budgets),
// printing the drain time beside the lower bound those limits allow; then the
// delivery latency when Slack is fast: from the click that opens a step to
// the new assignee's DM arriving at the fake.
//
//   fanout_bench [--dms N] [--reviewers M] [--samples K]
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>

#include "storage/store.h"
#include "sandbox/fake_slack.h"
#include "tests/support/fanout_org.h"
#include "tests/support/slack_requests.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tollgate_process.h"
#include "workflow/config.h"
#include "workflow/engine.h"

using namespace tollgate;
using namespace tollgate::testing;
using namespace tollgate::sandbox;
using namespace std::chrono_literals;

namespace {

template <typename Pred>
bool wait_until(Pred p, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (p()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return p();
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  int dms = 2000;
  int reviewers = 50;
  int samples = 40;  // under chat.update's 50 a minute, so the latency is Slack-fast
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--dms") == 0) dms = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--reviewers") == 0) reviewers = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--samples") == 0) samples = std::atoi(argv[i + 1]);
  }
  int per_reviewer = (dms + reviewers - 1) / reviewers;
  TempDir dir;
  std::string config = dir.file("fanout.json");
  std::ofstream(config) << fanout_org(reviewers, samples);
  std::string db = "sqlite:" + dir.file("fanout.db");
  {
    auto store = open_store(db, serve_store_options());
    SystemClock clock;
    Engine engine(load_config_file(config).directory, clock);
    for (int k = 0; k < dms; ++k) {
      RequestInput in{
          "r" + std::to_string(k % reviewers), "", "app", "res", "burst", std::nullopt, false};
      if (!create_and_wait(**store, [&](const Task*, TaskNumber n) {
             return engine.open_request(in, n);
           }).ok())
        return 2;
    }
    for (int k = 0; k < samples; ++k) {
      RequestInput in{"w" + std::to_string(k),
                      "",
                      "own",
                      "res" + std::to_string(k),
                      "latency",
                      std::nullopt,
                      false};
      if (!create_and_wait(**store, [&](const Task*, TaskNumber n) {
             return engine.open_request(in, n);
           }).ok())
        return 2;
    }
  }
  FakeSlack slack;
  ProcessOptions o;
  o.config = config;
  o.db = db;
  o.slack_api_url = slack.api_url();
  TollgateProcess bot(o);
  if (!bot.start()) {
    std::fprintf(stderr, "tollgate did not start:\n%s\n", bot.log().c_str());
    return 2;
  }
  std::printf(
      "Fan-out benchmark: %d assignment DMs to %d reviewers through the fake Slack (limits on)\n\n",
      dms, reviewers);
  // The boss's DMs (one per latency sample) come after: wait for the burst only.
  auto burst = [&] {
    std::size_t n = 0;
    for (const PostedMessage& m : slack.messages()) n += m.channel.rfind("DUM", 0) == 0;
    return n;
  };
  if (!wait_until([&] { return burst() >= static_cast<std::size_t>(dms); },
                  std::chrono::seconds(per_reviewer * 3 + 60))) {
    std::fprintf(stderr, "not drained: %zu of %d\n", burst(), dms);
    return 1;
  }
  std::vector<RecordedCall> posts;
  for (const RecordedCall& c : slack.calls("chat.postMessage")) {
    // The reviewers' DMs, by user id (the first) or by D… channel (the rest).
    bool reviewer = c.body.find("\"channel\":\"UM") != std::string::npos ||
                    c.body.find("\"channel\":\"DUM") != std::string::npos;
    if (reviewer && c.status == 200) posts.push_back(c);
  }
  double drain = std::chrono::duration<double>(posts.back().at - posts.front().at).count();
  double bound = per_reviewer - 1;
  std::printf("%-44s %10.2f s\n", "drain time (first to last DM)", drain);
  std::printf("%-44s %10.2f s\n", "lower bound (1 message/s per channel)", bound);
  std::printf("%-44s %10.1f %%\n", "over the bound",
              bound > 0 ? 100.0 * (drain - bound) / bound : 0.0);
  std::printf("%-44s %10d\n", "429s answered by the fake", slack.rate_limited());
  std::printf("%-44s %10zu\n", "Block Kit or protocol violations", slack.violations().size());

  // Latency when Slack is fast: the boss approves step 1; the owner's DM is the effect.
  wait_until(
      [&] { return slack.messages_in("DUBOSS").size() >= static_cast<std::size_t>(samples); },
      120s);
  HttpClient http(bot.port());
  std::vector<double> latency;
  for (int k = 0; k < samples; ++k) {
    TaskNumber n = dms + 1 + k;
    std::string channel = "DUO" + std::to_string(k);
    HttpResult r = post_signed(
        http, "/slack/interactions",
        block_action("UBOSS", "approve", std::to_string(n) + ":0", slack.response_url("b")), kForm);
    auto acked = std::chrono::steady_clock::now();
    if (r.status != 200 || !wait_until([&] { return !slack.messages_in(channel).empty(); }, 10s)) {
      std::fprintf(stderr, "sample %d: no DM\n", k);
      continue;
    }
    for (const RecordedCall& c : slack.calls("chat.postMessage")) {
      if (c.body.find("\"channel\":\"UO" + std::to_string(k) + "\"") != std::string::npos &&
          c.status == 200) {
        latency.push_back(std::chrono::duration<double, std::milli>(c.at - acked).count());
      }
    }
    std::this_thread::sleep_for(20ms);
  }
  std::printf("\ndelivery latency, ack of the click to the next assignee's DM (%zu samples):\n",
              latency.size());
  std::printf("  p50 %.1f ms   p90 %.1f ms   max %.1f ms\n", pct(latency, 0.5), pct(latency, 0.9),
              pct(latency, 1.0));
  bot.stop(SIGTERM);
  return 0;
}
