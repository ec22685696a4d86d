#include "cmd/tollgate/environment.h"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <string_view>

#include "base/time_text.h"
#include "slack/socket_mode.h"

namespace tollgate {
namespace {

constexpr std::int64_t kHourMs = 3600 * 1000;
constexpr std::int64_t kDayMs = 24 * kHourMs;

// The numbers: every one strictly (env_number).
Status read_numbers(ProcessOptions& app) {
  for (Status s : {env_ms("TOLLGATE_SCHEDULER_INTERVAL_MS", 0, kDayMs, app.scheduler_interval),
                   env_ms("TOLLGATE_OUTBOX_LEASE_MS", 1, kDayMs, app.outbox_lease),
                   env_ms("TOLLGATE_OUTBOX_MAX_AGE_MS", 60 * 1000, 30 * kDayMs, app.outbox_max_age),
                   env_ms("TOLLGATE_HEADER_TIMEOUT_MS", 1, kHourMs, app.header_timeout)}) {
    if (!s.ok()) return s;
  }
  std::int64_t budget_mib = static_cast<std::int64_t>(app.body_budget >> 20);
  if (Status s = env_number("TOLLGATE_BODY_BUDGET_MB", 2, 65536, "MiB", budget_mib); !s.ok())
    return s;
  app.body_budget = static_cast<std::size_t>(budget_mib) << 20;
  std::int64_t sockets = app.socket_connections;
  if (Status s = env_number("TOLLGATE_SOCKET_CONNECTIONS", 1, 10, "connections", sockets); !s.ok())
    return s;
  app.socket_connections = static_cast<int>(sockets);
  return {};
}

// "https://Tollgate.Acme.test:443/x" as browsers send its origin:
// "https://tollgate.acme.test/x" (the scheme and host in lower case, the
// default port dropped), so that the task page's Origin check matches.
void normalise_origin(std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return;
  auto host_end = url.find('/', scheme_end + 3);
  std::string origin = url.substr(0, host_end);
  for (char& c : origin) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* port : {"https://|:443", "http://|:80"}) {
    std::string_view p(port);
    std::string_view scheme = p.substr(0, p.find('|')), suffix = p.substr(p.find('|') + 1);
    if (origin.rfind(scheme, 0) == 0 && origin.size() > suffix.size() &&
        origin.compare(origin.size() - suffix.size(), suffix.size(), suffix) == 0) {
      origin.resize(origin.size() - suffix.size());
    }
  }
  url = origin + (host_end == std::string::npos ? "" : url.substr(host_end));
}

}  // namespace

std::string env(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

Status env_number(const char* name, std::int64_t min, std::int64_t max, const char* unit,
                  std::int64_t& into) {
  const char* v = std::getenv(name);
  if (v == nullptr) return {};
  std::string_view text(v);
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  bool digits = !text.empty() && std::isdigit(static_cast<unsigned char>(text.front())) != 0;
  if (!digits || ec != std::errc() || end != text.data() + text.size() || n < min || n > max) {
    return invalid_argument(std::string(name) + " must be a whole number of " + unit + " from " +
                            std::to_string(min) + " to " + std::to_string(max) +
                            ", digits only, not \"" + std::string(text) + "\"");
  }
  into = n;
  return {};
}

Status env_ms(const char* name, std::int64_t min, std::int64_t max,
              std::chrono::milliseconds& into) {
  std::int64_t n = into.count();
  Status s = env_number(name, min, max, "milliseconds (no unit)", n);
  into = std::chrono::milliseconds(n);
  return s;
}

StatusOr<std::string> env_choice(const char* name, const std::vector<std::string>& allowed,
                                 const std::string& fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr) return fallback;
  for (const std::string& a : allowed) {
    if (a == v) return a;
  }
  std::string list;
  for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
  return invalid_argument(std::string(name) + " must be one of " + list + ", not \"" + v + "\"");
}

