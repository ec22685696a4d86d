#include "slack/markup.h"

namespace tollgate::slack {

std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '&') {
      if (s.substr(i, 5) == "&amp;") {
        out += '&';
        i += 4;
        continue;
      }
      if (s.substr(i, 4) == "&lt;") {
        out += '<';
        i += 3;
        continue;
      }
      if (s.substr(i, 4) == "&gt;") {
        out += '>';
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::string plain_text(std::string_view m,
                       const std::function<std::string(const std::string&)>& user_name) {
  std::string out;
  std::size_t i = 0;
  while (i < m.size()) {
    std::size_t open = m.find('<', i);
    if (open == std::string_view::npos) {
      out += unescape(m.substr(i));
      break;
    }
    std::size_t close = m.find('>', open);
    if (close == std::string_view::npos) {
      out += unescape(m.substr(i));
      break;
    }
    out += unescape(m.substr(i, open - i));
    std::string_view inner = m.substr(open + 1, close - open - 1);
    std::size_t bar = inner.find('|');
    std::string_view target = inner.substr(0, bar);
    std::string label =
        bar == std::string_view::npos ? std::string() : unescape(inner.substr(bar + 1));
    if (!target.empty() && target[0] == '@') {
      std::string id(target.substr(1));
      std::string name = label.empty() && user_name ? user_name(id) : label;
      out += "@" + (name.empty() ? id : name);
    } else if (!target.empty() && target[0] == '#') {
      out += "#" + (label.empty() ? std::string(target.substr(1)) : label);
    } else if (!target.empty() && target[0] == '!') {
      std::string_view what = target.substr(1);
      if (!label.empty()) {
        out += label;  // <!subteam^S1|@team>, <!date^…|fallback>
      } else {
        out += "@" + std::string(what.substr(0, what.find('^')));  // @here, @channel, @everyone
      }
    } else {
      std::string url = unescape(target);
      if (url.rfind("mailto:", 0) == 0) {
        out += label.empty() ? url.substr(7) : label;
      } else if (label.empty() || label == url) {
        out += url;
      } else {
        out += label + " (" + url + ")";
      }
    }
    i = close + 1;
  }
  return out;
}

}  // namespace tollgate::slack
