// Slack request signatures (docs/slack-protocol.md §1): "v0=" + hex(HMAC-SHA256(secret,
// "v0:" + timestamp + ":" + raw body)), a timestamp within five minutes of
// now in either direction, compared in constant time. Checked over the raw
// bytes before anything is parsed.
#pragma once

#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"

namespace tollgate::slack {

// Code::permission_denied with a reason for the log (never shown to the
// sender) when the request is not from Slack; ok otherwise.
Status verify_signature(std::string_view signing_secret, std::string_view timestamp_header,
                        std::string_view signature_header, std::string_view body, Time now);

// The header value Slack would send: "v0=<64 hex>". For tests and the sandbox.
std::string sign(std::string_view signing_secret, std::string_view timestamp,
                 std::string_view body);

}  // namespace tollgate::slack
