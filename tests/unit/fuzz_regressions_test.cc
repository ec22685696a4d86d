// Inputs that fuzzing found crashing (tests/fuzz/regressions/TARGET/*), kept
// and run on every build through the same functions as their fuzz target. The
// asan preset (scripts/sanitize.sh) runs them under AddressSanitizer too.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>

#include "slack/payloads.h"
#include "slack/signature.h"
#include "edge/tasks_command.h"
#include "workflow/config.h"

namespace tollgate {
namespace {

std::vector<std::string> inputs(const std::string& target) {
  std::vector<std::string> out;
  std::filesystem::path dir =
      std::filesystem::path(TOLLGATE_SOURCE_DIR) / "tests/fuzz/regressions" / target;
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::ifstream f(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    out.push_back(ss.str());
  }
  return out;
}

// Each input as the fuzzer gave it: in a buffer of its own size, with no NUL after it.
std::string_view exact(const std::string& s, std::vector<char>& buffer) {
  buffer.assign(s.begin(), s.end());
  buffer.shrink_to_fit();
  return std::string_view(buffer.data(), buffer.size());
}

TEST(FuzzRegressions, AnEmptyFormBodyIsReadAsNoFields) {
  std::vector<char> one{'x'};
  auto f = slack::parse_form(std::string_view(one.data(), 0));
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->fields.empty());
}

TEST(FuzzRegressions, AFormBodyWithANulByteIsRefusedNotCutShort) {
  std::string body("token=x&text=a\0b&user_id=U1", 27);
  auto f = slack::parse_form(body);
  EXPECT_EQ(f.code(), Code::invalid_argument);
  EXPECT_EQ(f.status().message(), "malformed form body: it contains a NUL byte");
}

TEST(FuzzRegressions, EveryKeptInputIsHandled) {
  std::vector<char> buffer;
  int n = 0;
  for (const std::string& in : inputs("form")) {
    auto f = slack::parse_form(exact(in, buffer));
    if (f.ok()) (void)slack::parse_slash_command(*f);
    ++n;
  }
  for (const std::string& in : inputs("interaction")) {
    (void)slack::parse_interaction(exact(in, buffer));
    ++n;
  }
  for (const std::string& in : inputs("event")) {
    (void)slack::parse_event(exact(in, buffer));
    ++n;
  }
  for (const std::string& in : inputs("tasks_command")) {
    (void)parse_tasks_command(exact(in, buffer));
    ++n;
  }
  for (const std::string& in : inputs("config")) {
    (void)load_config_text(in);
    ++n;
  }
  EXPECT_GE(n, 1) << "the kept inputs were found";
}

}  // namespace
}  // namespace tollgate
