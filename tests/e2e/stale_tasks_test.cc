// Beyond the DM, end to end and in one process: the real server (Process)
// with a manual clock, a real SQLite file, the fake Slack, and a real SMTP
// server on loopback. Reminders, escalation and expiry follow the simulated
// clock across a restart; quiet hours follow each assignee's Slack time zone;
// mails arrive over STARTTLS with AUTH; delegation is set from Slack and from
// the admin API; the audit export carries permalinks and still verifies.
#include <cstdlib>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "cmd/tollgate/process.h"
#include "storage/store.h"
#include "sandbox/fake_slack.h"
#include "tests/support/http_client.h"
#include "tests/support/poll.h"
#include "tests/support/slack_requests.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_org.h"
#include "base/time_text.h"

namespace tollgate::testing {

namespace {

using std::chrono::days;
using std::chrono::hours;

constexpr const char* kApiToken = "api-token-for-tests-0123456789abcdef";

// The test organisation; "manager-only" (ana's AWS staging) gets service
// levels, and dana and ana want mail too.
std::string org() {
  std::string o = replaced(kTestOrg, R"({"reviewers": {"type": "manager"}, "fallback": ["sam"]}]},
    {"id": "two-step")",
                           R"({"reviewers": {"type": "manager"}, "fallback": ["sam"],
         "sla": {"remind_after": "24h", "escalate_after": "72h", "escalate_to": "manager",
                 "expire_after": "7d"}}]},
    {"id": "two-step")");
  o = replaced(o, R"("slack_user_id": "UDANA", "manager": "boss"})",
               R"("slack_user_id": "UDANA", "manager": "boss", "notify": ["slack", "email"]})");
  o = replaced(o, R"("slack_user_id": "UANA", "manager": "dana", "started": "2026-11-20"})",
               R"("slack_user_id": "UANA", "manager": "dana", "started": "2026-11-20", )"
               R"("notify": ["slack", "email"]})");
  return o;
}

std::string base64_decode(const std::string& in) {
  std::string clean;
  for (char c : in) {
    if (c != '\r' && c != '\n') clean += c;
  }
  std::string out(clean.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clean.data()),
                          static_cast<int>(clean.size()));
  if (n < 0) return {};
  while (!clean.empty() && clean.back() == '=') {
    clean.pop_back();
    --n;
  }
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// The decoded body of the MIME part of `type` ("text/plain", "text/html"). It ends at the
// boundary of the multipart that holds it: the last "boundary=" before the part's
// Content-Type (libcurl picks it).
std::string mime_part(const std::string& data, const std::string& type) {
  auto at = data.find("Content-Type: " + type);
  auto named = data.rfind("boundary=", at);
  if (at == std::string::npos || named == std::string::npos) return {};
  std::string boundary = data.substr(named + 9, data.find_first_of(";\r\n", named) - named - 9);
  if (boundary.size() >= 2 && boundary.front() == '"')
    boundary = boundary.substr(1, boundary.size() - 2);
  auto body = data.find("\r\n\r\n", at);
  if (body == std::string::npos) body = data.find("\n\n", at);
  auto end = data.find("--" + boundary, body);
  return base64_decode(data.substr(body, end - body));
}

class StaleTasksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.file("org.json")) << org();
    slack_.add_user({"UDANA", "dana@t.test", "America/Los_Angeles", -8 * 3600});
    slack_.add_user({"UBOSS", "boss@t.test", "Europe/Paris", 3600});
    slack_.add_user({"UANA", "ana@t.test", "Europe/Lisbon", 0});
    slack_.add_user({"UOLGA", "olga@t.test", "Asia/Tokyo", 9 * 3600});
    slack_.add_user({"USAM", "sam@t.test", "Europe/London", 0});
  }

  void start(std::string smtp_url = {}) {
    tollgate::ProcessOptions o;
    o.config = dir_.file("org.json");
    o.db = "sqlite:" + dir_.file("tollgate.db");
    o.listen = "127.0.0.1:0";
    o.signing_secret = kSigningSecret;
    o.bot_token = "xoxb-test-token";
    o.slack_api_url = slack_.api_url();
    o.api_token = kApiToken;
    o.smtp_url = std::move(smtp_url);
    o.smtp_from = "Tollgate <tollgate@t.test>";
    o.scheduler_interval = std::chrono::milliseconds(0);  // this test drives it
    o.clock = &clock_;
    o.shutdown_grace = std::chrono::milliseconds(2000);
    bot_ = std::make_unique<Process>(o);
    Status s = bot_->start();
    ASSERT_TRUE(s.ok()) << s.to_string();
    client_ = std::make_unique<HttpClient>(bot_->port());
  }
  void stop() {
    client_.reset();
    if (bot_) bot_->shutdown();
    bot_.reset();
  }
  void TearDown() override {
    stop();
    EXPECT_EQ(slack_.violations(), std::vector<std::string>{});
  }

  std::string command(const std::string& user, const std::string& text) {
    HttpResult r = post_command(*client_, user, text, slack_.response_url("cmd"));
    EXPECT_EQ(r.status, 200) << r.body;
    return answer_text(r.body);
  }
  HttpResult api(const std::string& method, const std::string& target,
                 const std::string& body = {}) {
    return client_->request(method, target, body,
                            {{"Authorization", std::string("Bearer ") + kApiToken},
                             {"Content-Type", "application/json"}});
  }

  // One scheduler pass once every assignee's time zone is known.
  SchedulerPass pass() {
    SchedulerPass p;
    for (int i = 0; i < 1000; ++i) {  // up to 10 s: users.info answers late on a slow machine
      p = bot_->run_scheduler_once();
      if (p.waiting_zone == 0) return p;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "time zones never learnt";
    return p;
  }

  // Waits for `p`. Simulated time runs on meanwhile (ten times as fast as
  // real time), so that deliveries Slack asked to retry later fall due.
  template <typename Pred>
  bool eventually(Pred p, std::chrono::milliseconds timeout = std::chrono::milliseconds(20000)) {
    return poll_until(p, timeout, std::chrono::milliseconds(10),
                      [&] { clock_.advance(std::chrono::milliseconds(100)); });
  }
  std::vector<PostedMessage> dms(const std::string& user) { return slack_.messages_in("D" + user); }

  Store& reader() {
    if (!reader_) {
      StoreOptions o;
      o.migrate = false;
      auto s = open_store("sqlite:" + dir_.file("tollgate.db"), o);
      EXPECT_TRUE(s.ok()) << s.status().to_string();
      reader_ = std::move(*s);
    }
    return *reader_;
  }
  int events_of(TaskNumber n, const std::string& type) {
    auto ev = reader().task_events(n);
    int count = 0;
    if (ev.ok()) {
      for (const StoredEvent& e : *ev) count += e.event.type == type ? 1 : 0;
    }
    return count;
  }
  void at(Duration since_start) { clock_.set(test_start() + since_start); }

  TempDir dir_;
  FakeSlack slack_;
  ManualClock clock_{test_start()};  // Thursday 2026-11-26 10:00 UTC
  std::unique_ptr<Process> bot_;
  std::unique_ptr<HttpClient> client_;
  std::unique_ptr<Store> reader_;
};

