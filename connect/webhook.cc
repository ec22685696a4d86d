// Standard Webhooks (https://www.standardwebhooks.com): the signature, its verification and
// the event Tollgate delivers.
#include <charconv>
#include <cstdlib>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base/encoding.h"
#include "base/json.h"
#include "base/time_text.h"
#include "connect/internal.h"

namespace tollgate::connect {
namespace {

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64, with or without its padding; nullopt for anything else.
std::optional<std::string> unbase64(std::string_view in) {
  std::size_t pad = 0;
  while (pad < 2 && !in.empty() && in.back() == '=') {
    in.remove_suffix(1);
    ++pad;
  }
  if ((pad > 0 && (in.size() + pad) % 4 != 0) || in.size() % 4 == 1) return std::nullopt;
  std::string out;
  unsigned bits = 0;
  int have = 0;
  for (char c : in) {
    int v = base64_value(c);
    if (v < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<unsigned>(v);
    have += 6;
    if (have >= 8) {
      have -= 8;
      out.push_back(static_cast<char>((bits >> have) & 0xff));
    }
  }
  return out;
}

StatusOr<std::string> signing_key(const std::string& secret) {
  std::string_view b64 = secret;
  if (b64.starts_with("whsec_")) b64.remove_prefix(6);
  auto key = unbase64(b64);
  if (!key || key->empty())
    return invalid_argument("the webhook secret is not base64 (\"whsec_\" then base64)");
  return *key;
}

std::string hmac_sha256(const std::string& key, const std::string& message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

std::int64_t unix_seconds(Time t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

void person_json(json::Writer& w, const Job& job) {
  json::key(w, "person");
  w.StartObject();
  json::kv(w, "id", job.person);
  json::kv(w, "name", job.person_name);
  json::kv(w, "email", job.email);
  w.EndObject();
}

void named(json::Writer& w, const char* key, const std::string& id, const std::string& name) {
  json::key(w, key);
  w.StartObject();
  json::kv(w, "id", id);
  json::kv(w, "name", name);
  w.EndObject();
}

}  // namespace

StatusOr<std::string> webhook_signature(const std::string& secret, const std::string& id,
                                        std::int64_t timestamp, const std::string& body) {
  auto key = signing_key(secret);
  if (!key.ok()) return key.status();
  return "v1," + base64(hmac_sha256(*key, id + "." + std::to_string(timestamp) + "." + body));
}

Status verify_webhook(const std::string& secret, const std::string& id,
                      const std::string& timestamp, const std::string& signature_header,
                      const std::string& body, Time now, std::chrono::seconds tolerance) {
  if (id.empty()) return invalid_argument("webhook-id is missing");
  std::int64_t ts = 0;
  auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ts);
  if (timestamp.empty() || ec != std::errc() || end != timestamp.data() + timestamp.size())
    return invalid_argument("webhook-timestamp is not a whole number of seconds");
  std::int64_t away = unix_seconds(now) - ts;
  if (away < 0) away = -away;
  if (away > tolerance.count())
    return permission_denied("webhook timestamp is " + std::to_string(away) +
                             " s away from now (at most " + std::to_string(tolerance.count()) +
                             " s)");
  auto expected = webhook_signature(secret, id, ts, body);
  if (!expected.ok()) return expected.status();
  const std::string& want = *expected;  // "v1,<base64>"
  bool any = false, match = false;
  std::string_view rest = signature_header;
  while (!rest.empty()) {
    std::size_t sp = rest.find(' ');
    std::string_view entry = rest.substr(0, sp);
    rest.remove_prefix(sp == std::string_view::npos ? rest.size() : sp + 1);
    if (!entry.starts_with("v1,")) continue;  // another scheme (v1a, …): not ours to check
    any = true;
    // Constant time over the whole signature; the length is no secret.
    if (entry.size() == want.size() && CRYPTO_memcmp(entry.data(), want.data(), want.size()) == 0)
      match = true;
  }
  if (!any) return invalid_argument("webhook-signature has no \"v1,\" signature");
  if (!match) return permission_denied("webhook signature does not match");
  return Status{};
}

std::string webhook_event(const Job& job, Time now) {
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::kv(w, "type", job.op == Op::grant ? "access.grant" : "access.revoke");
  json::kv(w, "timestamp", format_iso8601(now));
  json::key(w, "data");
  w.StartObject();
  json::kv(w, "id", job.idempotency_id);
  json::key(w, "task");
  w.Int64(job.task);
  person_json(w, job);
  named(w, "app", job.app, job.app_name);
  named(w, "resource", job.resource, job.resource_name);
  json::key(w, "expires_at");
  if (job.expires_at) {
    json::string(w, format_iso8601(*job.expires_at));
  } else {
    w.Null();
  }
  json::kv(w, "callback_url", job.callback_url);
  w.EndObject();
  w.EndObject();
  return json::text(b);
}

std::string ping_event(const std::string& app, Time now) {
  rapidjson::StringBuffer b;
  json::Writer w(b);
  w.StartObject();
  json::kv(w, "type", "tollgate.ping");
  json::kv(w, "timestamp", format_iso8601(now));
  json::key(w, "data");
  w.StartObject();
  json::key(w, "app");
  w.StartObject();
  json::kv(w, "id", app);
  w.EndObject();
  w.EndObject();
  w.EndObject();
  return json::text(b);
}

void deliver_webhook(const std::shared_ptr<HttpClient>& http, const Connector& connector,
                     const std::string& secret, const std::string& id, const std::string& body,
                     Time now, std::function<void(Result)> done) {
  std::int64_t ts = unix_seconds(now);
  auto signature = webhook_signature(secret, id, ts, body);
  if (!signature.ok()) {
    http->post(
        [done = std::move(done), why = signature.status().message(), env = connector.secret_env] {
          done(result(Outcome::failed, "secret_env " + env + ": " + why));
        });
    return;
  }
  HttpRequest r;
  r.method = "POST";
  r.url = connector.url;
  r.timeout = connector.timeout;
  r.body = body;
  r.headers = {"Content-Type: application/json", "User-Agent: Tollgate", "webhook-id: " + id,
               "webhook-timestamp: " + std::to_string(ts), "webhook-signature: " + *signature};
  http->send(std::move(r), [url = connector.url, done = std::move(done)](HttpResponse a) {
    if (a.status == 202) {
      return done(result(Outcome::accepted,
                         "HTTP 202 from " + shown_url(url) + ": accepted, to be confirmed", 202));
    }
    if (a.status >= 200 && a.status < 300)
      return done(result(Outcome::done,
                         "HTTP " + std::to_string(a.status) + " from " + shown_url(url), a.status));
    done(http_failure(a, url, snippet(a.body)));
  });
}

}  // namespace tollgate::connect
