// Byte encodings several modules need, written once: base64 (the webhook
// signature, mail headers' encoded words, the task page's tokens) and
// percent-encoding (SCIM filters and ids in URLs, the task page's cookies).
#pragma once

#include <string>
#include <string_view>

namespace tollgate {

// RFC 4648 §4 base64, padded with '='.
std::string base64(std::string_view bytes);
// RFC 3986 percent-encoding of everything but the unreserved characters
// (A-Z a-z 0-9 - . _ ~), hex digits in upper case.
std::string percent_encode(std::string_view text);

}  // namespace tollgate
