#include "mail/smtp.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <ctime>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <boost/url/parse.hpp>
#include <curl/curl.h>

#include "base/encoding.h"
#include "base/libcurl.h"

namespace tollgate::mail {
namespace {

bool ascii_printable(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// A header value: as is when plain ASCII, else an RFC 2047 encoded word.
// Control characters (CR, LF) never reach a header either way.
std::string header_text(std::string_view s) {
  if (ascii_printable(s)) return std::string(s);
  return "=?UTF-8?B?" + base64(s) + "?=";
}

// A display name (the phrase before "<address>"): as is when plain ASCII with none of the
// characters that would end or split it ("Reyes, Dana" would read as two addresses), else an
// RFC 2047 encoded word.
std::string display_name(std::string_view s) {
  if (ascii_printable(s) && s.find_first_of("\"(),:;<>@[\\]") == std::string_view::npos)
    return std::string(s);
  return "=?UTF-8?B?" + base64(s) + "?=";
}

struct Server {
  bool implicit_tls = false;
  bool starttls = true;
  std::string host, port, user, password;
};

StatusOr<Server> parse_server(const std::string& url) {
  auto u = boost::urls::parse_absolute_uri(url);
  if (u.has_error()) return invalid_argument("TOLLGATE_SMTP_URL is not a URL");
  Server s;
  std::string scheme(u->scheme());
  if (scheme == "smtps") {
    s.implicit_tls = true;
  } else if (scheme != "smtp") {
    return invalid_argument("TOLLGATE_SMTP_URL: scheme \"" + scheme + "\" is not smtp or smtps");
  }
  s.host = std::string(u->host());
  if (s.host.empty()) return invalid_argument("TOLLGATE_SMTP_URL has no host");
  s.port = u->has_port() ? std::string(u->port()) : (s.implicit_tls ? "465" : "587");
  // Checked here, at start, rather than by each mail's connection failing.
  int port = 0;
  auto [end, ec] = std::from_chars(s.port.data(), s.port.data() + s.port.size(), port);
  if (s.port.empty() || ec != std::errc() || end != s.port.data() + s.port.size() || port < 1 ||
      port > 65535)
    return invalid_argument("TOLLGATE_SMTP_URL: port \"" + s.port +
                            "\" is not a port (1 to 65535)");
  if (u->has_userinfo()) {
    s.user = u->user();
    s.password = u->password();
  }
  for (auto param : u->params()) {
    if (param.key == "starttls" && param.value == "off" && !s.implicit_tls) {
      s.starttls = false;
    } else {
      return invalid_argument("TOLLGATE_SMTP_URL: unknown parameter \"" + param.key + "\"");
    }
  }
  if (!s.starttls && !s.implicit_tls && !s.user.empty()) {
    return invalid_argument(
        "TOLLGATE_SMTP_URL: credentials are never sent without TLS (drop starttls=off)");
  }
  return s;
}


// The URL handed to libcurl. No credentials in it (they go by CURLOPT_USERNAME and
// CURLOPT_PASSWORD, so no libcurl message can show them); its path is the name we give in
// EHLO.
std::string curl_url(const Server& s) {
  return std::string(s.implicit_tls ? "smtps" : "smtp") + "://" + s.host + ":" + s.port +
         "/tollgate";
}

// What the reply to a command line the client sent answers, in the words of an error
// message; empty for a line that is no command (the AUTH LOGIN user name and password:
// neither is kept).
std::string step_of(std::string_view line) {
  std::string verb(line.substr(0, line.find_first_of(" \r\n")));
  for (char& c : verb) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  static const std::map<std::string, std::string, std::less<>> kSteps = {
      {"EHLO", "EHLO"},        {"HELO", "HELO"},  {"STARTTLS", "STARTTLS"},
      {"AUTH", "AUTH"},        {"MAIL", "the sender"}, {"RCPT", "the recipient"},
      {"DATA", "DATA"},        {"QUIT", "QUIT"},  {"RSET", "RSET"}};
  auto it = kSteps.find(verb);
  return it == kSteps.end() ? std::string() : it->second;
}

// One mail: its libcurl handle and what the session has said so far.
struct Transfer {
  std::function<void(Status)> done;
  std::string host;
  curl_slist* rcpt = nullptr;
  curl_slist* headers = nullptr;  // mail_headers(), for CURLOPT_HTTPHEADER
  curl_mime* mime = nullptr;      // the body, for CURLOPT_MIMEPOST
  CURL* easy = nullptr;
  char error[CURL_ERROR_SIZE] = {};
  std::string step = "the connection";  // what the next reply answers
  // The 4xx or 5xx reply the session stopped on: the cause of a failure (a refusal libcurl
  // got past, EHLO's answered by HELO, is forgotten when the next command goes out).
  int refused_code = 0;
  std::string refused_step, refused_text;

  Transfer() = default;
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;
  // The handle goes first: it uses the lists and the MIME structure until its end.
  ~Transfer() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    curl_mime_free(mime);
    curl_slist_free_all(headers);
    curl_slist_free_all(rcpt);
  }
};

Status out_of_memory() {
  return unavailable("SMTP: libcurl is out of memory");
}

// One part of the multipart/alternative: `text` as it is, in base64 (lines of 76 characters
// whatever the text's own lines, only ASCII, and none that starts with a dot).
bool add_text_part(curl_mime* alt, const std::string& text, const char* type) {
  curl_mimepart* part = curl_mime_addpart(alt);
  return part != nullptr && curl_mime_data(part, text.data(), text.size()) == CURLE_OK &&
         curl_mime_type(part, type) == CURLE_OK &&
         curl_mime_encoder(part, "base64") == CURLE_OK;
}

// The body through libcurl's MIME API, as curl's docs/examples/smtp-mime.c builds it: the
// top-level multipart (libcurl's multipart/mixed) holds one inline part, the
// multipart/alternative of the text (first: the least preferred) and the HTML. libcurl picks
// the boundaries and writes the Content-Type headers.
Status attach_body(Transfer& t, const MailMessage& m) {
  t.mime = curl_mime_init(t.easy);
  curl_mime* alt = curl_mime_init(t.easy);
  curl_mimepart* part = t.mime == nullptr ? nullptr : curl_mime_addpart(t.mime);
  if (part == nullptr || alt == nullptr ||
      !add_text_part(alt, m.text, "text/plain; charset=utf-8") ||
      !add_text_part(alt, m.html, "text/html; charset=utf-8") ||
      curl_mime_subparts(part, alt) != CURLE_OK) {
    curl_mime_free(alt);  // not the part's until curl_mime_subparts() took it
    return out_of_memory();
  }
  curl_slist* inline_header = curl_slist_append(nullptr, "Content-Disposition: inline");
  if (inline_header == nullptr) return out_of_memory();
  if (curl_mime_type(part, "multipart/alternative") != CURLE_OK ||
      curl_mime_headers(part, inline_header, 1) != CURLE_OK) {
    curl_slist_free_all(inline_header);
    return out_of_memory();
  }
  return Status{};
}

// The message's headers and body on the handle. libcurl sends CURLOPT_HTTPHEADER's lines as
// the message's headers (and adds no MIME-Version of its own, since one is there).
Status attach_message(Transfer& t, const MailMessage& m, const std::string& from) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  ASSIGN_OR_RETURN(std::vector<std::string> lines,
                   mail_headers(m, from, SystemClock().now(), std::to_string(rng()) + "@tollgate"));
  for (const std::string& line : lines) {
    curl_slist* longer = curl_slist_append(t.headers, line.c_str());
    if (longer == nullptr) return out_of_memory();
    t.headers = longer;
  }
  RETURN_IF_ERROR(attach_body(t, m));
  curl_easy_setopt(t.easy, CURLOPT_HTTPHEADER, t.headers);
  curl_easy_setopt(t.easy, CURLOPT_MIMEPOST, t.mime);
  return Status{};
}

void note_reply(Transfer& t, std::string_view text) {
  while (!text.empty() && t.refused_code == 0) {
    std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() < 3 || line[0] < '4' || line[0] > '5' ||
        !std::all_of(line.begin(), line.begin() + 3, [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    t.refused_code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    t.refused_step = t.step;
    t.refused_text = std::string(line.size() > 4 ? line.substr(4) : std::string_view());
  }
}

// libcurl's trace of the session (CURLOPT_DEBUGFUNCTION; nothing is printed): the commands
// sent, of which only the verb is kept, and the server's replies.
int trace(CURL*, curl_infotype type, char* data, std::size_t size, void* p) {
  auto* t = static_cast<Transfer*>(p);
  std::string_view text(data, size);
  if (type == CURLINFO_HEADER_OUT) {
    std::string step = step_of(text);
    if (step.empty() || step == "QUIT") return 0;
    t->step = step;
    t->refused_code = 0;
  } else if (type == CURLINFO_DATA_OUT) {
    t->step = "the message";
  } else if (type == CURLINFO_HEADER_IN) {
    note_reply(*t, text);
  }
  return 0;
}

// A finished session's result: a 5xx reply, or a configuration the server cannot take, will
// not pass by trying again; anything else may.
Status outcome(const Transfer& t, CURLcode rc) {
  if (rc == CURLE_OK) return Status{};
  if (t.refused_code != 0) {
    std::string message = "SMTP server refused " + t.refused_step + ": " +
                          std::to_string(t.refused_code) + " " + t.refused_text;
    return t.refused_code >= 500 ? invalid_argument(message) : unavailable(message);
  }
  std::string why = t.error[0] != '\0' ? std::string(t.error) : curl_easy_strerror(rc);
  switch (rc) {
    case CURLE_USE_SSL_FAILED:
      return invalid_argument("SMTP server " + t.host +
                              " does not offer STARTTLS (add ?starttls=off for a relay that "
                              "needs no credentials)");
    case CURLE_LOGIN_DENIED:  // no reply refused: no AUTH method of ours is offered
      return invalid_argument("SMTP server " + t.host +
                              " offers neither AUTH PLAIN nor AUTH LOGIN (" + why + ")");
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_NOT_BUILT_IN:
    case CURLE_URL_MALFORMAT:
      return invalid_argument("SMTP with " + t.host + " is not possible: " + why);
    default:
      return unavailable("SMTP server " + t.host + ": " + why);
  }
}

long whole_seconds(std::chrono::milliseconds ms) {
  return std::max(1L, static_cast<long>((ms.count() + 999) / 1000));
}

// Where to find the CA certificates when the environment says (as OpenSSL's own default
// does): libcurl reads neither variable itself.
std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

}  // namespace

// The transfers run on one thread of ours, in a libcurl multi handle: several sessions at
// once without a thread each, and completions on the client's own thread, as the outbox
// expects of an asynchronous send(). curl_multi_poll() sleeps until a socket is ready, a
// second passes, or send()/stop() wake it with curl_multi_wakeup().
struct SmtpClient::Impl {
  SmtpOptions options;
  Server server;
  std::string url, from, ca_file, ca_path;
  CURLM* multi = nullptr;

  std::mutex mu;
  std::vector<std::unique_ptr<Transfer>> queued;  // guarded by mu
  bool stopping = false;                          // guarded by mu
  std::map<CURL*, std::unique_ptr<Transfer>> running;  // the thread's own
  std::mutex join_mu;
  std::thread thread;

  Impl(SmtpOptions o, Server s)
      : options(std::move(o)),
        server(std::move(s)),
        url(curl_url(server)),
        from(address_of(options.from)),
        ca_file(env("SSL_CERT_FILE")),
        ca_path(env("SSL_CERT_DIR")),
        multi(curl_multi_init()) {}

  ~Impl() {
    if (thread.joinable()) thread.detach();  // only when the thread itself ends last
    running.clear();
    if (multi != nullptr) curl_multi_cleanup(multi);
  }

  // The thread holds the Impl too, so that a client dropped by one of its own completions
  // stays alive until its loop has ended.
  static void start(const std::shared_ptr<Impl>& impl) {
    impl->thread = std::thread([impl] { impl->run(); });
  }

  void stop() {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    if (multi != nullptr) curl_multi_wakeup(multi);
    std::lock_guard lock(join_mu);
    if (!thread.joinable()) return;
    if (thread.get_id() == std::this_thread::get_id()) {
      thread.detach();
    } else {
      thread.join();
    }
  }

  StatusOr<std::unique_ptr<Transfer>> transfer(const MailMessage& m,
                                               std::function<void(Status)> done) const;

  void enqueue(const MailMessage& m, std::function<void(Status)> done) {
    auto t = transfer(m, done);
    if (!t.ok()) return done(t.status());
    {
      std::lock_guard lock(mu);
      if (stopping) return;
      queued.push_back(std::move(*t));
    }
    curl_multi_wakeup(multi);
  }

  void run() {
    for (;;) {
      std::vector<std::unique_ptr<Transfer>> fresh;
      {
        std::lock_guard lock(mu);
        if (stopping) break;
        fresh.swap(queued);
      }
      for (auto& t : fresh) {
        if (curl_multi_add_handle(multi, t->easy) != CURLM_OK) {
          t->done(unavailable("SMTP: libcurl took no new transfer"));
          continue;
        }
        CURL* easy = t->easy;
        running.emplace(easy, std::move(t));
      }
      int active = 0;
      curl_multi_perform(multi, &active);
      finish_done();
      curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
    }
    for (auto& [easy, t] : running) curl_multi_remove_handle(multi, easy);
    running.clear();
    std::lock_guard lock(mu);
    queued.clear();
  }

  // Completes the transfers libcurl has finished.
  void finish_done() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      CURLcode rc = msg->data.result;  // msg is gone once the handle is removed
      curl_multi_remove_handle(multi, easy);
      auto it = running.find(easy);
      if (it == running.end()) continue;
      std::unique_ptr<Transfer> t = std::move(it->second);
      running.erase(it);
      t->done(outcome(*t, rc));
    }
  }
};

