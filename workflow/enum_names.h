// The names of an enum's values, kept in one table of (value, name) pairs per
// enum, so that each name is spelled once for writing and for reading back.
// Private to workflow/'s sources.
#pragma once

#include <optional>
#include <string_view>

namespace tollgate::enum_names {

// The name of `value` in `pairs`; "unknown" for a value the table lacks.
template <typename Pairs, typename E>
std::string_view name_of(const Pairs& pairs, E value) {
  for (const auto& [v, n] : pairs) {
    if (v == value) return n;
  }
  return "unknown";
}

// The value named `name` in `pairs`, if any.
template <typename E, typename Pairs>
std::optional<E> parse_of(const Pairs& pairs, std::string_view name) {
  for (const auto& [v, n] : pairs) {
    if (n == name) return v;
  }
  return std::nullopt;
}

}  // namespace tollgate::enum_names
