// Slack's message markup turned into readable text for comments: user and
// channel mentions, special mentions, links and dates, and the three escaped
// characters (&amp; &lt; &gt;).
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace tollgate::slack {

// Slack's three escapes (&amp; &lt; &gt;) undone, and nothing else.
std::string unescape(std::string_view escaped);

// `user_name` names a Slack user id ("U123" -> "Dana Reyes"), or returns "" when unknown.
std::string plain_text(std::string_view markup,
                       const std::function<std::string(const std::string&)>& user_name);

}  // namespace tollgate::slack
