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

std::optional<Action> button_action(std::string_view action_id) {
  std::optional<Action> a = parse_action(action_id);
  if (!a || is_system_action(*a)) return std::nullopt;
  switch (*a) {
    case Action::approve:
    case Action::deny:
    case Action::confirm:
    case Action::provisioned:
    case Action::wont_provision:
    case Action::deprovisioned:
    case Action::wont_deprovision:
    case Action::cancel:
    case Action::retry:
      return a;
    default:
      return std::nullopt;
  }
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

namespace {

std::string escape_part(std::string_view part) {
  std::string out;
  for (char c : part) {
    if (c == '%') {
      out += "%25";
    } else if (c == ':') {
      out += "%3A";
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> unescape_part(std::string_view part) {
  std::string out;
  for (std::size_t i = 0; i < part.size(); ++i) {
    if (part[i] != '%') {
      out += part[i];
      continue;
    }
    std::string_view code = part.substr(i + 1, 2);
    if (code == "25") {
      out += '%';
    } else if (code == "3A") {
      out += ':';
    } else {
      return std::nullopt;
    }
    i += 2;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

}  // namespace

std::string access_ref(const std::string& app, const std::string& resource) {
  return escape_part(app) + ":" + escape_part(resource);
}

std::optional<AccessRef> parse_access_ref(std::string_view v) {
  auto colon = v.find(':');
  if (v.size() > 2000 || colon == std::string_view::npos ||
      v.find(':', colon + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  auto app = unescape_part(v.substr(0, colon));
  auto resource = unescape_part(v.substr(colon + 1));
  if (!app || !resource) return std::nullopt;
  return AccessRef{std::move(*app), std::move(*resource)};
}

}  // namespace tollgate::slack
