// The SMTP client's configuration checks, the message's headers, the whole MIME message as
// a real SMTP server receives it (libcurl builds it), and the mails' content. (The mails the
// server sends, end to end, are in e2e/stale_tasks_test.)
#include <cctype>
#include <cstdlib>
#include <future>
#include <regex>
#include <string_view>

#include <gtest/gtest.h>

#include "mail/smtp.h"
#include "mail/templates.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_org.h"
#include "tests/support/without_library.h"

namespace tollgate::mail {
namespace {

// A MIME entity (RFC 2045): its header lines and its body, split at the first empty line.
struct Entity {
  std::vector<std::string> headers;
  std::string body;
};

Entity entity(std::string_view s) {
  Entity e;
  std::size_t at = 0;
  for (;;) {
    std::size_t eol = s.find("\r\n", at);
    if (eol == std::string_view::npos) {
      e.body = "<no empty line after the headers>";
      return e;
    }
    if (eol == at) {
      e.body = std::string(s.substr(at + 2));
      return e;
    }
    e.headers.emplace_back(s.substr(at, eol - at));
    at = eol + 2;
  }
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The values of the header `name` (its name in any case), in order.
std::vector<std::string> values(const Entity& e, const std::string& name) {
  std::vector<std::string> out;
  for (const std::string& line : e.headers) {
    if (lower(line.substr(0, name.size() + 2)) == lower(name) + ": ")
      out.push_back(line.substr(name.size() + 2));
  }
  return out;
}

std::string value(const Entity& e, const std::string& name) {
  auto v = values(e, name);
  return v.size() == 1 ? v[0] : "<" + std::to_string(v.size()) + " " + name + " headers>";
}

// The parts of a multipart entity, split at the boundary its Content-Type names (whatever
// libcurl picked); none when the closing delimiter is missing.
std::vector<Entity> parts(const Entity& e) {
  std::string type = value(e, "Content-Type");
  std::size_t at = type.find("boundary=");
  if (at == std::string::npos) return {};
  std::string boundary = type.substr(at + 9);
  boundary = boundary.substr(0, boundary.find(';'));
  if (boundary.size() >= 2 && boundary.front() == '"')
    boundary = boundary.substr(1, boundary.size() - 2);
  // The CRLF before a delimiter is the delimiter's (RFC 2046, 5.1.1).
  std::string body = "\r\n" + e.body, delimiter = "\r\n--" + boundary;
  std::vector<Entity> out;
  for (std::size_t d = body.find(delimiter); d != std::string::npos;) {
    std::size_t after = d + delimiter.size();
    if (body.compare(after, 2, "--") == 0) return out;  // the closing delimiter
    std::size_t start = body.find("\r\n", after);
    std::size_t next = start == std::string::npos ? start : body.find(delimiter, start);
    if (next == std::string::npos) break;
    out.push_back(entity(std::string_view(body).substr(start + 2, next - start - 2)));
    d = next;
  }
  return {};
}

std::string base64_decode(std::string_view in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned bits = 0, count = 0;
  for (char c : in) {
    if (c == '\r' || c == '\n') continue;
    if (c == '=') break;
    std::size_t v = kAlphabet.find(c);
    if (v == std::string::npos) return "<not base64>";
    bits = (bits << 6) | static_cast<unsigned>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xff);
    }
  }
  return out;
}

std::string quoted_printable_decode(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '=') {
      out += in[i];
    } else if (in.substr(i + 1, 2) == "\r\n") {
      i += 2;  // a soft line break
    } else if (i + 2 < in.size()) {
      out += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    }
  }
  return out;
}

// A leaf part's content, decoded by its Content-Transfer-Encoding.
std::string decoded(const Entity& e) {
  std::string encoding = lower(value(e, "Content-Transfer-Encoding"));
  if (encoding == "base64") return base64_decode(e.body);
  if (encoding == "quoted-printable") return quoted_printable_decode(e.body);
  ADD_FAILURE() << "Content-Transfer-Encoding: " << encoding;
  return e.body;
}

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

// Without libcurl (a library that does not load), a server that sends mail does not start:
// the client is refused at start-up with the reason, naming the library.
TEST(Smtp, WithoutLibcurlTheClientIsRefusedNamingTheLibrary) {
  if (!testing::without_library()) {
    EXPECT_TRUE(testing::passes_without("libcurl.so.4"));
    return;
  }
  auto c = SmtpClient::create({"smtp://u:p@127.0.0.1:1", "tollgate@t.test"});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::unavailable) << c.status().to_string();
  EXPECT_NE(c.status().message().find("libcurl.so.4 cannot be loaded"), std::string::npos)
      << c.status().to_string();
}

