#include "web/links.h"

#include <charconv>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "base/encoding.h"

namespace tollgate::web {
namespace {

// What each MAC is for: a link's signature is never a session's, nor a CSRF token's.
constexpr std::string_view kLinkPurpose = "tollgate-link\n";
constexpr std::string_view kSessionPurpose = "tollgate-session\n";
constexpr std::string_view kCsrfPurpose = "tollgate-csrf\n";
// Anything longer is not ours: refused before any decoding.
constexpr std::size_t kMaxToken = 1024;

std::string base64url(std::string_view bytes) {
  std::string out = base64(bytes);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::optional<std::string> unbase64url(std::string_view text) {
  std::string b64(text);
  for (char& c : b64) {
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    } else if (c == '+' || c == '/' || c == '=') {
      return std::nullopt;  // only the URL-safe alphabet, unpadded
    }
  }
  std::size_t pad = (4 - b64.size() % 4) % 4;
  if (pad == 3) return std::nullopt;
  b64.append(pad, '=');
  std::string out(3 * b64.size() / 4 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()),
                          static_cast<int>(b64.size()));
  if (n < 0 || static_cast<std::size_t>(n) < pad) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);
  // One spelling per value: unused low bits set make another string of the
  // same bytes, which would let a token be changed and still verify.
  if (base64url(out) != text) return std::nullopt;
  return out;
}

std::string mac(const std::string& key, std::string_view purpose, std::string_view payload) {
  std::string message(purpose);
  message += payload;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &len);
  return std::string(reinterpret_cast<const char*>(digest), len);
}

// "<base64url payload>.<base64url mac>".
std::string seal(const std::string& key, std::string_view purpose, const std::string& payload) {
  return base64url(payload) + "." + base64url(mac(key, purpose, payload));
}

// The payload of a sealed value whose MAC matches (constant-time), or why not.
std::optional<std::string> open(const std::string& key, std::string_view purpose,
                                const std::string& sealed, Refusal* refusal) {
  *refusal = Refusal::malformed;
  if (sealed.empty() || sealed.size() > kMaxToken) return std::nullopt;
  auto dot = sealed.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == sealed.size() ||
      sealed.find('.', dot + 1) != std::string::npos) {
    return std::nullopt;
  }
  auto payload = unbase64url(std::string_view(sealed).substr(0, dot));
  auto given = unbase64url(std::string_view(sealed).substr(dot + 1));
  if (!payload || !given) return std::nullopt;
  std::string expected = mac(key, purpose, *payload);
  if (given->size() != expected.size() ||
      CRYPTO_memcmp(given->data(), expected.data(), expected.size()) != 0) {
    *refusal = Refusal::tampered;
    return std::nullopt;
  }
  *refusal = Refusal::none;
  return payload;
}

std::vector<std::string> fields(const std::string& payload) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto nl = payload.find('\n', start);
    out.push_back(payload.substr(start, nl - start));
    if (nl == std::string::npos) return out;
    start = nl + 1;
  }
}

std::optional<std::int64_t> number(const std::string& text) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

std::int64_t ms(Time t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

// Payload: "l1\n<task>\n<person>\n<expires, ms>". A person id holds no newline
// (the configuration's ids are single tokens); one that did would not verify.
std::string sign_link(const std::string& key, const LinkClaims& c) {
  return seal(
      key, kLinkPurpose,
      "l1\n" + std::to_string(c.task) + "\n" + c.person + "\n" + std::to_string(ms(c.expires)));
}

std::optional<LinkClaims> verify_link(const std::string& key, const std::string& token, Time now,
                                      Refusal* refusal) {
  auto payload = open(key, kLinkPurpose, token, refusal);
  if (!payload) return std::nullopt;
  std::vector<std::string> f = fields(*payload);
  auto task = f.size() == 4 ? number(f[1]) : std::nullopt;
  auto expires = f.size() == 4 ? number(f[3]) : std::nullopt;
  if (f.size() != 4 || f[0] != "l1" || !task || *task <= 0 || f[2].empty() || !expires) {
    *refusal = Refusal::malformed;
    return std::nullopt;
  }
  LinkClaims c{*task, f[2], Time(std::chrono::milliseconds(*expires))};
  if (now >= c.expires) {
    *refusal = Refusal::expired;
    return std::nullopt;
  }
  return c;
}

std::string task_link(const std::string& public_url, const std::string& key, TaskNumber task,
                      const PersonId& person, Time now, Duration ttl) {
  return public_url + "/t/" + sign_link(key, {task, person, now + ttl});
}

// Payload: "s1\n<person>\n<expires, ms>\n<id>".
std::string sign_session(const std::string& key, const Session& s) {
  return seal(key, kSessionPurpose,
              "s1\n" + s.person + "\n" + std::to_string(ms(s.expires)) + "\n" + s.id);
}

std::optional<Session> verify_session(const std::string& key, const std::string& cookie, Time now,
                                      Refusal* refusal) {
  auto payload = open(key, kSessionPurpose, cookie, refusal);
  if (!payload) return std::nullopt;
  std::vector<std::string> f = fields(*payload);
  auto expires = f.size() == 4 ? number(f[2]) : std::nullopt;
  if (f.size() != 4 || f[0] != "s1" || f[1].empty() || !expires || f[3].empty()) {
    *refusal = Refusal::malformed;
    return std::nullopt;
  }
  Session s{f[1], Time(std::chrono::milliseconds(*expires)), f[3]};
  if (now >= s.expires) {
    *refusal = Refusal::expired;
    return std::nullopt;
  }
  return s;
}

std::string csrf_token(const std::string& key, const Session& s) {
  return base64url(mac(key, kCsrfPurpose, s.id + "\n" + s.person));
}

bool check_csrf(const std::string& key, const Session& s, const std::string& token) {
  std::string expected = csrf_token(key, s);
  return token.size() == expected.size() &&
         CRYPTO_memcmp(token.data(), expected.data(), expected.size()) == 0;
}

std::string new_session_id() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace tollgate::web