// One mail's libcurl handle, its message set by attach_message(). libcurl escapes lines that
// start with a dot and ends the data itself.
StatusOr<std::unique_ptr<Transfer>> SmtpClient::Impl::transfer(
    const MailMessage& m, std::function<void(Status)> done) const {
  auto t = std::make_unique<Transfer>();
  t->done = std::move(done);
  t->host = server.host;
  t->rcpt = curl_slist_append(nullptr, m.to.c_str());
  t->easy = curl_easy_init();
  if (t->easy == nullptr || t->rcpt == nullptr) return out_of_memory();
  RETURN_IF_ERROR(attach_message(*t, m, options.from));
  CURL* e = t->easy;
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  // A long, as every CURLOPTTYPE_LONG option takes (the enums are ints).
  curl_easy_setopt(e, CURLOPT_USE_SSL,
                   static_cast<long>(server.implicit_tls || server.starttls ? CURLUSESSL_ALL
                                                                            : CURLUSESSL_NONE));
  curl_easy_setopt(e, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  if (!ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, ca_file.c_str());
  if (!ca_path.empty()) curl_easy_setopt(e, CURLOPT_CAPATH, ca_path.c_str());
  if (!server.user.empty()) {
    curl_easy_setopt(e, CURLOPT_USERNAME, server.user.c_str());
    curl_easy_setopt(e, CURLOPT_PASSWORD, server.password.c_str());
    curl_easy_setopt(e, CURLOPT_LOGIN_OPTIONS, "AUTH=PLAIN;AUTH=LOGIN");  // PLAIN first
  }
  curl_easy_setopt(e, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(e, CURLOPT_MAIL_RCPT, t->rcpt);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.timeout.count()));
  curl_easy_setopt(e, CURLOPT_SERVER_RESPONSE_TIMEOUT, whole_seconds(options.timeout));
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, whole_seconds(options.timeout));
  curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
  curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);  // for trace() only
  curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, trace);
  curl_easy_setopt(e, CURLOPT_DEBUGDATA, t.get());
  return t;
}