Status read_environment(ProcessOptions& app) {
  app.tls_cert = env("TOLLGATE_TLS_CERT");
  app.tls_key = env("TOLLGATE_TLS_KEY");
  app.signing_secret = env("SLACK_SIGNING_SECRET");
  app.bot_token = env("SLACK_BOT_TOKEN");
  app.slack_api_url = env("SLACK_API_URL", "https://slack.com/api");
  app.app_token = env("SLACK_APP_TOKEN");
  if (!app.app_token.empty()) {
    if (Status s = slack::check_app_token(app.app_token, "SLACK_APP_TOKEN"); !s.ok()) return s;
  }
  app.team_id = env("SLACK_TEAM_ID");
  app.api_token = env("TOLLGATE_API_TOKEN");
  app.public_url = env("TOLLGATE_PUBLIC_URL");
  while (!app.public_url.empty() && app.public_url.back() == '/') app.public_url.pop_back();
  normalise_origin(app.public_url);
  if (!app.public_url.empty() && app.public_url.rfind("https://", 0) != 0 &&
      app.public_url.rfind("http://", 0) != 0) {
    return invalid_argument("TOLLGATE_PUBLIC_URL must start with https:// (or http://), not \"" +
                            app.public_url + "\"");
  }
  if (app.public_url.find_first_of(" <>|\"\\") != std::string::npos) {
    return invalid_argument("TOLLGATE_PUBLIC_URL must be a plain URL, not \"" + app.public_url +
                            "\"");
  }
  app.link_key = env("TOLLGATE_LINK_KEY");
  if (!app.link_key.empty() && app.link_key.size() < 32) {
    return invalid_argument("TOLLGATE_LINK_KEY must be at least 32 characters (a random secret; "
                            "`openssl rand -hex 32` makes one)");
  }
  if (std::string ttl = env("TOLLGATE_LINK_TTL"); !ttl.empty()) {
    auto d = parse_duration(ttl);
    if (!d || *d < std::chrono::minutes(1) || *d > std::chrono::hours(24 * 90)) {
      return invalid_argument("TOLLGATE_LINK_TTL must be a duration from 1m to 90d such as "
                              "\"7d\", not \"" + ttl + "\"");
    }
    app.link_ttl = *d;
  }
  if (!app.link_key.empty() && !app.public_url.empty()) {
    auto scheme_end = app.public_url.find("://") + 3;
    if (app.public_url.find('/', scheme_end) != std::string::npos) {
      return invalid_argument("TOLLGATE_PUBLIC_URL must name no path when TOLLGATE_LINK_KEY is set "
                              "(the task page lives at /t/ of its host), not \"" +
                              app.public_url + "\"");
    }
  }
  app.smtp_url = env("TOLLGATE_SMTP_URL");
  app.smtp_from = env("TOLLGATE_SMTP_FROM", "Tollgate <tollgate@localhost>");
  if (Status s = read_numbers(app); !s.ok()) return s;
  auto delivery = env_choice("TOLLGATE_DELIVERY", {"on", "off"}, "on");
  if (!delivery.ok()) return delivery.status();
  app.deliver = *delivery == "on";
  auto level = env_choice("TOLLGATE_LOG_LEVEL",
                          {"trace", "debug", "info", "warn", "error", "critical", "off"}, "info");
  if (!level.ok()) return level.status();
  return {};
}

Status read_sandbox(ProcessOptions& app) {
  std::string sandbox = env("TOLLGATE_SANDBOX", "auto");
  if (sandbox != "on" && sandbox != "off" && sandbox != "auto") {
    return invalid_argument("TOLLGATE_SANDBOX must be on, off or auto, not " + sandbox);
  }
  if (sandbox == "on") app.sandbox = true;
  // Any Slack credential (an app token for Socket Mode too) means Slack, not the sandbox.
  if (!app.sandbox && sandbox != "off" && app.bot_token.empty() && app.signing_secret.empty() &&
      app.app_token.empty()) {
    app.sandbox = true;
  }
  return {};
}

}  // namespace tollgate
