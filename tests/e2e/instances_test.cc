// Several instances on one PostgreSQL database (docs/operating.md, "Several instances on PostgreSQL"): real
// `tollgate serve` processes, the fake Slack, and the throwaway cluster.
//  * 500 trials of Approve and Deny for one step, clicked at the same moment
//    on two instances: one decision, one set of effects, the loser told.
//  * kill -9 of one instance during a burst: no acknowledged decision lost,
//    and what it had claimed from the outbox is delivered by the other.
//  * PostgreSQL stopped in the middle of a run: 503 while it is down (never a
//    200 for an unrecorded decision), then recovery without a restart.
//  * Socket Mode: an envelope redelivered to the other instance's connection
//    is acknowledged there and not acted on again.
#include <barrier>
#include <cstdlib>
#include <fstream>
#include <future>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "cmd/tollgate/process.h"
#include "storage/store.h"
#include "sandbox/fake_slack.h"
#include "sandbox/fake_socket_mode.h"
#include "tests/support/http_client.h"
#include "tests/support/poll.h"
#include "tests/support/slack_requests.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_database.h"
#include "tests/support/test_org.h"
#include "tests/support/tollgate_process.h"

namespace tollgate::testing {

namespace {

// Requesters with a Slack id, and who reviews their AWS staging requests.
struct Asker {
  PersonId person;
  std::string slack_id;
  std::string reviewer_slack_id;
};
const Asker kAskers[] = {{"ana", "UANA", "UDANA"},
                         {"olga", "UOLGA", "UBOSS"},
                         {"pat", "UPAT", "UBOSS"},
                         {"sam", "USAM", "UBOSS"}};

class InstancesTest : public ::testing::Test {
 protected:
  static StoreOptions keyed() { return serve_store_options(); }

  // A whole server in this process on `url` and the test's simulated clock,
  // its scheduler driven by the test, with the key the test's stores sealed
  // the log with (PostgreSQL has no default key file).
  std::unique_ptr<tollgate::Process> in_process(const std::string& url) {
    ::setenv("TOLLGATE_AUDIT_KEY", kTestAuditKeyHex, 1);
    tollgate::ProcessOptions o;
    o.config = dir_.file("org.json");
    o.db = url;
    o.listen = "127.0.0.1:0";
    o.signing_secret = kSigningSecret;
    o.scheduler_interval = std::chrono::milliseconds(0);
    o.clock = &clock_;
    auto p = std::make_unique<tollgate::Process>(o);
    Status st = p->start();
    EXPECT_TRUE(st.ok()) << st.to_string();
    return p;
  }
  // One scheduler pass on each of `a` and `b`, at the same moment.
  static std::pair<SchedulerPass, SchedulerPass> passes_at_once(tollgate::Process& a,
                                                                tollgate::Process& b) {
    SchedulerPass pa, pb;
    std::barrier sync(2);
    std::thread ta([&] {
      sync.arrive_and_wait();
      pa = a.run_scheduler_once();
    });
    std::thread tb([&] {
      sync.arrive_and_wait();
      pb = b.run_scheduler_once();
    });
    ta.join();
    tb.join();
    return {pa, pb};
  }
  void SetUp() override { std::ofstream(dir_.file("org.json")) << kTestOrg; }
  // Whatever a test did, every request an instance made was one Slack accepts.
  void TearDown() override { EXPECT_EQ(slack_.violations(), std::vector<std::string>{}); }

  // Opens `n` requests for AWS staging (one step, the requester's manager),
  // through the real engine and store, before any instance runs.
  std::vector<const Asker*> open_tasks(const std::string& url, int n) {
    auto store = open_store(url, keyed());
    EXPECT_TRUE(store.ok()) << store.status().to_string();
    std::vector<const Asker*> askers;
    if (!store.ok()) return askers;
    // The organisation the instances run with (policies are frozen into tasks when they open).
    Engine engine(load_config_file(dir_.file("org.json")).directory, clock_);
    for (int i = 0; i < n; ++i) {
      const Asker* a = &kAskers[i % 4];
      askers.push_back(a);
      RequestInput in{a->person, {}, "aws", "staging", "trial " + std::to_string(i + 1)};
      (*store)->create(
          [&engine, in](const Task*, TaskNumber num) { return engine.open_request(in, num); },
          [](StatusOr<Decision> d) { EXPECT_TRUE(d.ok()) << d.status().to_string(); });
    }
    EXPECT_TRUE(flush_and_wait(**store).ok());
    return askers;
  }

