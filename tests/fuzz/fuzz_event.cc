// libFuzzer target: Events API callbacks.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "slack/payloads.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)tollgate::slack::parse_event(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
