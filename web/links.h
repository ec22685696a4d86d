// Signed task links and the web session they open (docs/task-page.md).
//
// A link is https://<TOLLGATE_PUBLIC_URL>/t/<token>. The token names one task
// and one person and when it expires, and is signed (HMAC-SHA256) with
// TOLLGATE_LINK_KEY: changing any part of it (another task, another person, a
// later expiry) breaks the signature. Rotating the key revokes every link.
//
// Opening a link starts a session: a cookie naming the person, signed with
// the same key under another purpose (a token is never a valid session, nor
// the reverse), expiring after `session_ttl`. Each form of the page carries
// a CSRF token bound to that session.
//
// Pure functions of their inputs; no I/O.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "workflow/task.h"

namespace tollgate::web {

struct LinkClaims {
  TaskNumber task = 0;
  PersonId person;
  Time expires{};
};

// Why a token or a cookie is refused: the page each gets.
enum class Refusal { none, malformed, tampered, expired };

// The token of a link (URL-safe base64, no padding: [A-Za-z0-9_-.]).
std::string sign_link(const std::string& key, const LinkClaims& claims);
// The claims of a token signed with `key`, or why not (`refusal` set).
std::optional<LinkClaims> verify_link(const std::string& key, const std::string& token, Time now,
                                      Refusal* refusal);

// "https://tollgate.acme.test/t/<token>" for `person` and `task`, valid `ttl` from `now`.
std::string task_link(const std::string& public_url, const std::string& key, TaskNumber task,
                      const PersonId& person, Time now, Duration ttl);

struct Session {
  PersonId person;
  Time expires{};
  std::string id;  // random, per session: what the CSRF token is bound to
};
// The value of the session cookie.
std::string sign_session(const std::string& key, const Session& session);
std::optional<Session> verify_session(const std::string& key, const std::string& cookie, Time now,
                                      Refusal* refusal);
// The CSRF token of a session's forms; check_csrf compares in constant time.
std::string csrf_token(const std::string& key, const Session& session);
bool check_csrf(const std::string& key, const Session& session, const std::string& token);

// A new random session id (16 bytes from OpenSSL, hex).
std::string new_session_id();

}  // namespace tollgate::web
