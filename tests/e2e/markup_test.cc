// Hostile markup through every way in, checked on every way out: text that
// carries Slack's control sequences (<!channel>, <!here>, <@U…>, links), the
// three escaped characters and 4-byte emoji at every truncation boundary is
// stored as the person typed it and shown to readers as text, never as a live
// mention, broadcast or link, never escaped twice, never cut inside a
// character or an entity, in valid UTF-8 (the strict fake checks every limit).
#include <gtest/gtest.h>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "tests/e2e/edge_fixture.h"

namespace tollgate::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kToken = "markup-test-token-0123456789abcdef";
const std::string kKey = "\xF0\x9F\x94\x91";  // U+1F511, four bytes in UTF-8

// A run of entities-to-be and 4-byte emoji long enough to cross every limit (120, 150,
// 2000, 3000 characters): wherever a cut falls, it falls beside one of them.
std::string long_run() {
  std::string run;
  for (int i = 0; i < 700; ++i) run += "&" + kKey + "<é>";
  return run;
}

// What a person typed: control sequences as text, and the long run.
std::string typed() {
  return "<!channel> <!here> <@U0EVIL> <https://evil.example|Approve in Okta> & < > " + long_run();
}

// The same as Slack sends it in a slash command or a message event: &, < and > escaped
// where the person typed them, and the sequences Slack itself writes for @channel, @here,
// a mention and a link.
std::string as_slack_sends_it() {
  std::string run;
  for (char c : long_run()) {
    if (c == '&') run += "&amp;";
    else if (c == '<') run += "&lt;";
    else if (c == '>') run += "&gt;";
    else run += c;
  }
  return "<!channel> <!here> <@U0EVIL> <https://evil.example|Approve in Okta> &amp; &lt; &gt; " +
         run;
}

// Every string of a JSON value, with whether it is the text of a mrkdwn object or a
// message's top-level text (both read as mrkdwn by Slack).
void strings(const json::Value& v, bool mrkdwn_parent, const std::string& path,
             std::vector<std::tuple<std::string, std::string, bool>>& out) {
  if (v.IsString()) {
    out.emplace_back(path, std::string(v.GetString(), v.GetStringLength()), mrkdwn_parent);
  } else if (v.IsArray()) {
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i)
      strings(v[i], false, path + "/" + std::to_string(i), out);
  } else if (v.IsObject()) {
    // A mrkdwn object that is not verbatim lets Slack link bare URLs and "@here"-like words.
    if (json::str(v, "type") == "mrkdwn" && !json::boolean(v, "verbatim"))
      out.emplace_back(path + "/verbatim", "<not verbatim>", true);
    bool is_mrkdwn = json::str(v, "type") == "mrkdwn" || path.empty();  // top level: message text
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      std::string key(it->name.GetString(), it->name.GetStringLength());
      strings(it->value, is_mrkdwn && key == "text", path + "/" + key, out);
    }
  }
}

// The reasons Slack's reader would see the payload's text other than as written.
std::vector<std::string> markup_problems(const std::string& what, const std::string& body) {
  std::vector<std::string> problems;
  rapidjson::Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag>(body.c_str());
  if (d.HasParseError()) {
    problems.push_back(what + ": not valid JSON in UTF-8: " +
                       rapidjson::GetParseError_En(d.GetParseError()));
    return problems;
  }
  std::vector<std::tuple<std::string, std::string, bool>> all;
  strings(d, false, "", all);
  for (const auto& [path, s, mrkdwn] : all) {
    if (s.find("&amp;amp;") != std::string::npos || s.find("&amp;lt;") != std::string::npos)
      problems.push_back(what + " " + path + ": escaped twice");
    if (!mrkdwn) {
      if (path.find("/value") == std::string::npos && path.find("private_metadata") == std::string::npos &&
          (s.find("&lt;") != std::string::npos || s.find("&amp;") != std::string::npos))
        problems.push_back(what + " " + path + ": an entity in plain text reads as one");
      continue;
    }
    for (std::size_t i = s.find('<'); i != std::string::npos; i = s.find('<', i + 1))
      problems.push_back(what + " " + path + ": live markup at " + s.substr(i, 20));
    for (std::size_t i = s.find('&'); i != std::string::npos; i = s.find('&', i + 1)) {
      std::string_view rest = std::string_view(s).substr(i);
      if (rest.rfind("&amp;", 0) != 0 && rest.rfind("&lt;", 0) != 0 && rest.rfind("&gt;", 0) != 0)
        problems.push_back(what + " " + path + ": a bare or cut entity at " + s.substr(i, 12));
    }
  }
  return problems;
}

