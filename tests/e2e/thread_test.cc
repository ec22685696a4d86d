// Thread mirroring: replies in a task message's thread become comments, once,
// edits and deletions follow, and comments made elsewhere reach every thread
// without coming back.
#include <gtest/gtest.h>

#include "tests/e2e/edge_fixture.h"

namespace tollgate::testing {
namespace {

using namespace std::chrono_literals;

class ThreadTest : public EdgeTest {
 protected:
  // Opens Ana's staging request and waits for Dana's DM; returns its ts.
  std::string setup() {
    n_ = open_request(req("ana", "aws", "staging"));
    start_bot();
    EXPECT_TRUE(has_dms("U0DANA", 1));
    if (dms("U0DANA").empty()) return "";
    std::string ts = dms("U0DANA")[0].ts;
    EXPECT_TRUE(recorded("DU0DANA", ts));
    return ts;
  }
  HttpResult send_event(const std::string& id, const std::string& event, Headers extra = {}) {
    return post_signed(*client_, "/slack/events", event_callback(id, event), kJson,
                       std::move(extra));
  }
  std::vector<Comment> comments() { return task(n_).comments; }

  TaskNumber n_ = 0;
};

TEST_F(ThreadTest, AReplyBecomesACommentExactlyOnceEvenWhenSlackRetries) {
  std::string parent = setup();
  std::string ev =
      reply_event("DU0DANA", parent, "1700000099.000001", "U0DANA",
                  "Looks fine, <@U0ANA> &amp; <https://wiki.acme.test/keys|the runbook> agree");
  EXPECT_EQ(send_event("Ev0R1", ev).status, 200);
  EXPECT_EQ(send_event("Ev0R1", ev,
                       {{"X-Slack-Retry-Num", "1"}, {"X-Slack-Retry-Reason", "http_timeout"}})
                .status,
            200);
  auto c = comments();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].author, "dana");
  EXPECT_EQ(c[0].source, "slack");
  EXPECT_EQ(c[0].text, "Looks fine, @Ana Silva & the runbook (https://wiki.acme.test/keys) agree");
  // A Slack user outside the directory is involved in nothing: not mirrored
  // (need to know; tests/e2e/trust_test.cc has the rest).
  EXPECT_EQ(
      send_event("Ev0R2", reply_event("DU0DANA", parent, "1700000099.000002", "U0GUEST", "+1"))
          .status,
      200);
  EXPECT_EQ(comments().size(), 1u);
  // A reply in some other thread is not ours.
  EXPECT_EQ(send_event("Ev0R3", reply_event("DU0DANA", "1600000000.000001", "1700000099.000003",
                                            "U0DANA", "x"))
                .status,
            200);
  EXPECT_EQ(comments().size(), 1u);
}

TEST_F(ThreadTest, AnEditChangesTheCommentAndADeletionRemovesIt) {
  std::string parent = setup();
  ASSERT_EQ(send_event("Ev0E1", reply_event("DU0DANA", parent, "1700000099.000010", "U0DANA",
                                            "approve later"))
                .status,
            200);
  std::string changed =
      R"({"type":"message","subtype":"message_changed","hidden":true,"channel":"DU0DANA","ts":"1700000100.000001","message":{"type":"message","user":"U0DANA","text":"approving now","ts":"1700000099.000010","thread_ts":")" +
      parent +
      R"(","edited":{"user":"U0DANA","ts":"1700000100.000001"}},"previous_message":{"type":"message","user":"U0DANA","text":"approve later","ts":"1700000099.000010","thread_ts":")" +
      parent + R"("},"event_ts":"1700000100.000001"})";
  EXPECT_EQ(send_event("Ev0E2", changed).status, 200);
  auto c = comments();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].text, "approving now");
  EXPECT_TRUE(c[0].edited_at);
  // The parent's own message_changed (its reply count) and a tombstone change nothing.
  std::string parent_count =
      R"({"type":"message","subtype":"message_changed","hidden":true,"channel":"DU0DANA","ts":"1700000100.000002","message":{"type":"message","user":"U0BOT2","text":"task","ts":")" +
      parent + R"(","thread_ts":")" + parent +
      R"(","reply_count":1},"previous_message":{"type":"message","text":"task","ts":")" + parent +
      R"("}})";
  EXPECT_EQ(send_event("Ev0E3", parent_count).status, 200);
  std::string tombstone =
      R"({"type":"message","subtype":"message_changed","hidden":true,"channel":"DU0DANA","ts":"1700000100.000003","message":{"type":"message","subtype":"tombstone","user":"USLACKBOT","text":"This message was deleted.","ts":")" +
      parent + R"(","thread_ts":")" + parent + R"("},"previous_message":[]})";
  EXPECT_EQ(send_event("Ev0E4", tombstone).status, 200);
  EXPECT_EQ(comments()[0].text, "approving now");
  std::string deleted =
      R"({"type":"message","subtype":"message_deleted","hidden":true,"channel":"DU0DANA","ts":"1700000100.000004","deleted_ts":"1700000099.000010","previous_message":{"type":"message","user":"U0DANA","text":"approving now","ts":"1700000099.000010","thread_ts":")" +
      parent + R"("},"event_ts":"1700000100.000004"})";
  EXPECT_EQ(send_event("Ev0E5", deleted).status, 200);
  EXPECT_TRUE(comments()[0].deleted);
  // Only its author may change a comment: an edit claiming to be someone else's is refused.
  EXPECT_EQ(comments().size(), 1u);
}

