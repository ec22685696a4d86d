#include "base/json.h"

namespace tollgate::json {
namespace {

// A linear pre-scan: RapidJSON's iterative parser has no depth limit of its
// own, and a deep document costs memory even without recursion.
bool too_deep(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxDepth) return true;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return false;
}

}  // namespace

Status parse(rapidjson::Document& doc, std::string_view text) {
  if (too_deep(text)) {
    return invalid_argument("JSON nested deeper than " + std::to_string(kMaxDepth) + " levels");
  }
  constexpr unsigned kFlags =
      rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
  doc.Parse<kFlags>(text.data(), text.size());
  if (doc.HasParseError()) {
    return invalid_argument(std::string("invalid JSON at offset ") +
                            std::to_string(doc.GetErrorOffset()) + ": " +
                            rapidjson::GetParseError_En(doc.GetParseError()));
  }
  return {};
}

std::string quote(std::string_view s) {
  rapidjson::StringBuffer b;
  Writer w(b);
  string(w, s);
  return text(b);
}

}  // namespace tollgate::json
