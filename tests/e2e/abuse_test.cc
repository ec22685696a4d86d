// Abuse: hostile or careless clients against the real server. Many idle
// connections, a client that sends its body too slowly, and a burst of
// 100,000 requests with bad signatures while Slack's good requests go on.
#include <algorithm>
#include <atomic>
#include <fstream>
#include <sys/resource.h>
#include <thread>

#include <gtest/gtest.h>

#include "tests/e2e/edge_fixture.h"

namespace tollgate::testing {
namespace {

long rss_kb(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

double p99(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(0.99 * static_cast<double>(v.size() - 1))];
}

TEST_F(EdgeTest, TenThousandIdleConnectionsAreHeldCheaplyAndOthersAreStillServed) {
  rlimit lim{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &lim), 0);
  ASSERT_GE(lim.rlim_max, 10100u) << "the test needs 10,100 file descriptors";
  lim.rlim_cur = std::max<rlim_t>(lim.rlim_cur, std::min<rlim_t>(lim.rlim_max, 20000));
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lim), 0);  // the server, started after, inherits it
  start_bot();
  long before = rss_kb(bot_->pid());
  std::vector<std::unique_ptr<RawConnection>> idle;
  idle.reserve(10000);
  for (int i = 0; i < 10000; ++i) idle.push_back(std::make_unique<RawConnection>(bot_->port()));
  ASSERT_TRUE(idle.back()->send("GET /healthz HTTP/1.1\r\n"))
      << "the last of them is connected too (and idles halfway through its header)";
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(client_->get("/healthz").status, 200) << "a new request is still served";
  auto served_in = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0);
  long after = rss_kb(bot_->pid());
  EXPECT_LT(served_in.count(), 1000.0);
  EXPECT_LT(after - before, 200 * 1024)
      << "memory stays bounded: " << (after - before) / 1024 << " MB for 10,000 connections";
  std::printf("10,000 idle connections: RSS %ld MB -> %ld MB (%.1f KB each); /healthz in %.1f ms\n",
              before / 1024, after / 1024, static_cast<double>(after - before) / 10000.0,
              served_in.count());
}

TEST_F(EdgeTest, AClientSendingItsBodyTooSlowlyIsDropped) {
  start_bot();
  RawConnection c(bot_->port());
  ASSERT_TRUE(
      c.send("POST /slack/commands HTTP/1.1\r\nHost: x\r\nContent-Type: "
             "application/x-www-form-urlencoded\r\nContent-Length: 400\r\n\r\ntoken=x&"));
  auto t0 = std::chrono::steady_clock::now();
  bool closed = false;
  std::string answer = c.read_until_closed(15000, &closed);
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(closed) << "dropped at the body deadline (10 s)";
  EXPECT_LT(waited, std::chrono::milliseconds(12000));
  EXPECT_EQ(client_->get("/healthz").status, 200) << "others are still served";
}

TEST_F(EdgeTest, AHundredThousandBadSignaturesAreAll401WhileSlacksRequestsStayFast) {
  TaskNumber n = open_request(req("ana", "aws", "staging"));
  start_bot();
  auto events_before = [&] {
    StoreOptions o;
    o.migrate = false;
    auto s = open_store(db(), o);
    return s.ok() ? (*s)->events(0, 100000)->size() : 0u;
  };
  std::size_t events = events_before();
  constexpr int kBad = 100000;
  constexpr int kThreads = 6;
  std::atomic<int> refused{0}, other{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> attackers;
  for (int t = 0; t < kThreads; ++t) {
    attackers.emplace_back([&, t] {
      HttpClient c(bot_->port());
      std::string body =
          block_action("U0DANA", "approve", std::to_string(n) + ":0", slack_.response_url("x"));
      Headers forged = signed_headers(body, kForm, unix_now(), "not-the-secret");
      for (int i = t; i < kBad; i += kThreads) {
        int status = c.request("POST", "/slack/interactions", body, forged).status;
        (status == 401 ? refused : other)++;
      }
    });
  }
  std::vector<double> good_ms;
  std::thread good([&] {
    HttpClient c(bot_->port());
    while (!done.load()) {
      auto t0 = std::chrono::steady_clock::now();
      auto r = post_signed(c, "/slack/commands", slash_command("U0DANA", "help", "x"), kForm);
      good_ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      EXPECT_EQ(r.status, 200);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  auto t0 = std::chrono::steady_clock::now();
  for (auto& a : attackers) a.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  done = true;
  good.join();
  EXPECT_EQ(refused.load(), kBad);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(task(n).version, 1) << "nothing was decided";
  EXPECT_EQ(events_before(), events) << "the store did not grow";
  EXPECT_TRUE(slack_.calls("response_url").empty()) << "nobody was told anything";
  ASSERT_GE(good_ms.size(), 50u);
  EXPECT_LT(p99(good_ms), 50.0) << "Slack's own requests keep a p99 under 50 ms";
  std::printf(
      "100,000 bad signatures in %.1f s (%.0f/s), all 401; %zu good requests meanwhile, "
      "p99 %.2f ms\n",
      seconds, kBad / seconds, good_ms.size(), p99(good_ms));
}

}  // namespace
}  // namespace tollgate::testing