TEST_F(ThreadTest, ACommentMadeElsewhereReachesTheThreadAndDoesNotComeBack) {
  std::string parent = setup();
  HttpResult r = post_signed(
      *client_, "/slack/commands",
      slash_command("U0ANA", "comment " + std::to_string(n_) + " need it for the incident drill",
                    slack_.response_url("c")),
      kForm);
  EXPECT_TRUE(contains(r.body, "Commented on #" + std::to_string(n_))) << r.body;
  ASSERT_TRUE(eventually([&] {
    return has_reply(dms("U0DANA"), parent, "Ana Silva: need it for the incident drill");
  }));
  // Slack echoes the bot's own post as an event: it is not a second comment.
  std::string echo =
      R"({"type":"message","channel":"DU0DANA","user":"U0BOT","bot_id":"B0BOT","app_id":"A0TEST","text":"Ana Silva: need it for the incident drill","ts":"1700000200.000001","thread_ts":")" +
      parent + R"("})";
  EXPECT_EQ(send_event("Ev0C1", echo).status, 200);
  auto c = comments();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].source, "command");
}

TEST_F(ThreadTest, AReplyInOneCopysThreadIsPostedIntoTheOthersButNotBack) {
  TaskNumber n = open_request(req("ana", "github", "admin"));
  n_ = n;
  start_bot();
  ASSERT_TRUE(has_dms("U0DANA", 1));
  ASSERT_EQ(click("U0DANA", "approve", std::to_string(n) + ":0").status, 200);
  ASSERT_TRUE(has_dms("U0EVE", 1));
  ASSERT_EQ(click("U0EVE", "approve", std::to_string(n) + ":1").status, 200);
  for (const char* u : {"U0SAM", "U0LEE", "U0NORA"}) ASSERT_TRUE(has_dms(u, 1)) << u;
  std::string sam_parent = dms("U0SAM")[0].ts;
  ASSERT_EQ(send_event("Ev0M1", reply_event("DU0SAM", sam_parent, "1700000300.000001", "U0SAM",
                                            "who is on call?"))
                .status,
            200);
  for (const char* u : {"U0LEE", "U0NORA", "U0DANA", "U0EVE"}) {
    std::string user = u;
    ASSERT_TRUE(eventually([&] {
      for (const PostedMessage& m : dms(user)) {
        if (!m.thread_ts.empty() && contains(m.text, "Sam Okafor: who is on call?")) return true;
      }
      return false;
    })) << u;
  }
  std::this_thread::sleep_for(300ms);
  for (const PostedMessage& m : dms("U0SAM")) {
    EXPECT_FALSE(!m.thread_ts.empty() && contains(m.text, "who is on call?"))
        << "not back into its own thread";
  }
}

}  // namespace
}  // namespace tollgate::testing
