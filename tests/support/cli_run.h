// Runs the tollgate binary as an operator would from a shell, for the tests of
// its subcommands: what it printed and how it exited.
#pragma once

#include <array>
#include <cstdio>
#include <string>
#include <sys/wait.h>

#include <gtest/gtest.h>

namespace tollgate::testing {

struct CliRun {
  int exit_code = -1;  // -1 when it could not be run or did not exit by itself
  std::string output;  // stdout and stderr
};

// `tollgate <args>` through the shell, with `env` first: variables for the shell to set, as
// "TOLLGATE_DB='sqlite:x' TOLLGATE_AUDIT_KEY=...". TOLLGATE_BINARY is the build's binary.
inline CliRun run_tollgate(const std::string& args, const std::string& env = {}) {
  std::string cmd = env + " " + std::string(TOLLGATE_BINARY) + " " + args + " 2>&1";
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  while (std::size_t n = fread(buf.data(), 1, buf.size(), p)) r.output.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Whether the run exited with `code` having printed `text`; if not, all it printed.
inline ::testing::AssertionResult exited_saying(const CliRun& r, int code,
                                                const std::string& text) {
  bool said = r.output.find(text) != std::string::npos;
  if (r.exit_code == code && said) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "exit code " << r.exit_code << " (expected " << code << "), \"" << text << "\" "
         << (said ? "" : "not ") << "printed, in:\n"
         << r.output;
}

}  // namespace tollgate::testing