TEST_F(StaleTasksTest, RemindersEscalationAndExpiryFollowTheClockAcrossARestart) {
  start();
  EXPECT_EQ(command("UANA", "request aws/staging -- deploy the fix"),
            "Requested AWS / Staging as #1: with Dana Reyes (step 1 of 1).");
  ASSERT_TRUE(eventually([&] { return dms("UDANA").size() == 1; }));
  const std::string parent = dms("UDANA")[0].ts;

  // Friday 10:00 UTC is 02:00 for dana in Los Angeles: held back.
  at(hours(24));
  SchedulerPass p = pass();
  EXPECT_EQ(p.quiet, 1);
  EXPECT_EQ(p.reminded, 0);
  // 08:00 there: the reminder, in the thread of her message, mentioning her.
  at(hours(30));
  p = pass();
  EXPECT_EQ(p.reminded, 1);
  ASSERT_TRUE(eventually([&] { return dms("UDANA").size() == 2; })) << dms("UDANA").size();
  PostedMessage reminder = dms("UDANA")[1];
  EXPECT_EQ(reminder.thread_ts, parent);
  EXPECT_NE(reminder.blocks.find("<@UDANA> a reminder: Access request #1"), std::string::npos)
      << reminder.blocks;
  EXPECT_NE(reminder.text.find("has been waiting for you for 1d6h"), std::string::npos)
      << reminder.text;
  // Asked again, and after a restart: sent once.
  EXPECT_EQ(pass().reminded, 0);
  stop();
  start();
  EXPECT_EQ(pass().reminded, 0);
  EXPECT_EQ(events_of(1, "reminded"), 1);

  // Saturday 08:00 in Los Angeles: due again, but a weekend.
  at(hours(54));
  p = pass();
  EXPECT_EQ(p.reminded, 0);
  EXPECT_EQ(p.quiet, 1);

  // Sunday 10:00 UTC, 72 hours on: escalated to dana's manager (escalation
  // keeps no quiet hours), with the reason in the history and the threads.
  at(hours(72));
  p = pass();
  EXPECT_EQ(p.escalated, 1);
  ASSERT_TRUE(eventually([&] { return dms("UBOSS").size() == 1; }));
  EXPECT_NE(dms("UBOSS")[0].blocks.find("Approve"), std::string::npos);
  Task t = *reader().task(1);
  EXPECT_EQ(t.assignees(), std::vector<PersonId>{"boss"});
  EXPECT_EQ(t.comments.back().text, "No decision after 3d: escalated to Bea Boss");
  ASSERT_TRUE(eventually([&] { return has_reply(dms("UDANA"), parent, "escalated to Bea Boss"); }))
      << "the automatic reason is posted in dana's thread";

  // Monday 10:00 UTC is 11:00 in Paris: boss is reminded, in his own thread.
  at(hours(96));
  EXPECT_EQ(pass().reminded, 1);
  ASSERT_TRUE(eventually([&] { return dms("UBOSS").size() == 2; }));
  EXPECT_EQ(dms("UBOSS")[1].thread_ts, dms("UBOSS")[0].ts);
  EXPECT_NE(dms("UBOSS")[1].blocks.find("<@UBOSS>"), std::string::npos);

  // A week on: expired; the requester is told, and a late click says so.
  at(days(7));
  p = pass();
  EXPECT_EQ(p.expired, 1);
  EXPECT_EQ(reader().task(1)->state, TaskState::cancelled);
  ASSERT_TRUE(eventually([&] {
    for (const PostedMessage& m : dms("UANA")) {
      if (m.text.find("expired: nobody decided within 7d") != std::string::npos) return true;
    }
    return false;
  })) << "ana is told";
  EXPECT_EQ(pass().expired, 0);
  EXPECT_EQ(events_of(1, "reminded"), 2);
  EXPECT_EQ(events_of(1, "escalated"), 1);
  EXPECT_EQ(events_of(1, "expired"), 1);
  auto chain = reader().verify_chain();
  ASSERT_TRUE(chain.ok());
  EXPECT_FALSE(chain->broken_seq.has_value());
}

