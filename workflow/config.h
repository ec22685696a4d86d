// Loading the configuration file (docs/operating.md, "Configuration") into a Directory.
//
// The loader never stops at the first problem: it reports every one it finds,
// each with the JSON path of the value at fault ("$.people[3].manager"), so that
// `tollgate check-config` can list them all at once. Comments (// and /* */) and
// trailing commas are allowed. Unknown keys are errors: a misspelt key would
// otherwise silently change who reviews what.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "workflow/directory.h"

namespace tollgate {

struct ConfigIssue {
  enum class Severity { error, warning };
  Severity severity = Severity::error;
  std::string path;  // "$.apps[1].resources[0].request_policy"; "$" for the document
  std::string message;
};

struct LoadedConfig {
  // Set whenever the text parsed as JSON, even with errors, so that the
  // caller can decide; use it only when ok().
  std::shared_ptr<const Directory> directory;
  std::vector<ConfigIssue> issues;

  bool ok() const;
  std::size_t error_count() const;
};

LoadedConfig load_config_text(std::string_view text);
// Reads the file; an unreadable file is one issue at path "$".
LoadedConfig load_config_file(const std::string& path);

// "error: $.people[3].manager: unknown person \"zed\"".
std::string format_issue(const ConfigIssue& issue);

}  // namespace tollgate
