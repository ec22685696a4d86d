// libFuzzer target: interaction payloads (block_actions, view_submission, ...).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "slack/payloads.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)tollgate::slack::parse_interaction(
      std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