  std::unique_ptr<TollgateProcess> instance(const std::string& url,
                                            std::vector<std::pair<std::string, std::string>> env) {
    ProcessOptions o;
    o.config = dir_.file("org.json");
    o.db = url;
    o.slack_api_url = slack_.api_url();
    o.env = std::move(env);
    auto p = std::make_unique<TollgateProcess>(o);
    EXPECT_TRUE(p->start()) << p->log();
    return p;
  }

  HttpResult click(HttpClient& c, const std::string& user, const std::string& action, TaskNumber n,
                   const std::string& response_id) {
    return post_signed(
        c, "/slack/interactions",
        block_action(user, action, std::to_string(n) + ":0", slack_.response_url(response_id)),
        kForm);
  }

  template <typename Pred>
  bool eventually(Pred p, std::chrono::milliseconds timeout) {
    return poll_until(p, timeout, std::chrono::milliseconds(50));
  }

  TempDir dir_;
  FakeSlack slack_{FakeSlack::Options{.enforce_channel_rate = false}};
  ManualClock clock_{test_start()};
};

TEST_F(InstancesTest, ApproveAndDenyAtTheSameMomentOnTwoInstancesOneDecisionFiveHundredTimes) {
  TestDatabase db("postgres", dir_.path().string());
  ASSERT_TRUE(db.ok()) << db.error();
  constexpr int kTrials = 500;
  open_tasks(db.url(), kTrials);
  ASSERT_TRUE(db.raw("DELETE FROM outbox").ok());  // the assignment DMs: not under test here
  // Neither instance delivers: every effect the race committed stays in the outbox to be counted.
  auto a = instance(db.url(), {{"TOLLGATE_DELIVERY", "off"}});
  auto b = instance(db.url(), {{"TOLLGATE_DELIVERY", "off"}});
  HttpClient ca(a->port()), cb(b->port());
  std::barrier sync(2);
  std::vector<int> status_a(kTrials), status_b(kTrials);
  std::thread ta([&] {
    for (int i = 0; i < kTrials; ++i) {
      sync.arrive_and_wait();
      status_a[i] = click(ca, kAskers[i % 4].reviewer_slack_id, "approve", i + 1, "a").status;
    }
  });
  std::thread tb([&] {
    for (int i = 0; i < kTrials; ++i) {
      sync.arrive_and_wait();
      status_b[i] = click(cb, kAskers[i % 4].reviewer_slack_id, "deny", i + 1, "b").status;
    }
  });
  ta.join();
  tb.join();
  auto store = open_store(db.url(), keyed());
  ASSERT_TRUE(store.ok());
  int approved = 0, denied = 0;
  for (int i = 0; i < kTrials; ++i) {
    ASSERT_EQ(status_a[i], 200) << "trial " << i + 1;
    ASSERT_EQ(status_b[i], 200) << "trial " << i + 1;
    auto events = (*store)->task_events(i + 1);
    ASSERT_TRUE(events.ok());
    int decisions = 0;
    for (const StoredEvent& e : *events) {
      if (e.event.type == "approved") ++approved, ++decisions;
      if (e.event.type == "denied") ++denied, ++decisions;
    }
    ASSERT_EQ(decisions, 1) << "trial " << i + 1 << ": exactly one decision";
    TaskState s = (*store)->task(i + 1)->state;
    ASSERT_TRUE(s == TaskState::granted || s == TaskState::denied);
  }
  EXPECT_EQ(approved + denied, kTrials);
  // One set of effects per task: one notification of the requester, one update of the messages.
  EXPECT_EQ(db.number("SELECT COUNT(*) FROM outbox WHERE kind = 'notify'"), kTrials);
  EXPECT_EQ(db.number("SELECT COUNT(DISTINCT task) FROM outbox WHERE kind = 'notify'"), kTrials);
  EXPECT_EQ(db.number("SELECT COUNT(*) FROM outbox WHERE kind = 'update_messages'"), kTrials);
  // Every loser is told, by their instance, who won.
  ASSERT_TRUE(eventually([&] { return slack_.calls("response_url").size() >= kTrials; },
                         std::chrono::seconds(20)));
  int told = 0;
  for (const RecordedCall& c : slack_.calls("response_url")) {
    if (c.body.find("was already") != std::string::npos) ++told;
  }
  EXPECT_EQ(told, kTrials);
  EXPECT_EQ(db.number("SELECT COUNT(*) FROM events"), db.number("SELECT last_seq FROM chain_head"));
  auto chain = (*store)->verify_chain();
  ASSERT_TRUE(chain.ok());
  EXPECT_FALSE(chain->broken_seq.has_value()) << chain->problem;
  std::printf("race: %d approved, %d denied, %d losers told\n", approved, denied, told);
}

// Socket Mode with two instances on one database: each holds its own connections (Slack spreads
// envelopes over all of them). An envelope whose ack did not reach Slack is redelivered to a
// connection of the other instance, which acknowledges it and does not act on it again: the
// envelope_id was recorded in the shared store with the click. Without that record each
// reviewer would be told by the second instance that their step was already decided.
TEST_F(InstancesTest, InSocketModeARedeliveryToTheOtherInstanceIsNotActedOnAgain) {
  using namespace std::chrono_literals;
  TestDatabase db("postgres", dir_.path().string());
  ASSERT_TRUE(db.ok()) << db.error();
  constexpr int kTasks = 12;
  auto askers = open_tasks(db.url(), kTasks);
  std::vector<std::pair<std::string, std::string>> env{
      {"SLACK_APP_TOKEN", slack_.options().app_token}, {"TOLLGATE_DELIVERY", "off"}};
  sandbox::FakeSocketMode& sm = slack_.socket_mode();
  auto a = instance(db.url(), env);
  ASSERT_TRUE(sm.wait_connections(2, 10s)) << a->log();
  auto b = instance(db.url(), env);
  ASSERT_TRUE(sm.wait_connections(4, 10s)) << b->log();
  std::vector<int> conns = sm.connections();  // oldest first: a's two, then b's two
  ASSERT_EQ(conns.size(), 4u);
  auto store = open_store(db.url(), keyed());
  ASSERT_TRUE(store.ok());
  for (int i = 0; i < kTasks; ++i) {
    TaskNumber n = i + 1;
    std::string click = payload_of(block_action(askers[i]->reviewer_slack_id, "approve",
                                                std::to_string(n) + ":0",
                                                slack_.response_url("s")));
    sm.lose_acks(true);
    auto id = sm.send({.type = "interactive", .payload = click}, conns[i % 2]);
    ASSERT_TRUE(id);
    ASSERT_TRUE(eventually([&] { return (*store)->task(n)->state == TaskState::granted; }, 10s))
        << a->log();
    sm.lose_acks(false);
    int other = conns[2 + i % 2];
    ASSERT_TRUE(sm.redeliver(*id, other));
    auto ack = sm.wait_ack(*id, 10s);
    ASSERT_TRUE(ack) << b->log();
    EXPECT_EQ(ack->connection, other);
    EXPECT_EQ(ack->payload, "");
  }
  for (TaskNumber n = 1; n <= kTasks; ++n) {
    auto events = (*store)->task_events(n);
    ASSERT_TRUE(events.ok());
    int approvals = 0;
    for (const StoredEvent& e : *events) approvals += e.event.type == "approved" ? 1 : 0;
    EXPECT_EQ(approvals, 1) << "#" << n;
  }
  EXPECT_TRUE(slack_.calls("response_url").empty()) << "nobody is told anything was refused";
  HttpClient cb(b->port());
  std::string metrics = cb.get("/metrics").body;
  EXPECT_NE(metrics.find("tollgate_slack_rejected_total{reason=\"redelivery\"} " +
                         std::to_string(kTasks)),
            std::string::npos)
      << metrics;
}

TEST_F(InstancesTest, KillingOneInstanceDuringABurstLosesNoAcknowledgedDecision) {
  TestDatabase db("postgres", dir_.path().string());
  ASSERT_TRUE(db.ok()) << db.error();
  constexpr int kTasks = 32;
  auto askers = open_tasks(db.url(), kTasks);
  ASSERT_TRUE(db.raw("DELETE FROM outbox").ok());
  std::vector<std::pair<std::string, std::string>> env{{"TOLLGATE_OUTBOX_LEASE_MS", "1500"}};
  auto a = instance(db.url(), env);
  auto b = instance(db.url(), env);
  HttpClient ca(a->port());
  std::vector<int> acked;
  std::atomic<int> answered{0};
  std::thread burst([&] {
    for (int i = 0; i < kTasks; ++i) {
      auto r = click(ca, askers[i]->reviewer_slack_id, "approve", i + 1, "k");
      if (r.status == 200) acked.push_back(i + 1);
      ++answered;
      if (r.status == 0) break;  // the instance is gone
    }
  });
  ASSERT_TRUE(eventually([&] { return answered.load() >= kTasks / 2; }, std::chrono::seconds(20)));
  a->kill9();
  burst.join();
  ASSERT_GE(acked.size(), static_cast<std::size_t>(kTasks / 2));
  auto store = open_store(db.url(), keyed());
  ASSERT_TRUE(store.ok());
  for (TaskNumber n : acked) {
    EXPECT_EQ((*store)->task(n)->state, TaskState::granted) << "#" << n << " was acknowledged";
  }
  // B delivers everything, including what A had claimed, once A's leases end.
  ASSERT_TRUE(eventually([&] { return db.number("SELECT COUNT(*) FROM outbox") == 0; },
                         std::chrono::seconds(60)))
      << db.number("SELECT COUNT(*) FROM outbox") << " still in the outbox\n"
      << b->log();
  // Every decision reaches its requester. Delivery is at least once: a message
  // A had posted but not yet recorded when it died is posted again by B.
  int repeated = 0;
  for (int i = 0; i < kTasks; ++i) {
    if ((*store)->task(i + 1)->state != TaskState::granted) continue;
    std::string needle = "request #" + std::to_string(i + 1) + " (";
    int found = 0;
    for (const PostedMessage& m : slack_.messages_in("D" + askers[i]->slack_id)) {
      if (m.text.find(needle) != std::string::npos) ++found;
    }
    EXPECT_GE(found, 1) << "#" << i + 1 << ": the requester is told";
    repeated += found > 1 ? found - 1 : 0;
  }
  // At most what A can have had in flight towards Slack when it died (one per channel).
  EXPECT_LE(repeated, 4);
  std::printf("kill -9: %zu of %d acknowledged before the kill; %d notification(s) posted twice\n",
              acked.size(), kTasks, repeated);
}

TEST_F(InstancesTest, APostgresOutageIsA503UntilItIsBackThenTollgateRecoversByItself) {
  // Its own cluster: stopping the shared one would disturb the other tests.
  std::string state = dir_.file("pg");
  std::string script = std::string(TOLLGATE_SOURCE_DIR) + "/scripts/pg_cluster.sh";
  ASSERT_EQ(std::system(("bash " + script + " start " + state + " > /dev/null").c_str()), 0);
  struct Cleanup {
    std::string cmd;
    ~Cleanup() { (void)std::system(cmd.c_str()); }
  } cleanup{"bash " + script + " stop " + state + " > /dev/null 2>&1"};
  std::string url;
  std::getline(std::ifstream(state + "/url"), url);
  open_tasks(url, 10);
  auto a = instance(url, {{"TOLLGATE_DELIVERY", "off"}});
  HttpClient c(a->port());
  EXPECT_EQ(click(c, "UDANA", "approve", 1, "o").status, 200);
  EXPECT_EQ(c.get("/readyz").status, 200);

  ASSERT_EQ(std::system(("bash " + script + " down " + state).c_str()), 0);
  for (TaskNumber n : {5, 9}) {
    auto r = click(c, "UDANA", "approve", n, "o");
    EXPECT_EQ(r.status, 503) << "#" << n << " cannot be recorded: " << r.body;
  }
  EXPECT_EQ(c.get("/readyz").status, 503);

  ASSERT_EQ(std::system(("bash " + script + " up " + state).c_str()), 0);
  int status = 0;
  ASSERT_TRUE(eventually(
      [&] {
        status = click(c, "UDANA", "approve", 5, "o").status;
        return status == 200;
      },
      std::chrono::seconds(15)))
      << status;
  EXPECT_EQ(c.get("/readyz").status, 200);
  EXPECT_TRUE(a->running()) << "no restart was needed";
  auto store = open_store(url, keyed());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->task(1)->state, TaskState::granted);
  EXPECT_EQ((*store)->task(5)->state, TaskState::granted);
  EXPECT_EQ((*store)->task(9)->state, TaskState::reviewing) << "its 503 recorded nothing";
  auto chain = (*store)->verify_chain();
  ASSERT_TRUE(chain.ok());
  EXPECT_FALSE(chain->broken_seq.has_value());
}

TEST_F(InstancesTest, RequestsOpenedOnTwoInstancesAtOnceGetUniqueNumbersWithoutGaps) {
  TestDatabase db("postgres", dir_.path().string());
  ASSERT_TRUE(db.ok()) << db.error();
  // One access per request: a person has one open request per access.
  constexpr int kEach = 60;
  std::string resources;
  for (int i = 0; i < kEach; ++i) {
    resources += std::string(i ? "," : "") + R"({"id": "r)" + std::to_string(i) +
                 R"(", "name": "R)" + std::to_string(i) +
                 R"(", "request_policy": "manager-only", "revocation_policy": "manager-confirms"})";
  }
  std::ofstream(dir_.file("org.json")) << replaced(
      kTestOrg, R"(    {"id": "aws", "name": "AWS", "owners": ["olga"],)",
      R"(    {"id": "burst", "name": "Burst", "owners": ["olga"], "resources": [)" + resources +
          R"(]},
    {"id": "aws", "name": "AWS", "owners": ["olga"],)");
  auto a = instance(db.url(), {{"TOLLGATE_DELIVERY", "off"}});
  auto b = instance(db.url(), {{"TOLLGATE_DELIVERY", "off"}});
  auto burst = [&](std::uint16_t port, const std::string& user, std::vector<std::string>* out) {
    HttpClient c(port);
    for (int i = 0; i < kEach; ++i) {
      auto r = post_signed(c, "/slack/commands",
                           slash_command(user,
                                         "request burst/r" + std::to_string(i) + " -- burst " +
                                             std::to_string(i),
                                         slack_.response_url("n")),
                           kForm);
      out->push_back(r.body);
    }
  };
  std::vector<std::string> from_a, from_b;
  std::thread ta(burst, a->port(), "UANA", &from_a);
  std::thread tb(burst, b->port(), "UOLGA", &from_b);
  ta.join();
  tb.join();
  std::set<int> numbers;
  for (const auto* replies : {&from_a, &from_b}) {
    for (const std::string& r : *replies) {
      auto at = r.find("as #");
      ASSERT_NE(at, std::string::npos) << r;
      numbers.insert(std::atoi(r.c_str() + at + 4));
    }
  }
  EXPECT_EQ(numbers.size(), 2u * kEach) << "every number given once";
  EXPECT_EQ(*numbers.begin(), 1);
  EXPECT_EQ(*numbers.rbegin(), 2 * kEach) << "and none skipped";
  EXPECT_EQ(db.number("SELECT COUNT(*) FROM tasks"), 2 * kEach);
}

