#include "slack/signature.h"

#include <charconv>
#include <chrono>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace tollgate::slack {
namespace {

constexpr auto kWindow = std::chrono::minutes(5);

}  // namespace

std::string sign(std::string_view secret, std::string_view timestamp, std::string_view body) {
  std::string base = "v0:";
  base.append(timestamp);
  base += ':';
  base.append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(base.data()), base.size(), mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "v0=";
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 0xf];
  }
  return out;
}

Status verify_signature(std::string_view secret, std::string_view timestamp,
                        std::string_view signature, std::string_view body, Time now) {
  if (secret.empty()) return permission_denied("no signing secret configured");
  if (timestamp.empty() || signature.empty()) return permission_denied("missing signature headers");
  long long ts = 0;
  auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ts);
  if (ec != std::errc() || end != timestamp.data() + timestamp.size() || timestamp.size() > 12 ||
      ts < 0) {
    return permission_denied("timestamp is not a number of seconds");
  }
  auto sent = Time(std::chrono::seconds(ts));
  if (sent < now - kWindow || sent > now + kWindow) {
    return permission_denied("timestamp outside the five-minute window");
  }
  if (signature.substr(0, 3) != "v0=") return permission_denied("unknown signature version");
  std::string expected = sign(secret, timestamp, body);
  if (signature.size() != expected.size() ||
      CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0) {
    return permission_denied("signature mismatch");
  }
  return {};
}

}  // namespace tollgate::slack
