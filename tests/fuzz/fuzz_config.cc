// libFuzzer target: configuration loading (JSON with comments, every check).
#include <cstddef>
#include <cstdint>
#include <string>

#include "workflow/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto cfg = tollgate::load_config_text(std::string(reinterpret_cast<const char*>(data), size));
  for (const auto& issue : cfg.issues) (void)tollgate::format_issue(issue);
  return 0;
}