TEST_F(InstancesTest, AnEventRetriedOntoTheOtherInstanceIsProcessedOnce) {
  TestDatabase db("postgres", dir_.path().string());
  ASSERT_TRUE(db.ok()) << db.error();
  open_tasks(db.url(), 1);
  {
    auto store = open_store(db.url(), keyed());
    ASSERT_TRUE(store.ok());
    std::promise<Status> p;
    (*store)->record_message(
        {1, "T0TEST", "DUDANA", "1700000000.000100", "dana", "assign", 0, clock_.now(), ""},
        [&](Status st) { p.set_value(st); });
    ASSERT_TRUE(p.get_future().get().ok());
  }
  auto a = instance(db.url(), {{"TOLLGATE_DELIVERY", "off"}});
  auto b = instance(db.url(), {{"TOLLGATE_DELIVERY", "off"}});
  HttpClient ca(a->port()), cb(b->port());
  std::string reply =
      R"({"type":"message","channel":"DUDANA","channel_type":"im","user":"UDANA","text":"looking now","ts":"1700000050.000200","thread_ts":"1700000000.000100","parent_user_id":"U0BOT","event_ts":"1700000050.000200"})";
  std::string body = event_callback("Ev0RETRIED", reply);
  EXPECT_EQ(post_signed(ca, "/slack/events", body, kJson).status, 200);
  // Slack did not see that answer in time and retries; the load balancer picks the other instance.
  EXPECT_EQ(post_signed(cb, "/slack/events", body, kJson,
                        {{"X-Slack-Retry-Num", "1"}, {"X-Slack-Retry-Reason", "http_timeout"}})
                .status,
            200);
  auto store = open_store(db.url(), keyed());
  ASSERT_TRUE(store.ok());
  auto t = (*store)->task(1);
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->comments.size(), 1u);
  EXPECT_EQ(t->comments[0].text, "looking now");
  EXPECT_EQ(t->comments[0].author, "dana");
}

