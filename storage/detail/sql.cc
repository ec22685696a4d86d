#include "storage/detail/sql.h"

namespace tollgate::detail {

std::string numbered_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  char quote = 0;  // the quote character of the literal or name being read
  for (char ch : sql) {
    if (quote != 0) {
      if (ch == quote) quote = 0;  // a doubled quote reopens at once: still right
    } else if (ch == '\'' || ch == '"') {
      quote = ch;
    } else if (ch == '?') {
      out += '$' + std::to_string(++n);
      continue;
    }
    out += ch;
  }
  return out;
}

}  // namespace tollgate::detail
