// libFuzzer target: the /tasks grammar, and target resolution against the example company.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "edge/tasks_command.h"
#include "workflow/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto dir =
      tollgate::load_config_file(std::string(TOLLGATE_SOURCE_DIR) + "/examples/acme.json")
          .directory;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = tollgate::parse_tasks_command(text);
  if (c.ok() && !c->target.empty() && dir) (void)tollgate::resolve_target(*dir, c->target);
  (void)tollgate::parse_user_ref(text);
  return 0;
}
