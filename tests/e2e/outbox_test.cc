// Issue 15, item 4: the outbox delivers each Slack call once. End to end:
// the real binary (or, where time must be simulated, the real server in
// process on a manual clock) against the strict fake Slack, which answers
// 429s and 500s on demand.
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "app/audit_seal.h"
#include "app/outbox_worker.h"
#include "cmd/tollgate/process.h"
#include "tests/e2e/edge_fixture.h"
#include "tests/support/test_database.h"
#include "tests/support/test_org.h"

namespace tollgate::testing {
namespace {

using namespace std::chrono_literals;

class OutboxTest : public EdgeTest {
 protected:
  // The database as someone with the file has it (tests/support/test_database.h).
  TestDatabase& raw() {
    if (!raw_) raw_ = std::make_unique<TestDatabase>("sqlite", dir_.path().string());
    return *raw_;
  }
  std::int64_t pending() {
    auto s = reader().outbox_stats();
    return s.ok() ? s->pending : -1;
  }
  std::int64_t parked() {
    auto s = reader().outbox_stats();
    return s.ok() ? s->parked : -1;
  }
  // Replies the bot posted into the thread of `parent` in `channel`.
  std::size_t replies(const std::string& channel, const std::string& parent) {
    std::size_t n = 0;
    for (const PostedMessage& m : slack_.messages_in(channel)) n += m.thread_ts == parent;
    return n;
  }
  // Waits until the outbox is empty, then a little more: anything sent twice would show.
  void drained(std::chrono::milliseconds timeout = 20s) {
    ASSERT_TRUE(eventually([&] { return pending() == 0; }, timeout)) << pending() << " pending";
    std::this_thread::sleep_for(1500ms);
  }
  std::string command(const std::string& user, const std::string& text) {
    HttpResult r = tasks_command(user, text);
    EXPECT_EQ(r.status, 200) << r.body;
    return answer_text(r.body);
  }