SmtpClient::SmtpClient(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

SmtpClient::~SmtpClient() {
  stop();
}

StatusOr<std::unique_ptr<SmtpClient>> SmtpClient::create(SmtpOptions options) {
  auto server = parse_server(options.url);
  if (!server.ok()) return server.status();
  std::string from = address_of(options.from);
  if (from.empty() || from.find('@') == std::string::npos ||
      from.find_first_of("\r\n<> ") != std::string::npos) {
    return invalid_argument("TOLLGATE_SMTP_FROM is not an email address: \"" + options.from + "\"");
  }
  RETURN_IF_ERROR(load_libcurl());  // at start-up: a server that sends mail needs it
  auto impl = std::make_shared<Impl>(std::move(options), std::move(*server));
  if (impl->multi == nullptr) return internal_error("SMTP: libcurl cannot start");
  Impl::start(impl);
  return std::unique_ptr<SmtpClient>(new SmtpClient(std::move(impl)));
}

void SmtpClient::send(MailMessage message, std::function<void(Status)> done) {
  // Header injection: an address with a line break (or what would end it) is refused, never
  // cleaned (mail_headers() refuses it too); line breaks in names and the subject become
  // spaces.
  if (message.to.find_first_of("\r\n<> ") != std::string::npos ||
      message.to.find('@') == std::string::npos) {
    done(invalid_argument("not an email address: \"" + message.to + "\""));
    return;
  }
  impl_->enqueue(message, std::move(done));
}

void SmtpClient::stop() {
  if (impl_) impl_->stop();
}

std::string address_of(const std::string& mailbox) {
  auto open = mailbox.rfind('<');
  auto close = mailbox.rfind('>');
  if (open != std::string::npos && close != std::string::npos && close > open) {
    return mailbox.substr(open + 1, close - open - 1);
  }
  return mailbox;
}

StatusOr<std::vector<std::string>> mail_headers(const MailMessage& m, const std::string& from,
                                                Time date, const std::string& message_id) {
  auto clean = [](std::string s) {
    for (char& c : s) {
      if (c == '\r' || c == '\n') c = ' ';
    }
    return s;
  };
  std::time_t tt = std::chrono::system_clock::to_time_t(date);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char when[64];
  std::strftime(when, sizeof when, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  // The sender's address was checked at create(); its display name is text like the others.
  std::string from_header = clean(from);
  if (auto lt = from_header.rfind('<'); lt != std::string::npos && lt > 0) {
    std::string name = from_header.substr(0, lt);
    while (!name.empty() && name.back() == ' ') name.pop_back();
    from_header = display_name(name) + " " + from_header.substr(lt);
  }
  std::string to = m.to_name.empty() ? m.to : display_name(clean(m.to_name)) + " <" + m.to + ">";
  std::vector<std::string> lines = {
      "From: " + from_header,
      "To: " + to,
      "Subject: " + header_text(clean(m.subject)),
      "Date: " + std::string(when),
      "Message-ID: <" + message_id + ">",
      "MIME-Version: 1.0",
      "Auto-Submitted: auto-generated",
  };
  for (const std::string& line : lines) {
    if (line.find_first_of("\r\n") != std::string::npos)
      return invalid_argument("mail header with a line break: \"" + clean(line) + "\"");
  }
  return lines;
}

}  // namespace tollgate::mail