class MarkupTest : public EdgeTest {
 protected:
  // `/tasks <text>` as `user` types it, Slack-escaped; the answer's body is kept.
  std::string tasks(const std::string& user, const std::string& text) {
    HttpResult r = tasks_command(user, text);
    EXPECT_EQ(r.status, 200);
    answers_.push_back(r.body);
    return answer_text(r.body);
  }
  HttpResult submit(const std::string& user, const std::string& callback,
                    const std::string& meta, const std::string& reason,
                    const std::string& assignee = {}) {
    HttpResult r = post_signed(*client_, "/slack/interactions",
                               view_submission(user, callback, meta, reason, assignee), kForm);
    answers_.push_back(r.body);
    return r;
  }
  HttpResult api_comment(TaskNumber n, const std::string& text) {
    return client_->request("POST", "/api/v1/tasks/" + std::to_string(n) + "/comments",
                            R"({"author":"eve","text":)" + json::quote(text) + "}",
                            {{"Content-Type", "application/json"},
                             {"Authorization", std::string("Bearer ") + kToken}});
  }

  std::vector<std::string> answers_;  // what Tollgate answered in HTTP
};

TEST_F(MarkupTest, HostileTextIsShownAsWrittenOnEverySurface) {
  const std::string slack_text = as_slack_sends_it();
  const std::string plain = typed();
  // A second request, decided in bulk from the App Home below (opened before the bot runs).
  TaskNumber second = open_request(req("finn", "aws", "staging", plain));
  EXPECT_TRUE(task(second).justification == plain);
  start_bot({{"TOLLGATE_API_TOKEN", kToken}});
  // The text Slack's escaping undoes into: the special sequences read as text.
  const std::string stored =
      "@channel @here @U0EVIL Approve in Okta (https://evil.example) & < > " + long_run();

  // In: a request's justification, from the slash command, in Slack's escaped form.
  std::string out = tasks("U0FINN", "request github/maintainer -- " + slack_text);
  const TaskNumber n = second + 1;
  const std::string t = std::to_string(n);
  ASSERT_TRUE(contains(out, "#" + t)) << out.substr(0, 300);
  EXPECT_TRUE(task(n).justification == stored);
  ASSERT_TRUE(has_dms("U0DANA", 2));

  // In: an approval's reason, by command.
  out = tasks("U0DANA", "approve " + t + " -- " + slack_text);
  EXPECT_TRUE(contains(out, ":white_check_mark:")) << out.substr(0, 300);
  EXPECT_TRUE(task(n).steps[0].comment == stored);
  ASSERT_TRUE(has_dms("U0EVE", 1));

  // Out: /tasks list and show, the details modal, the App Home.
  tasks("U0EVE", "list");
  tasks("U0EVE", "show " + t);
  ASSERT_EQ(click("U0EVE", "more", "details:" + t + ":1").status, 200);
  open_home("U0EVE");
  open_home("U0DANA");

  // In: a comment by command, a thread reply, the admin API.
  tasks("U0EVE", "comment " + t + " " + slack_text);
  std::string parent = dms("U0EVE")[0].ts;
  ASSERT_TRUE(recorded("DU0EVE", parent));
  std::string reply = R"({"type":"message","channel":"DU0EVE","channel_type":"im","user":"U0EVE","text":)" +
                      json::quote(slack_text) + R"(,"ts":"1700000099.000001","thread_ts":)" +
                      json::quote(parent) + R"(,"parent_user_id":"U0BOT","event_ts":"1700000099.000001"})";
  ASSERT_EQ(post_signed(*client_, "/slack/events", event_callback("Ev0MARK", reply), kJson).status,
            200);
  ASSERT_EQ(api_comment(n, plain).status, 201);
  auto comments = task(n).comments;
  ASSERT_EQ(comments.size(), 4u);  // the approval's reason is the first
  EXPECT_TRUE(comments[1].text == stored) << "the command's";
  EXPECT_TRUE(comments[2].text == stored) << "the thread's";
  EXPECT_TRUE(comments[3].text == plain) << "the API's, as sent";

  // In: a reassignment's reason and a denial's reason, typed into modals (not escaped by Slack).
  EXPECT_EQ(submit("U0EVE", "tollgate.reassign", t + ":1", plain, "U0OLGA").status, 200);
  ASSERT_TRUE(has_dms("U0OLGA", 1));
  EXPECT_EQ(submit("U0OLGA", "tollgate.reason", "deny:" + t + ":1", plain).status, 200);
  EXPECT_EQ(task(n).state, TaskState::denied);
  EXPECT_TRUE(task(n).steps[1].comment == plain);
  // In: the one comment of a bulk action.
  EXPECT_EQ(
      submit("U0DANA", "tollgate.bulk", "approve:" + std::to_string(second) + ":0", plain).status,
      200);
  EXPECT_TRUE(task(second).steps[0].comment == plain);

  // Every copy of the messages has moved on; the requester is told of the denial.
  ASSERT_TRUE(eventually(
      [&] {
        for (const PostedMessage& m : dms("U0FINN"))
          if (contains(m.text, "denied")) return true;
        return false;
      },
      15s));
  ASSERT_TRUE(eventually([&] { return slack_.count("chat.update") >= 3; }, 10s));

  // Out: every payload sent to Slack and every answer given to it.
  std::vector<std::string> problems;
  int checked = 0;
  for (const RecordedCall& c : slack_.calls()) {
    if (c.method == "auth.test" || c.method.rfind("users.", 0) == 0 ||
        c.method.rfind("conversations.", 0) == 0)
      continue;
    ++checked;
    for (std::string& p : markup_problems(c.method, c.body)) problems.push_back(std::move(p));
  }
  for (const std::string& a : answers_) {
    if (a.empty()) continue;
    ++checked;
    for (std::string& p : markup_problems("answer", a)) problems.push_back(std::move(p));
  }
  EXPECT_GE(checked, 15);
  EXPECT_TRUE(problems.empty()) << problems.size() << " problems, the first: "
                                << (problems.empty() ? "" : problems[0].substr(0, 300));

  // The control sequences reach readers as text: in a DM, in the thread copy, on the Home tab.
  const PostedMessage eve_dm = dms("U0EVE")[0];  // a copy: dms() returns a temporary
  EXPECT_TRUE(contains(eve_dm.blocks, "@channel @here @U0EVIL Approve in Okta (https://evil.example) &amp; &lt; &gt;"))
      << eve_dm.blocks.substr(0, 1000);
  bool thread_copy = false;
  for (const PostedMessage& m : dms("U0DANA"))
    thread_copy = thread_copy || (!m.thread_ts.empty() && contains(m.text, "&lt;!channel&gt;"));
  EXPECT_TRUE(thread_copy) << "the API's comment, as written, in Dana's thread";
  bool home_row = false;
  for (const RecordedCall& c : slack_.calls("views.publish"))
    home_row = home_row || contains(c.body, "_@channel @here @U0EVIL Approve in Okta");
  EXPECT_TRUE(home_row) << "a Home row shows the justification's start as text";
}

TEST_F(MarkupTest, SlashCommandTextIsUnescapedOnceAndShownOnce) {
  start_bot();
  tasks("U0FINN", "request github/maintainer -- R&amp;D &lt;on call&gt; for <@U0DANA|dana>");
  // A mention's label is what Slack showed the person as they typed it.
  EXPECT_EQ(task(1).justification, "R&D <on call> for @dana");
  ASSERT_TRUE(has_dms("U0DANA", 1));
  std::string show = tasks("U0DANA", "show 1");
  EXPECT_TRUE(contains(show, "R&amp;D &lt;on call&gt; for @dana")) << show;
  EXPECT_FALSE(contains(show, "&amp;amp;")) << show;
  // A word the parser could not read is quoted back as typed: escaped once, for mrkdwn.
  std::string refused = tasks("U0DANA", "comment &lt;x&gt; hello");
  EXPECT_TRUE(contains(refused, "&lt;x&gt;")) << refused;
  EXPECT_FALSE(contains(refused, "&amp;")) << refused;
}

}  // namespace
}  // namespace tollgate::testing