  std::unique_ptr<TestDatabase> raw_;
};

// Before: one comment was one outbox item planned as a post into each thread;
// a 429 on one thread retried the whole item, so the threads already done got
// the comment again, once per 429.
TEST_F(OutboxTest, ACommentIntoThreadsWhereOneAnswers429ReachesEachThreadOnce) {
  // An emergency request goes to the security on-call group: Lee and Nora.
  RequestInput in = req("ana", "github", "admin", "prod is down");
  in.emergency = true;
  TaskNumber n = open_request(in);
  start_bot();
  ASSERT_TRUE(has_dms("U0LEE", 1) && has_dms("U0NORA", 1));
  std::vector<SlackMessage> copies;
  ASSERT_TRUE(eventually([&] {
    auto m = reader().messages(n);
    if (m.ok()) copies = *m;
    return copies.size() == 2;
  }));
  // The thread planned last answers 429 twice: the other has been posted into by then.
  slack_.rate_limit_next("chat.postMessage", 2, 1, copies.back().channel);
  command("U0ANA", "comment " + std::to_string(n) + " the on-call runbook says yes");
  ASSERT_EQ(task(n).comments.size(), 1u);
  ASSERT_TRUE(eventually(
      [&] {
        return replies(copies[0].channel, copies[0].ts) >= 1 &&
               replies(copies[1].channel, copies[1].ts) >= 1;
      },
      15s));
  drained();
  EXPECT_EQ(slack_.rate_limited(), 2);
  for (const SlackMessage& c : copies)
    EXPECT_EQ(replies(c.channel, c.ts), 1u) << "the comment in " << c.channel << " exactly once";
}

// Before: each 429 counted as a failed attempt, and twelve of them parked the
// effect; now a 429 is waited out and counts for nothing.
TEST_F(OutboxTest, A429UsesUpNoAttemptAndARunOfThemParksNothing) {
  TaskNumber n = open_request(req("ana", "aws", "staging"));  // Dana's
  slack_.rate_limit_next("chat.postMessage", 13, 1, "U0DANA");
  start_bot();
  ASSERT_TRUE(eventually([&] { return slack_.rate_limited() >= 3; }, 10s));
  EXPECT_EQ(raw().number("SELECT attempts FROM outbox WHERE task = " + std::to_string(n)), 0)
      << "three 429s, no attempt used";
  ASSERT_TRUE(has_dms("U0DANA", 1, 30s)) << "delivered after the thirteenth 429";
  drained();
  EXPECT_EQ(slack_.rate_limited(), 13);
  EXPECT_EQ(dms("U0DANA").size(), 1u);
  EXPECT_EQ(parked(), 0);
  // Each retry came after its Retry-After, not before.
  std::vector<RecordedCall> posts = slack_.calls("chat.postMessage");
  for (std::size_t i = 1; i < posts.size(); ++i)
    EXPECT_GE(posts[i].at - posts[i - 1].at, 1s) << "post " << i;
}

// Before: a worker re-claimed the items it held once their lease had passed
// while they waited for their channel's second, and posted them again.
TEST_F(OutboxTest, AShortLeaseWithALongQueueForOneChannelSendsNoDuplicateDm) {
  // Six requests for Dana: six DMs into one channel, a second apart.
  for (const char* who : {"ana", "bo", "carl", "eve", "finn", "gita"})
    open_request(req(who, "aws", "staging"));
  start_bot({{"TOLLGATE_OUTBOX_LEASE_MS", "300"}});
  ASSERT_TRUE(has_dms("U0DANA", 6, 20s));
  drained();
  EXPECT_EQ(dms("U0DANA").size(), 6u) << "each DM once";
  EXPECT_EQ(slack_.rate_limited(), 0);
}

// Before: a message posted whose record failed was forgotten (its copy never
// updated, its thread unknown); now the record is retried from memory until
// it is written, and the message is not posted again meanwhile.
TEST_F(OutboxTest, AMessageWhoseRecordFailsIsRecordedLaterAndNotPostedTwice) {
  TaskNumber n = open_request(req("ana", "aws", "staging"));
  ASSERT_TRUE(raw()
                  .raw("CREATE TRIGGER refuse_records BEFORE INSERT ON slack_messages "
                       "BEGIN SELECT RAISE(ABORT, 'disk full'); END;")
                  .ok());
  start_bot();
  ASSERT_TRUE(has_dms("U0DANA", 1));
  ASSERT_TRUE(bot_->wait_for_log("could not record a call of", 15000ms)) << bot_->log();
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(dms("U0DANA").size(), 1u) << "not posted again while its record fails";
  EXPECT_EQ(reader().messages(n)->size(), 0u);
  ASSERT_TRUE(raw().raw("DROP TRIGGER refuse_records").ok());
  ASSERT_TRUE(eventually([&] { return reader().messages(n)->size() == 1; }, 15s))
      << "recorded once the database takes it";
  drained();
  EXPECT_EQ(dms("U0DANA").size(), 1u);
  // The copy is known: the decision updates it.
  ASSERT_EQ(click("U0DANA", "approve", std::to_string(n) + ":0").status, 200);
  ASSERT_TRUE(eventually([&] { return dms("U0DANA")[0].updates >= 1; }));
}

// Security review, finding 3: an id the store refused to renew was marked lost
// by its id alone, so an item this worker had re-claimed (the claim answered
// before the renewal, sent under the old claim) was dropped as "another
// worker's", and waited out a whole lease. The (id, claim) pair decides.
TEST(OutboxRenewal, AnItemReclaimedAfterTheRenewalWentOutIsNotLost) {
  std::vector<std::pair<std::int64_t, std::string>> sent = {{1, "a1"}, {2, "a2"}, {3, "a3"}};
  std::vector<std::int64_t> refused = {1, 2, 3};
  std::map<std::int64_t, std::string> held = {{1, "a1"}, {2, "b2"}};  // 2 re-claimed; 3 finished
  EXPECT_EQ(lost_on_renewal(sent, refused, held), std::vector<std::int64_t>{1});
  EXPECT_EQ(lost_on_renewal(sent, {}, held), std::vector<std::int64_t>{});
  EXPECT_EQ(lost_on_renewal({{1, "a1"}}, {1, 2}, held), std::vector<std::int64_t>{1})
      << "an id not renewed is not lost by it";
}

// The real server in process on a manual clock: hours of Slack outage pass in
// seconds. Test organisation: Ana's AWS staging goes to her manager Dana.
class OutboxClockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.file("org.json")) << kTestOrg;
    // The request is opened on the same simulated clock: its age is simulated too.
    // With the key the in-process serve will find (the file it would make),
    // so that this first open seals the new log as serve's would.
    auto key = load_audit_key(db(), /*create=*/true);
    ASSERT_TRUE(key.ok()) << key.status().to_string();
    StoreOptions so;
    so.audit_key = key->bytes;
    auto store = open_store(db(), so);
    ASSERT_TRUE(store.ok());
    Engine engine(load_config_text(kTestOrg).directory, clock_);
    auto d = create_and_wait(**store, [&](const Task*, TaskNumber n) {
      return engine.open_request(
          RequestInput{"ana", "", "aws", "staging", "deploy", std::nullopt, false}, n);
    });
    ASSERT_TRUE(d.ok()) << d.status().to_string();
  }
  std::string db() const { return "sqlite:" + dir_.file("tollgate.db"); }
  void start(std::chrono::milliseconds max_age) {
    tollgate::ProcessOptions o;
    o.config = dir_.file("org.json");
    o.db = db();
    o.listen = "127.0.0.1:0";
    o.signing_secret = kSigningSecret;
    o.bot_token = "xoxb-test-token";
    o.slack_api_url = slack_.api_url();
    o.scheduler_interval = 0ms;
    o.clock = &clock_;
    o.outbox_lease = std::chrono::hours(2);  // the clock jumps: no lease lapses in a step
    o.outbox_max_age = max_age;
    o.shutdown_grace = 2000ms;
    bot_ = std::make_unique<Process>(o);
    Status s = bot_->start();
    ASSERT_TRUE(s.ok()) << s.to_string();
  }
  void TearDown() override {
    if (bot_) bot_->shutdown();
    EXPECT_EQ(slack_.violations(), std::vector<std::string>{});
  }
  int failed_posts() {
    int n = 0;
    for (const RecordedCall& c : slack_.calls("chat.postMessage")) n += c.status == 500;
    return n;
  }
  OutboxStats stats() {
    if (!reader_) {
      StoreOptions o;
      o.migrate = false;
      reader_ = std::move(*open_store(db(), o));
    }
    auto s = reader_->outbox_stats();
    return s.ok() ? *s : OutboxStats{-1, -1};
  }
  // Moves simulated time on by `step`, `steps` times. When that makes the
  // effect due, waits until the worker has made the attempt (three calls: the
  // Web API client's own tries) and recorded its outcome: the effect is then
  // due later, parked or gone. As long as a loaded machine needs (up to 30 s
  // a step); a step with nothing due costs one query.
  void pass(Duration step, int steps) {
    TestDatabase raw("sqlite", dir_.path().string());
    for (int i = 0; i < steps; ++i) {
      clock_.advance(step);
      std::string due =
          "SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND next_attempt_at <= " +
          std::to_string(clock_.now().time_since_epoch().count());
      ASSERT_TRUE(eventually([&] { return raw.number(due) == 0; }, 30s))
          << "the attempt due at step " << i << " was made and recorded";
    }
  }
  std::vector<PostedMessage> dms(const std::string& user) { return slack_.messages_in("D" + user); }
  template <typename Pred>
  bool eventually(Pred p, std::chrono::milliseconds timeout = 8000ms) {
    return poll_until(p, timeout, 20ms);
  }

  TempDir dir_;
  FakeSlack slack_;
  ManualClock clock_{test_start()};
  std::unique_ptr<Process> bot_;
  std::unique_ptr<Store> reader_;
};

