// serve's settings from the environment (the secrets, the URLs, the numbers,
// the choices), read strictly: a value that is not exactly one of the forms
// a variable takes stops the command before it starts, with a message that
// names the variable and the form, rather than run on a value guessed.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "cmd/tollgate/process.h"

namespace tollgate {

// The variable's value; `fallback` when it is unset or empty.
std::string env(const char* name, std::string fallback = {});

// The one reader of numeric environment variables. A value is digits only
// (no sign, unit, space, fraction or exponent) within [min, max]; `into` is
// left alone when the variable is unset. Anything else, an empty value too,
// is an error that names the variable, `unit` and the range.
Status env_number(const char* name, std::int64_t min, std::int64_t max, const char* unit,
                  std::int64_t& into);
// env_number in milliseconds (no unit in the value).
Status env_ms(const char* name, std::int64_t min, std::int64_t max,
              std::chrono::milliseconds& into);
// One of `allowed`, or unset (then `fallback`).
StatusOr<std::string> env_choice(const char* name, const std::vector<std::string>& allowed,
                                 const std::string& fallback);

// Everything serve reads from the environment into `app`: SLACK_*, TOLLGATE_*
// (docs/operating.md lists them); TOLLGATE_LOG_LEVEL is checked only (serve
// applies it).
Status read_environment(ProcessOptions& app);

// TOLLGATE_SANDBOX: "on" runs the sandbox, "off" never, "auto" (the default)
// when neither SLACK_BOT_TOKEN nor SLACK_SIGNING_SECRET is set (a quick start
// without a Slack app). `app.sandbox` may be set already (--sandbox).
Status read_sandbox(ProcessOptions& app);

}  // namespace tollgate