TEST(Mime, HeadersAreEncodedAndALineBreakNeverMakesAHeader) {
  MailMessage m{"dana@t.test", "Dána Reyes", "Ação #1\r\nBcc: evil@x", "plain ✓", "<p>html</p>"};
  Time date(Duration(1795687200000LL));
  auto h = mail_headers(m, "Tollgate <tollgate@t.test>", date, "42@tollgate");
  ASSERT_TRUE(h.ok()) << h.status().to_string();
  EXPECT_EQ(*h, (std::vector<std::string>{
                    "From: Tollgate <tollgate@t.test>",
                    "To: =?UTF-8?B?RMOhbmEgUmV5ZXM=?= <dana@t.test>",  // "Dána Reyes"
                    // "Ação #1  Bcc: evil@x": a line break in the subject is no header.
                    "Subject: =?UTF-8?B?QcOnw6NvICMxICBCY2M6IGV2aWxAeA==?=",
                    "Date: Thu, 26 Nov 2026 10:00:00 +0000",
                    "Message-ID: <42@tollgate>",
                    "MIME-Version: 1.0",
                    "Auto-Submitted: auto-generated",
                }));

  // ASCII stays as it is; a non-ASCII sender's name is encoded; a line break in a name is a
  // space (and a name with ':' or '@' is encoded).
  auto plain = mail_headers({"ana@t.test", "", "Plain subject", "t", "h"},
                            "Tollgate Bot \xE2\x9C\x93\r\n <tollgate@t.test>", date, "1@tollgate");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*plain)[0], "From: =?UTF-8?B?VG9sbGdhdGUgQm90IOKckw==?= <tollgate@t.test>");
  EXPECT_EQ((*plain)[1], "To: ana@t.test");
  EXPECT_EQ((*plain)[2], "Subject: Plain subject");
  auto spaced = mail_headers({"ana@t.test", "Ana\r\nBcc: evil@x", "s", "t", "h"},
                             "tollgate@t.test", date, "1@tollgate");
  ASSERT_TRUE(spaced.ok());
  EXPECT_EQ((*spaced)[1], "To: =?UTF-8?B?QW5hICBCY2M6IGV2aWxAeA==?= <ana@t.test>");
  // A name that would read as more than one address ("Reyes, Dana") is encoded too.
  auto comma = mail_headers({"dana@t.test", "Reyes, Dana", "s", "t", "h"}, "tollgate@t.test",
                            date, "1@tollgate");
  ASSERT_TRUE(comma.ok());
  EXPECT_EQ((*comma)[1], "To: =?UTF-8?B?UmV5ZXMsIERhbmE=?= <dana@t.test>");

  // An address or a Message-ID with a line break is refused, never cleaned.
  auto injected = mail_headers({"ana@t.test>\r\nBcc: <evil@x", "", "s", "t", "h"},
                               "tollgate@t.test", date, "1@tollgate");
  EXPECT_EQ(injected.status().code(), Code::invalid_argument);
  EXPECT_EQ(mail_headers(m, "tollgate@t.test", date, "1@x\nBcc: evil@x").status().code(),
            Code::invalid_argument);
}

