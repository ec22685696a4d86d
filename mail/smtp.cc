#include "mail/smtp.h"

#include <charconv>
#include <random>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/url/parse.hpp>
#include <openssl/evp.h>

#include "http/net.h"

namespace tollgate::mail {
namespace {

constexpr auto kTuple = net::as_tuple(net::use_awaitable);

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// Base64 in lines of 76 characters (RFC 2045).
std::string base64_lines(std::string_view in) {
  std::string b = base64(in), out;
  for (std::size_t i = 0; i < b.size(); i += 76) out += b.substr(i, 76) + "\r\n";
  return out;
}

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

struct Reply {
  int code = 0;
  std::vector<std::string> lines;  // the text after the code, one per line
  std::string text() const {
    std::string t;
    for (const std::string& l : lines) t += (t.empty() ? "" : " ") + l;
    return t;
  }
};

// One SMTP session's connection: plain until STARTTLS, then TLS.
struct Session {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<ssl::stream<beast::tcp_stream>> tls;
  std::string buffer;

  beast::tcp_stream& lowest() { return tls ? tls->next_layer() : *plain; }

  template <typename F>
  auto with_stream(F&& f) {
    return tls ? f(*tls) : f(*plain);
  }
};

}  // namespace

struct SmtpClient::Impl : std::enable_shared_from_this<SmtpClient::Impl> {
  SmtpOptions options;
  Server server;
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  ssl::context tls_ctx{ssl::context::tls_client};
  std::thread thread;

  Impl(SmtpOptions o, Server s) : options(std::move(o)), server(std::move(s)) {
    configure_tls_client(tls_ctx);
    work.emplace(ioc.get_executor());
    thread = std::thread([this] { ioc.run(); });
  }

  void stop() {
    work.reset();
    ioc.stop();
    if (thread.joinable() && thread.get_id() != std::this_thread::get_id()) thread.join();
  }

  net::awaitable<Status> start_tls(Session& s) {
    s.tls = std::make_unique<ssl::stream<beast::tcp_stream>>(std::move(*s.plain), tls_ctx);
    s.plain.reset();
    if (!SSL_set_tlsext_host_name(s.tls->native_handle(), server.host.c_str())) {
      co_return unavailable("cannot set SNI for " + server.host);
    }
    s.tls->set_verify_callback(ssl::host_name_verification(server.host));
    s.lowest().expires_after(options.timeout);
    auto [ec] = co_await s.tls->async_handshake(ssl::stream_base::client, kTuple);
    if (ec) co_return unavailable("TLS with " + server.host + " failed: " + ec.message());
    co_return Status{};
  }

  net::awaitable<Status> read_reply(Session& s, Reply& r) {
    r = Reply{};
    for (;;) {
      s.lowest().expires_after(options.timeout);
      auto [ec, n] = co_await s.with_stream([&](auto& stream) {
        return net::async_read_until(stream, net::dynamic_buffer(s.buffer, 64 * 1024), "\r\n",
                                     kTuple);
      });
      if (ec) co_return unavailable("SMTP server " + server.host + ": " + ec.message());
      std::string line = s.buffer.substr(0, n - 2);
      s.buffer.erase(0, n);
      if (line.size() < 3 || !std::isdigit(static_cast<unsigned char>(line[0]))) {
        co_return unavailable("SMTP server " + server.host + " sent a malformed reply");
      }
      r.code = std::stoi(line.substr(0, 3));
      r.lines.push_back(line.size() > 4 ? line.substr(4) : "");
      if (line.size() == 3 || line[3] == ' ') co_return Status{};
    }
  }

  net::awaitable<Status> write(Session& s, const std::string& data) {
    s.lowest().expires_after(options.timeout);
    auto [ec, n] = co_await s.with_stream(
        [&](auto& stream) { return net::async_write(stream, net::buffer(data), kTuple); });
    if (ec) co_return unavailable("SMTP server " + server.host + ": " + ec.message());
    co_return Status{};
  }

  // Sends a command and reads its reply; a reply other than `expect` (by its
  // first digit) fails: 4xx may pass, 5xx will not.
  net::awaitable<Status> command(Session& s, const std::string& line, char expect, Reply& r,
                                 const std::string& what) {
    if (!line.empty()) {
      if (Status st = co_await write(s, line + "\r\n"); !st.ok()) co_return st;
    }
    if (Status st = co_await read_reply(s, r); !st.ok()) co_return st;
    if (std::to_string(r.code)[0] == expect) co_return Status{};
    std::string message =
        "SMTP server refused " + what + ": " + std::to_string(r.code) + " " + r.text();
    co_return r.code >= 500 ? invalid_argument(message) : unavailable(message);
  }