TEST_F(StaleTasksTest, MailsReachTheSmtpServerOverStartTlsWithTheRightPeopleAndContent) {
  SmtpSink smtp(dir_.path().string());
  ASSERT_TRUE(smtp.ok()) << "python3-aiosmtpd is needed (scripts/deps.sh installs it)";
  ::setenv("SSL_CERT_FILE", smtp.cert().c_str(), 1);  // trust the test server's certificate
  start(smtp.url());
  EXPECT_EQ(command("UANA", "request aws/staging -- deploy the fix"),
            "Requested AWS / Staging as #1: with Dana Reyes (step 1 of 1).");
  auto mails = smtp.wait_for(1);
  ASSERT_EQ(mails.size(), 1u);
  const ReceivedMail& m = mails[0];
  EXPECT_EQ(m.rcpt_tos, std::vector<std::string>{"dana@t.test"});
  EXPECT_EQ(m.mail_from, "tollgate@t.test");
  EXPECT_EQ(m.login, "tollgate");
  EXPECT_TRUE(m.tls);
  EXPECT_NE(m.data.find("Subject: [Tollgate] Please review: #1 AWS / Staging for Ana Silva"),
            std::string::npos)
      << m.data;
  EXPECT_NE(m.data.find("To: Dana Reyes <dana@t.test>"), std::string::npos);
  EXPECT_NE(m.data.find("multipart/alternative"), std::string::npos);
  std::string text = mime_part(m.data, "text/plain");
  std::string html = mime_part(m.data, "text/html");
  EXPECT_NE(text.find("Access request #1 is waiting for you to review it."), std::string::npos)
      << text;
  EXPECT_NE(text.find("Justification: deploy the fix"), std::string::npos) << text;
  // The link opens her message about the task in Slack.
  ASSERT_EQ(dms("UDANA").size(), 1u);
  std::string ts = dms("UDANA")[0].ts;
  std::string link = "https://tollgate-test.slack.com/archives/DUDANA/p" +
                     ts.substr(0, ts.find('.')) + ts.substr(ts.find('.') + 1);
  EXPECT_NE(text.find(link), std::string::npos) << text;
  EXPECT_NE(html.find("<a href=\"" + link + "\">Open #1 in Slack</a>"), std::string::npos) << html;

  // Dana denies in Slack: ana gets the outcome by mail too.
  auto r = post_signed(*client_, "/slack/interactions",
                       block_action("UDANA", "deny", "1:0", slack_.response_url("r1"),
                                    slack_.trigger_id(), "T0TEST", "DUDANA", ts),
                       kForm);
  EXPECT_EQ(r.status, 200);
  mails = smtp.wait_for(2);
  ASSERT_EQ(mails.size(), 2u);
  EXPECT_EQ(mails[1].rcpt_tos, std::vector<std::string>{"ana@t.test"});
  EXPECT_NE(mime_part(mails[1].data, "text/plain")
                .find("Your access request #1 was denied by Dana Reyes."),
            std::string::npos)
      << mails[1].data;
  ::unsetenv("SSL_CERT_FILE");
}

TEST_F(StaleTasksTest, AWrongSmtpPasswordParksTheMailWithTheServersAnswer) {
  SmtpSink smtp(dir_.path().string());
  ASSERT_TRUE(smtp.ok());
  ::setenv("SSL_CERT_FILE", smtp.cert().c_str(), 1);
  start(smtp.url("wrong"));
  command("UANA", "request aws/staging -- deploy the fix");
  ASSERT_TRUE(eventually([&] {
    auto s = reader().outbox_stats();
    return s.ok() && s->parked == 1;
  })) << "535 is final: parked, not retried forever";
  EXPECT_TRUE(smtp.mails().empty());
  EXPECT_EQ(dms("UDANA").size(), 1u) << "Slack got its message regardless";
  ::unsetenv("SSL_CERT_FILE");
}