TEST_F(InstancesTest, TwoInstancesSchedulersSendEachReminderOnce) {
  TestDatabase db("postgres", dir_.path().string());
  ASSERT_TRUE(db.ok()) << db.error();
  std::ofstream(dir_.file("org.json"))
      << replaced(kTestOrg, R"({"reviewers": {"type": "manager"}, "fallback": ["sam"]}]},
    {"id": "two-step")",
                  R"({"reviewers": {"type": "manager"}, "fallback": ["sam"],
                      "sla": {"remind_after": "24h"}}]},
    {"id": "two-step")");
  open_tasks(db.url(), 8);
  // Two whole servers in this process, on one database and one simulated clock.
  auto a = in_process(db.url());
  auto b = in_process(db.url());
  clock_.advance(std::chrono::hours(30));  // Friday 16:00 UTC: due, and within working hours
  auto [pa, pb] = passes_at_once(*a, *b);
  EXPECT_EQ(pa.reminded + pb.reminded, 8)
      << "one reminder per task, from one instance or the other";
  EXPECT_EQ(db.number("SELECT COUNT(*) FROM events WHERE type = 'reminded'"), 8);
  EXPECT_EQ(db.number("SELECT COUNT(*) FROM outbox WHERE kind = 'remind'"), 8);
  a->shutdown();
  b->shutdown();
}

