#include "slack/actions.h"

#include <charconv>

namespace tollgate::slack {

std::string task_ref(TaskNumber task, int step) {
  return std::to_string(task) + ":" + std::to_string(step);
}

std::optional<TaskRef> parse_task_ref(std::string_view v) {
  auto colon = v.find(':');
  if (colon == std::string_view::npos || v.size() > 40) return std::nullopt;
  TaskRef r;
  auto a = std::from_chars(v.data(), v.data() + colon, r.task);
  auto b = std::from_chars(v.data() + colon + 1, v.data() + v.size(), r.step);
  if (a.ec != std::errc() || a.ptr != v.data() + colon || b.ec != std::errc() ||
      b.ptr != v.data() + v.size() || r.task <= 0 || r.step < -1 || r.step > 100) {
    return std::nullopt;
  }
  return r;
}

std::string task_refs(const std::vector<TaskRef>& refs) {
  std::string out;
  for (const TaskRef& r : refs) out += (out.empty() ? "" : ",") + task_ref(r.task, r.step);
  return out;
}

std::optional<std::vector<TaskRef>> parse_task_refs(std::string_view v) {
  std::vector<TaskRef> out;
  while (!v.empty()) {
    auto comma = v.find(',');
    auto ref = parse_task_ref(v.substr(0, comma));
    if (!ref) return std::nullopt;
    out.push_back(*ref);
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
    if (v.empty()) return std::nullopt;  // a trailing comma
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::string access_ref(const std::string& app, const std::string& resource) {
  return app + ":" + resource;
}

std::optional<AccessRef> parse_access_ref(std::string_view v) {
  auto colon = v.find(':');
  if (v.size() > 200 || colon == std::string_view::npos || colon == 0 || colon + 1 == v.size() ||
      v.find(':', colon + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  return AccessRef{std::string(v.substr(0, colon)), std::string(v.substr(colon + 1))};
}

}  // namespace tollgate::slack