TEST_F(StaleTasksTest, DelegationFromSlackAndFromTheApi) {
  start();
  EXPECT_EQ(command("UDANA", "delegate <@UOLGA|olga> until 2026-12-24"),
            ":palm_tree: Until the end of 2026-12-24, your new reviews go to Olga Ivanova. Tasks "
            "already yours stay with you. `/tasks delegate off` ends it early.");
  EXPECT_EQ(command("UDANA", "delegate"),
            "Your new reviews go to Olga Ivanova until 2026-12-25 00:00 UTC. `/tasks delegate "
            "off` ends it.");
  EXPECT_EQ(command("UANA", "request aws/staging -- deploy"),
            "Requested AWS / Staging as #1: with Olga Ivanova (step 1 of 1).");
  ASSERT_TRUE(eventually([&] { return dms("UOLGA").size() == 1; }));
  EXPECT_NE(dms("UOLGA")[0].blocks.find("Delegated to you: Dana Reyes is out of office"),
            std::string::npos);
  EXPECT_TRUE(dms("UDANA").empty());
  EXPECT_EQ(command("UDANA", "delegate <@UOLGA> until 2020-01-01"),
            "the end of the delegation is in the past");
  EXPECT_EQ(command("UDANA", "delegate off"), "Welcome back: your new reviews come to you again.");
  EXPECT_EQ(command("UDANA", "delegate off"), "You have no delegate set.");
  EXPECT_EQ(command("UANA", "request github/member -- again"),
            "Requested GitHub / Member as #2: with Dana Reyes (step 1 of 3).");

  // The admin API: set, read, list, refuse, end.
  auto set =
      api("PUT", "/api/v1/people/dana/delegation", R"({"delegate": "sam", "until": "2026-12-01"})");
  EXPECT_EQ(set.status, 200) << set.body;
  EXPECT_NE(set.body.find(R"("delegate":"sam","until":"2026-12-02T00:00:00.000Z")"),
            std::string::npos)
      << set.body;
  auto list = api("GET", "/api/v1/delegations");
  EXPECT_EQ(list.status, 200);
  EXPECT_NE(list.body.find(R"("person":"dana","delegate":"sam")"), std::string::npos) << list.body;
  EXPECT_NE(list.body.find(R"("active":true)"), std::string::npos);
  EXPECT_EQ(command("UANA", "request github/admin -- third"),
            "Requested GitHub / Org admin as #3: with Sam Okafor (step 1 of 4).");
  auto bad =
      api("PUT", "/api/v1/people/dana/delegation", R"({"delegate": "sam", "until": "soon"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("field `until`"), std::string::npos) << bad.body;
  auto self = api("PUT", "/api/v1/people/dana/delegation",
                  R"({"delegate": "dana", "until": "2026-12-01"})");
  EXPECT_EQ(self.status, 400) << self.body;
  auto nobody =
      api("PUT", "/api/v1/people/dana/delegation", R"({"delegate": "zed", "until": "2026-12-01"})");
  EXPECT_EQ(nobody.status, 404) << nobody.body;
  auto other = api("PUT", "/api/v1/people/dana/delegation",
                   R"({"delegate": "sam", "until": "2026-12-01", "by": "bo"})");
  EXPECT_EQ(other.status, 403) << other.body;
  auto unauth = client_->request("GET", "/api/v1/delegations");
  EXPECT_EQ(unauth.status, 401);
  EXPECT_EQ(api("DELETE", "/api/v1/people/dana/delegation").status, 204);
  EXPECT_EQ(api("DELETE", "/api/v1/people/dana/delegation").status, 404);
  EXPECT_EQ(api("GET", "/api/v1/people/dana/delegation").status, 404);
  // Every change is in the history, in the hash chain.
  auto history = reader().task_events(0);
  ASSERT_TRUE(history.ok());
  std::vector<std::string> types;
  for (const StoredEvent& e : *history) {
    if (e.event.type != "access_seed") types.push_back(e.event.type);  // the config's grants
  }
  EXPECT_EQ(types, (std::vector<std::string>{"delegation_set", "delegation_cleared",
                                             "delegation_set", "delegation_cleared"}));
}

TEST_F(StaleTasksTest, TheAuditExportLinksEventsToTheirSlackMessagesAndVerifies) {
  start();
  command("UANA", "request aws/staging -- deploy the fix");
  ASSERT_TRUE(eventually([&] { return dms("UDANA").size() == 1; }));
  std::string ts = dms("UDANA")[0].ts;
  auto r = post_signed(*client_, "/slack/interactions",
                       block_action("UDANA", "approve", "1:0", slack_.response_url("r1"),
                                    slack_.trigger_id(), "T0TEST", "DUDANA", ts),
                       kForm);
  EXPECT_EQ(r.status, 200);
  ASSERT_TRUE(eventually([&] { return reader().task(1)->state == TaskState::granted; }));
  stop();
  std::string out = dir_.file("audit.jsonl");
  std::string cmd = std::string(TOLLGATE_BINARY) +
                    " audit export --db sqlite:" + dir_.file("tollgate.db") + " --config " +
                    dir_.file("org.json") + " > " + out;
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream f(out);
  std::string line, approved;
  int lines = 0;
  while (std::getline(f, line)) {
    ++lines;
    if (line.find(R"("type":"approved")") != std::string::npos) approved = line;
  }
  EXPECT_GE(lines, 4);
  std::string link = "https://tollgate-test.slack.com/archives/DUDANA/p" +
                     ts.substr(0, ts.find('.')) + ts.substr(ts.find('.') + 1);
  EXPECT_NE(approved.find(R"("slack_permalink":")" + link + "\""), std::string::npos) << approved;
  EXPECT_NE(approved.find(R"("actor":"dana","actor_person":"dana","actor_name":"Dana Reyes",)"
                          R"("actor_slack_id":"UDANA")"),
            std::string::npos)
      << approved;
  std::string verify = std::string(TOLLGATE_BINARY) +
                       " audit verify --db sqlite:" + dir_.file("tollgate.db") + " > /dev/null";
  EXPECT_EQ(std::system(verify.c_str()), 0);
}

}  // namespace
}  // namespace tollgate::testing
