// libFuzzer target: form decoding and the slash command built from it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "slack/payloads.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto form = tollgate::slack::parse_form(body);
  if (form.ok()) (void)tollgate::slack::parse_slash_command(*form);
  return 0;
}