// The whole message as libcurl builds it, read where it arrives: a real SMTP server (python3's
// aiosmtpd, over STARTTLS with AUTH), after the SMTP session has undone its dot escaping.
TEST(Mime, TheServerGetsBothAlternativePartsInBase64InShortLinesAndNoInjectedHeader) {
  testing::TempDir dir;
  testing::SmtpSink sink(dir.path().string());
  ASSERT_TRUE(sink.ok()) << "python3-aiosmtpd is needed (scripts/deps.sh installs it)";
  ::setenv("SSL_CERT_FILE", sink.cert().c_str(), 1);  // read by create()
  auto client = SmtpClient::create({sink.url(), "Tollgate <tollgate@t.test>"});
  ::unsetenv("SSL_CERT_FILE");
  ASSERT_TRUE(client.ok()) << client.status().to_string();
  std::string text = "plain \xE2\x9C\x93\r\n.a line that starts with a dot\r\n.\r\n" +
                     std::string(1500, 'x') + "\r\nend";
  std::string html = "<p>html \xE2\x9C\x93</p>\n.<b>dot</b>\n" + std::string(1500, 'y');
  MailMessage m{"dana@t.test", "Dána Reyes", "Ação #1\r\nBcc: evil@x", text, html};
  std::promise<Status> done;
  (*client)->send(m, [&](Status s) { done.set_value(s); });
  Status sent = done.get_future().get();
  ASSERT_TRUE(sent.ok()) << sent.to_string();
  auto mails = sink.wait_for(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].rcpt_tos, std::vector<std::string>{"dana@t.test"}) << "no Bcc recipient";
  const std::string& msg = mails[0].data;

  std::size_t start = 0;
  while (start < msg.size()) {
    std::size_t end = msg.find("\r\n", start);
    ASSERT_NE(end, std::string::npos) << "every line ends with CRLF";
    EXPECT_EQ(msg.substr(start, end - start).find('\n'), std::string::npos) << "no bare LF";
    EXPECT_LE(end - start, 998u);
    EXPECT_NE(msg[start], '.') << "no line starts with a dot";
    start = end + 2;
  }

  Entity top = entity(msg);
  EXPECT_EQ(value(top, "From"), "Tollgate <tollgate@t.test>") << msg;
  EXPECT_EQ(value(top, "To"), "=?UTF-8?B?RMOhbmEgUmV5ZXM=?= <dana@t.test>");
  std::string subject = value(top, "Subject");
  ASSERT_TRUE(subject.starts_with("=?UTF-8?B?") && subject.ends_with("?=")) << subject;
  EXPECT_EQ(base64_decode(subject.substr(10, subject.size() - 12)), "Ação #1  Bcc: evil@x");
  EXPECT_TRUE(values(top, "Bcc").empty()) << "a line break in the subject is no header";
  EXPECT_TRUE(std::regex_match(value(top, "Date"),
                               std::regex(R"([A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} )"
                                          R"(\d{2}:\d{2}:\d{2} \+0000)")))
      << value(top, "Date");
  EXPECT_TRUE(std::regex_match(value(top, "Message-ID"), std::regex(R"(<\d+@tollgate>)")))
      << value(top, "Message-ID");
  EXPECT_EQ(value(top, "MIME-Version"), "1.0") << "once, ours";
  EXPECT_EQ(value(top, "Auto-Submitted"), "auto-generated");

  // libcurl's multipart/mixed holds one part: the alternative of the text and the HTML.
  EXPECT_TRUE(value(top, "Content-Type").starts_with("multipart/mixed; boundary="));
  std::vector<Entity> outer = parts(top);
  ASSERT_EQ(outer.size(), 1u) << msg;
  EXPECT_TRUE(value(outer[0], "Content-Type").starts_with("multipart/alternative; boundary="))
      << value(outer[0], "Content-Type");
  std::vector<Entity> alternatives = parts(outer[0]);
  ASSERT_EQ(alternatives.size(), 2u) << msg;
  EXPECT_EQ(value(alternatives[0], "Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(value(alternatives[0], "Content-Transfer-Encoding"), "base64");
  EXPECT_EQ(decoded(alternatives[0]), text);
  EXPECT_EQ(value(alternatives[1], "Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(value(alternatives[1], "Content-Transfer-Encoding"), "base64");
  EXPECT_EQ(decoded(alternatives[1]), html);
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

TEST(MailContent, AHolderWhoWantsMailIsToldOfTheirAccessByMail) {
  // Dana wants mail only; her grant of AWS staging ends soon, then ends.
  testing::World w;
  auto dir = testing::load_org(testing::replaced(
      testing::kTestOrg, R"("slack_user_id": "UDANA", "manager": "boss"})",
      R"("slack_user_id": "UDANA", "manager": "boss", "notify": ["email"]})"));
  Engine engine(dir, w.clock);
  Holding h{"dana", "aws", "staging", testing::test_start(),
            testing::test_start() + std::chrono::hours(2), 4};
  AccessWrite soon = engine.warn_access(h);
  ASSERT_EQ(soon.effects.size(), 1u) << "no DM for someone who wants mail only";
  EXPECT_EQ(soon.effects[0].kind, EffectKind::email);
  Task granting = w.request({"dana", "", "aws", "staging", "x", std::nullopt, false});
  MailMessage m = task_mail(engine, granting, soon.effects[0], "");
  EXPECT_EQ(m.to, "dana@t.test");
  EXPECT_EQ(m.subject, "[Tollgate] Your access to AWS / Staging ends 2026-11-26 12:00 UTC");
  EXPECT_NE(m.text.find("Your access to AWS / Staging ends at 2026-11-26 12:00 UTC."),
            std::string::npos)
      << m.text;
  EXPECT_NE(m.text.find("/tasks extend"), std::string::npos) << m.text;

  auto ended = engine.end_access({h, "done", "sam"});
  ASSERT_TRUE(ended.ok());
  ASSERT_EQ(ended->effects.size(), 1u);
  MailMessage e = task_mail(engine, granting, ended->effects[0], "");
  EXPECT_NE(e.text.find("Sam Okafor ended your access to AWS / Staging."), std::string::npos)
      << e.text;
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
