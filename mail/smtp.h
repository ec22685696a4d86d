// Email: an SMTP client on libcurl (Debian's libcurl4-openssl-dev): the session and the MIME
// message are both libcurl's (its SMTP and its MIME API); the message's own headers are ours.
//
// TOLLGATE_SMTP_URL names the server:
//   smtp://USER:PASSWORD@HOST:587   plain connection upgraded with STARTTLS
//                                   (required: a server that does not offer
//                                   it is refused, so credentials and mail
//                                   never cross the network in clear)
//   smtps://USER:PASSWORD@HOST:465  TLS from the first byte
//   smtp://HOST:25?starttls=off     a relay that takes mail without TLS and
//                                   without credentials (e.g. a local MTA)
// The server's certificate is verified against the system's trust store (or
// SSL_CERT_FILE / SSL_CERT_DIR, read at create()) and must name HOST; TLS 1.2 at
// least. AUTH PLAIN is used when offered, else AUTH LOGIN. User and password are
// percent-decoded.
//
// Each mail is one SMTP session (no connection reuse). Results: ok;
// Code::unavailable for what may pass (network, timeouts, 4xx replies);
// Code::invalid_argument for a 5xx reply (the server's answer in the message) or a
// refusal of the configuration (no STARTTLS, no AUTH method we use).
//
// Thread-safe: send() may be called from any thread; completions run on the
// client's own thread. After stop(), mails under way or queued are abandoned and
// their completions never run (the outbox delivers again what it did not record).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace tollgate::mail {

struct SmtpOptions {
  std::string url;
  std::string from;  // "Tollgate <tollgate@acme.test>" or "tollgate@acme.test"
  // For each step of the session: the connection, each reply awaited, the upload stalling.
  std::chrono::milliseconds timeout{15000};
};

struct MailMessage {
  std::string to;       // address
  std::string to_name;  // display name, may be empty
  std::string subject;
  std::string text;  // the plain-text part
  std::string html;  // the HTML part
};

class SmtpClient {
 public:
  // Checks the URL and the sender; does not connect.
  static StatusOr<std::unique_ptr<SmtpClient>> create(SmtpOptions options);
  ~SmtpClient();

  void send(MailMessage message, std::function<void(Status)> done);
  void stop();

 private:
  struct Impl;
  explicit SmtpClient(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

// The message's own header lines, without CRLF: From, To, Subject, Date, Message-ID,
// MIME-Version and Auto-Submitted. libcurl sends them ahead of the MIME body it builds (a
// multipart/alternative of a text/plain and a text/html part, both UTF-8 in base64), and
// writes the Content-Type header with the boundary it picks itself.
// Names and the subject: a line break becomes a space, and text that is not printable ASCII
// becomes an RFC 2047 encoded word (libcurl encodes no header). Any value that would still
// hold CR or LF (an address, the Message-ID) is invalid_argument: header injection is
// refused, never cleaned into another header.
StatusOr<std::vector<std::string>> mail_headers(const MailMessage& m, const std::string& from,
                                                Time date, const std::string& message_id);

// "a@b.c" from "Name <a@b.c>" or "a@b.c".
std::string address_of(const std::string& mailbox);

}  // namespace tollgate::mail