  net::awaitable<Status> session(MailMessage m) {
    Session s;
    tcp::resolver resolver(ioc);
    auto [rec, results] = co_await resolver.async_resolve(server.host, server.port, kTuple);
    if (rec) co_return unavailable("cannot resolve " + server.host + ": " + rec.message());
    s.plain = std::make_unique<beast::tcp_stream>(ioc);
    s.plain->expires_after(options.timeout);
    auto [cec, ep] = co_await s.plain->async_connect(results, kTuple);
    if (cec) {
      co_return unavailable("cannot connect to " + server.host + ":" + server.port + ": " +
                            cec.message());
    }
    if (server.implicit_tls) {
      if (Status st = co_await start_tls(s); !st.ok()) co_return st;
    }
    Reply r;
    if (Status st = co_await command(s, "", '2', r, "the connection"); !st.ok()) co_return st;
    if (Status st = co_await command(s, "EHLO tollgate", '2', r, "EHLO"); !st.ok()) co_return st;
    auto offers = [&r](std::string_view what) {
      for (std::size_t i = 1; i < r.lines.size(); ++i) {
        std::string l = r.lines[i];
        for (char& c : l) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (l.rfind(what, 0) == 0) return l;
      }
      return std::string();
    };
    if (!server.implicit_tls && server.starttls) {
      if (offers("STARTTLS").empty()) {
        co_return invalid_argument("SMTP server " + server.host +
                                   " does not offer STARTTLS (add ?starttls=off for a relay "
                                   "that needs no credentials)");
      }
      if (Status st = co_await command(s, "STARTTLS", '2', r, "STARTTLS"); !st.ok()) co_return st;
      if (Status st = co_await start_tls(s); !st.ok()) co_return st;
      if (Status st = co_await command(s, "EHLO tollgate", '2', r, "EHLO"); !st.ok()) co_return st;
    }
    if (!server.user.empty()) {
      std::string auth = offers("AUTH");
      if (auth.find(" PLAIN") != std::string::npos) {
        std::string token = std::string(1, '\0') + server.user + '\0' + server.password;
        if (Status st = co_await command(s, "AUTH PLAIN " + base64(token), '2', r, "AUTH PLAIN");
            !st.ok())
          co_return st;
      } else if (auth.find(" LOGIN") != std::string::npos) {
        if (Status st = co_await command(s, "AUTH LOGIN", '3', r, "AUTH LOGIN"); !st.ok())
          co_return st;
        if (Status st = co_await command(s, base64(server.user), '3', r, "the user name"); !st.ok())
          co_return st;
        if (Status st = co_await command(s, base64(server.password), '2', r, "the password");
            !st.ok())
          co_return st;
      } else {
        co_return invalid_argument("SMTP server " + server.host +
                                   " offers neither AUTH PLAIN nor AUTH LOGIN");
      }
    }
    std::string from = address_of(options.from);
    if (Status st = co_await command(s, "MAIL FROM:<" + from + ">", '2', r, "the sender"); !st.ok())
      co_return st;
    if (Status st = co_await command(s, "RCPT TO:<" + m.to + ">", '2', r, "the recipient " + m.to);
        !st.ok())
      co_return st;
    if (Status st = co_await command(s, "DATA", '3', r, "DATA"); !st.ok()) co_return st;
    static std::mt19937_64 rng{std::random_device{}()};
    std::string id = std::to_string(rng()) + "@tollgate";
    std::string body = mime_message(m, options.from, SystemClock().now(), id);
    if (Status st = co_await command(s, body + ".", '2', r, "the message"); !st.ok()) co_return st;
    Reply bye;
    (void)co_await command(s, "QUIT", '2', bye, "QUIT");
    co_return Status{};
  }
};

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
  return std::unique_ptr<SmtpClient>(
      new SmtpClient(std::make_shared<Impl>(std::move(options), std::move(*server))));
}

void SmtpClient::send(MailMessage message, std::function<void(Status)> done) {
  if (message.to.find_first_of("\r\n<> ") != std::string::npos ||
      message.to.find('@') == std::string::npos) {
    done(invalid_argument("not an email address: \"" + message.to + "\""));
    return;
  }
  auto impl = impl_;
  net::co_spawn(impl->ioc, impl->session(std::move(message)),
                [impl, done = std::move(done)](std::exception_ptr e, Status s) {
                  if (e) s = internal_error("SMTP session failed unexpectedly");
                  done(std::move(s));
                });
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

std::string mime_message(const MailMessage& m, const std::string& from, Time date,
                         const std::string& message_id) {
  auto clean = [](std::string s) {
    for (char& c : s) {
      if (c == '\r' || c == '\n') c = ' ';
    }
    return s;
  };
  std::string boundary = "tollgate-" + base64(message_id).substr(0, 16) + "-alt";
  for (char& c : boundary) {
    if (c == '/' || c == '+' || c == '=') c = 'x';
  }
  std::time_t tt = std::chrono::system_clock::to_time_t(date);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char when[64];
  std::strftime(when, sizeof when, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  std::string from_header = clean(from);
  if (auto lt = from_header.rfind('<'); lt != std::string::npos && lt > 0) {
    std::string name = from_header.substr(0, lt);
    while (!name.empty() && name.back() == ' ') name.pop_back();
    from_header = header_text(name) + " " + from_header.substr(lt);
  }
  std::string to =
      m.to_name.empty() ? clean(m.to) : header_text(clean(m.to_name)) + " <" + clean(m.to) + ">";
  std::string out;
  out += "From: " + from_header + "\r\n";
  out += "To: " + to + "\r\n";
  out += "Subject: " + header_text(clean(m.subject)) + "\r\n";
  out += "Date: " + std::string(when) + "\r\n";
  out += "Message-ID: <" + clean(message_id) + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Auto-Submitted: auto-generated\r\n";
  out += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
  out += "--" + boundary + "\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  out += base64_lines(m.text);
  out += "--" + boundary + "\r\n";
  out += "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  out += base64_lines(m.html);
  out += "--" + boundary + "--\r\n";
  return out;
}

}  // namespace tollgate::mail