TEST_F(InstancesTest, TwoInstancesEndEachGrantOnceAndWarnOfItOnce) {
  TestDatabase db("postgres", dir_.path().string());
  ASSERT_TRUE(db.ok()) << db.error();
  // Six time-bound grants of AWS staging (an app that removes access by
  // itself), ending in an hour: inside the default 24 h notice.
  const std::vector<PersonId> holders{"ana", "bo", "cy", "olga", "pat", "sam"};
  {
    auto store = open_store(db.url(), keyed());
    ASSERT_TRUE(store.ok()) << store.status().to_string();
    std::vector<AccessChange> grants;
    for (const PersonId& p : holders) {
      AccessChange c;
      c.holding = {p, "aws", "staging", clock_.now(), clock_.now() + std::chrono::hours(1), 0};
      c.actor = "sam";
      c.at = clock_.now();
      grants.push_back(c);
    }
    ASSERT_TRUE(write_access_and_wait(**store, grants).ok());
  }
  auto a = in_process(db.url());
  auto b = in_process(db.url());
  // Both schedulers at the same moment, twice: first the warnings (half the
  // grant has run), then the ends.
  clock_.advance(std::chrono::minutes(31));
  auto both = [&] { return passes_at_once(*a, *b); };
  auto [wa, wb] = both();
  EXPECT_EQ(wa.access_warned + wb.access_warned, 6) << "one warning per grant";
  EXPECT_EQ(wa.failed + wb.failed, 0);
  // One warning each in the log, and one "ends soon" DM each queued (no Slack here: they wait).
  EXPECT_EQ(db.number("SELECT COUNT(*) FROM events WHERE type = 'access_warned'"), 6);
  EXPECT_EQ(db.number("SELECT COUNT(*) FROM outbox WHERE kind = 'access_notice'"), 6);
  clock_.advance(std::chrono::hours(2));
  auto [ea, eb] = both();
  EXPECT_EQ(ea.access_ended + eb.access_ended, 6) << "each grant ended once";
  EXPECT_EQ(db.number("SELECT COUNT(*) FROM events WHERE type = 'access_remove'"), 6);
  EXPECT_EQ(db.number("SELECT COUNT(*) FROM access WHERE expires_at IS NOT NULL"), 0);
  auto [la, lb] = both();  // nothing left to do
  EXPECT_EQ(la.access_ended + lb.access_ended + la.access_warned + lb.access_warned, 0);
  a->shutdown();
  b->shutdown();
}

}  // namespace
}  // namespace tollgate::testing
