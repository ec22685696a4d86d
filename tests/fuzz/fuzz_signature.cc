// libFuzzer target: the signature check, on any timestamp, signature and body.
// The input is split at the first two newlines: timestamp, signature, body.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "slack/signature.h"
#include "base/clock.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto a = in.find('\n');
  auto b = a == std::string_view::npos ? a : in.find('\n', a + 1);
  std::string_view ts = in.substr(0, a);
  std::string_view sig =
      a == std::string_view::npos ? std::string_view() : in.substr(a + 1, b - a - 1);
  std::string_view body = b == std::string_view::npos ? std::string_view() : in.substr(b + 1);
  tollgate::Time now{tollgate::Duration(1700000000000LL)};
  auto s =
      tollgate::slack::verify_signature("8f742231b10e8888abcd99yyyzzz85a5", ts, sig, body, now);
  // The only input accepted is one signed with the secret, within five minutes of now.
  if (s.ok() && sig != tollgate::slack::sign("8f742231b10e8888abcd99yyyzzz85a5", ts, body)) {
    __builtin_trap();
  }
  return 0;
}