// Before: twelve failed attempts parked an effect, with backoff capped at
// 30 s: a Slack outage of six minutes parked everything decided during it.
TEST_F(OutboxClockTest, AnHourOfSlackOutageParksNothingAndAllIsDeliveredAfter) {
  slack_.fail_for(std::chrono::hours(1));
  start(std::chrono::hours(24));
  pass(std::chrono::minutes(4), 16);  // 64 minutes
  EXPECT_GT(failed_posts(), 3 * 10) << "it kept trying";
  EXPECT_EQ(stats().parked, 0);
  EXPECT_TRUE(dms("UDANA").empty());
  slack_.fail_for(0ms);                     // Slack is back
  clock_.advance(std::chrono::minutes(7));  // past the longest backoff (5 min, jitter)
  ASSERT_TRUE(eventually([&] { return dms("UDANA").size() == 1; }));
  ASSERT_TRUE(eventually([&] { return stats().pending == 0; }));
  EXPECT_EQ(stats().parked, 0);
  EXPECT_EQ(dms("UDANA").size(), 1u);
}

// ... and it is given up on by age instead: undelivered max_age after it was
// decided, its next failure parks it, with the reason.
TEST_F(OutboxClockTest, AnEffectStillUndeliveredAfterMaxAgeIsParked) {
  slack_.fail_for(std::chrono::hours(1));
  start(std::chrono::minutes(30));
  pass(std::chrono::minutes(7), 4);  // 28 minutes
  EXPECT_EQ(stats().parked, 0) << "younger than max_age";
  pass(std::chrono::minutes(7), 2);  // 42 minutes
  ASSERT_EQ(stats().parked, 1);
  StoreOptions o;
  o.migrate = false;
  auto parked = (*open_store(db(), o))->parked_outbox(10);
  ASSERT_TRUE(parked.ok() && parked->size() == 1u);
  EXPECT_NE((*parked)[0].last_error.find("given up"), std::string::npos) << (*parked)[0].last_error;
  slack_.fail_for(0ms);
  clock_.advance(std::chrono::minutes(10));
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(dms("UDANA").empty()) << "parked: not sent until requeued";
}

}  // namespace
}  // namespace tollgate::testing
