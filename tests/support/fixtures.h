// Slack's own payloads, from tests/fixtures/slack (SOURCES.md there says where each came from).
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace tollgate::testing {

inline std::string slack_fixture_dir() { return TOLLGATE_SLACK_FIXTURES; }

// The file's bytes, exactly as stored.
inline std::string slack_fixture(const std::string& name) {
  std::ifstream in(slack_fixture_dir() + "/" + name, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace tollgate::testing
