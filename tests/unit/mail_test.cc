// The SMTP client's configuration checks, the MIME message, and the mails'
// content (pure parts; delivery to a real server is in e2e/stale_tasks_test).
#include <future>

#include <gtest/gtest.h>

#include "mail/smtp.h"
#include "mail/templates.h"
#include "tests/support/test_org.h"

namespace tollgate::mail {
namespace {

Status create_status(const std::string& url, const std::string& from = "tollgate@t.test") {
  auto c = SmtpClient::create({url, from});
  return c.ok() ? Status{} : c.status();
}

TEST(Smtp, ConfigurationMistakesAreRefusedBeforeAnyConnection) {
  EXPECT_TRUE(create_status("smtp://u:p@mail.t.test:587").ok());
  EXPECT_TRUE(create_status("smtps://u:p@mail.t.test").ok());
  EXPECT_TRUE(create_status("smtp://127.0.0.1:25?starttls=off").ok());
  EXPECT_EQ(create_status("http://mail.t.test").message(),
            "TOLLGATE_SMTP_URL: scheme \"http\" is not smtp or smtps");
  EXPECT_EQ(create_status("smtp://u:p@mail.t.test?starttls=off").message(),
            "TOLLGATE_SMTP_URL: credentials are never sent without TLS (drop starttls=off)");
  EXPECT_EQ(create_status("smtp://mail.t.test?tls=maybe").message(),
            "TOLLGATE_SMTP_URL: unknown parameter \"tls\"");
  EXPECT_EQ(create_status("smtp://mail.t.test", "not an address").message(),
            "TOLLGATE_SMTP_FROM is not an email address: \"not an address\"");
  EXPECT_TRUE(create_status("smtp://mail.t.test", "Tollgate <tollgate@t.test>").ok());
  // Security review, finding 5: the port was taken as it was, and each mail
  // failed to connect instead of the start naming the mistake.
  for (const char* port : {"99999", "0", "65536", ""}) {
    EXPECT_EQ(create_status(std::string("smtp://mail.t.test:") + port).message(),
              std::string("TOLLGATE_SMTP_URL: port \"") + port + "\" is not a port (1 to 65535)")
        << port;
  }
  EXPECT_TRUE(create_status("smtp://mail.t.test:65535").ok());
}

TEST(Smtp, NoServerListeningIsAFailureThatMayPass) {
  auto c = SmtpClient::create({"smtp://u:p@127.0.0.1:1", "tollgate@t.test"});
  ASSERT_TRUE(c.ok());
  std::promise<Status> done;
  (*c)->send({"dana@t.test", "Dana", "s", "t", "h"}, [&](Status s) { done.set_value(s); });
  Status s = done.get_future().get();
  EXPECT_EQ(s.code(), Code::unavailable) << s.to_string();
  std::promise<Status> bad;
  (*c)->send({"dana@t.test>\r\nRCPT TO:<x@y", "", "s", "t", "h"},
             [&](Status st) { bad.set_value(st); });
  EXPECT_EQ(bad.get_future().get().code(), Code::invalid_argument) << "no header injection";
}

TEST(Mime, HeadersAreEncodedAndBothPartsAreBase64InShortLines) {
  MailMessage m{"dana@t.test", "Dána Reyes", "Ação #1\r\nBcc: evil@x", "plain ✓", "<p>html</p>"};
  std::string msg =
      mime_message(m, "Tollgate <tollgate@t.test>", Time(Duration(1795687200000LL)), "42@tollgate");
  EXPECT_NE(msg.find("From: Tollgate <tollgate@t.test>\r\n"), std::string::npos) << msg;
  EXPECT_NE(msg.find("To: =?UTF-8?B?"), std::string::npos) << "a non-ASCII name is encoded";
  EXPECT_EQ(msg.find("\r\nBcc:"), std::string::npos) << "a line break in the subject is no header";
  EXPECT_NE(msg.find("Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n"), std::string::npos);
  EXPECT_NE(msg.find("Message-ID: <42@tollgate>\r\n"), std::string::npos);
  EXPECT_NE(msg.find("Content-Type: multipart/alternative; boundary="), std::string::npos);
  EXPECT_NE(
      msg.find("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64"),
      std::string::npos);
  EXPECT_NE(msg.find("Content-Type: text/html; charset=utf-8"), std::string::npos);
  std::size_t start = 0;
  while (start < msg.size()) {
    std::size_t end = msg.find("\r\n", start);
    ASSERT_NE(end, std::string::npos) << "every line ends with CRLF";
    EXPECT_LE(end - start, 998u);
    EXPECT_NE(msg[start], '.') << "no line starts with a dot";
    start = end + 2;
  }
}

TEST(MailContent, AssignmentEscalationAndOutcomeMailsSayWhatHappenedAndEscapeHtml) {
  testing::World w;
  RequestInput in = testing::github_admin_for("ana", "<script>alert(1)</script> & deploy");
  Task t = w.request(in);
  Effect assign{EffectKind::email, t.number, "dana", {{"step", "0"}, {"about", "assign"}}};
  MailMessage m = task_mail(w.engine, t, assign, "https://acme.slack.com/archives/D1/p1");
  EXPECT_EQ(m.to, "dana@t.test");
  EXPECT_EQ(m.to_name, "Dana Reyes");
  EXPECT_EQ(m.subject, "[Tollgate] Please review: #1 GitHub / Org admin for Ana Silva");
  EXPECT_NE(m.text.find("Justification: <script>alert(1)</script> & deploy"), std::string::npos);
  EXPECT_EQ(m.html.find("<script>"), std::string::npos);
  EXPECT_NE(m.html.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; deploy"), std::string::npos);
  EXPECT_NE(m.text.find("Open it in Slack to decide. https://acme.slack.com/archives/D1/p1"),
            std::string::npos)
      << m.text;

  Effect escalated{
      EffectKind::email,
      t.number,
      "dana",
      {{"step", "0"}, {"reassigned_by", "tollgate"}, {"escalated", "3d"}, {"about", "assign"}}};
  MailMessage e = task_mail(w.engine, t, escalated, "");
  EXPECT_EQ(e.subject, "[Tollgate] Escalated to you: #1 GitHub / Org admin for Ana Silva");
  EXPECT_NE(e.text.find("had no decision after 3d and was escalated to you."), std::string::npos);

  Task denied = w.must(t, Action::deny, "dana", "not now");
  Effect outcome{EffectKind::email,
                 t.number,
                 "ana",
                 {{"event", "denied"}, {"final", "true"}, {"by", "dana"}, {"about", "notify"}}};
  MailMessage o = task_mail(w.engine, denied, outcome, "");
  EXPECT_EQ(o.to, "ana@t.test");
  EXPECT_EQ(o.subject, "[Tollgate] #1 GitHub / Org admin: denied");
  EXPECT_NE(o.text.find("Your access request #1 was denied by Dana Reyes."), std::string::npos);
}

TEST(MailContent, SlackMarkupInUserTextReachesTheMailAsText) {
  testing::World w;
  std::string hostile =
      "<!channel> <https://evil.example|Approve in Okta> & \xF0\x9F\x94\x91 <@U0EVIL>";
  Task t = w.request(testing::github_admin_for("ana", hostile));
  Effect assign{EffectKind::email, t.number, "dana", {{"step", "0"}, {"about", "assign"}}};
  MailMessage m = task_mail(w.engine, t, assign, "");
  EXPECT_NE(m.text.find("Justification: " + hostile), std::string::npos) << m.text;
  EXPECT_EQ(m.html.find("<!channel>"), std::string::npos);
  EXPECT_EQ(m.html.find("<https://evil.example"), std::string::npos);
  EXPECT_NE(m.html.find("&lt;!channel&gt; &lt;https://evil.example|Approve in Okta&gt; &amp; "
                        "\xF0\x9F\x94\x91 &lt;@U0EVIL&gt;"),
            std::string::npos)
      << m.html;
}

}  // namespace
}  // namespace tollgate::mail
