// Private helpers for reading and writing JSON with RapidJSON in source
// files. Never include this from a header: RapidJSON stays out of interfaces.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "base/status.h"

namespace tollgate::json {

using rapidjson::Value;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// Iterative (no recursion), UTF-8 validated, and at most this deep.
constexpr int kMaxDepth = 64;

// Parses untrusted JSON; an error names the offset and reason.
Status parse(rapidjson::Document& doc, std::string_view text);

inline const Value* member(const Value& o, const char* key) {
  if (!o.IsObject()) return nullptr;
  auto it = o.FindMember(key);
  return it == o.MemberEnd() ? nullptr : &it->value;
}
inline std::string str(const Value& o, const char* key) {
  const Value* v = member(o, key);
  return v != nullptr && v->IsString() ? std::string(v->GetString(), v->GetStringLength())
                                       : std::string();
}
inline std::int64_t i64(const Value& o, const char* key) {
  const Value* v = member(o, key);
  return v != nullptr && v->IsInt64() ? v->GetInt64() : 0;
}
inline bool boolean(const Value& o, const char* key) {
  const Value* v = member(o, key);
  return v != nullptr && v->IsBool() && v->GetBool();
}
inline const Value* object(const Value& o, const char* key) {
  const Value* v = member(o, key);
  return v != nullptr && v->IsObject() ? v : nullptr;
}
inline const Value* array(const Value& o, const char* key) {
  const Value* v = member(o, key);
  return v != nullptr && v->IsArray() ? v : nullptr;
}

inline void key(Writer& w, std::string_view k) {
  w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
}
inline void string(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
inline void kv(Writer& w, std::string_view k, std::string_view v) {
  key(w, k);
  string(w, v);
}
inline std::string text(const rapidjson::StringBuffer& b) {
  return {b.GetString(), b.GetSize()};
}
// `s` as a JSON string literal, quotes included.
std::string quote(std::string_view s);

}  // namespace tollgate::json
