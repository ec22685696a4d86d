// A test run again in a process of its own in which a shared library cannot be loaded: the
// file under the library's name in the first folder of its library path is not a library. For
// code that loads a library when it first needs it (base/shared_library.h), which is loaded
// once per process and so cannot be made to fail in the test's own.
//
//   TEST(Suite, Name) {
//     if (!testing::without_library()) {
//       EXPECT_TRUE(testing::passes_without("libx.so.1"));
//       return;
//     }
//     ...  // runs where libx.so.1 cannot load
//   }
#pragma once

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace tollgate::testing {

inline constexpr const char* kWithoutLibraryVariable = "TOLLGATE_TEST_WITHOUT_LIBRARY";

// Whether this process is the one run by passes_without().
inline bool without_library() {
  return std::getenv(kWithoutLibraryVariable) != nullptr;
}

// Runs the current test alone in a new process of this test binary, in which `soname` cannot be
// loaded; success when it ran and passed there, else what it printed.
inline ::testing::AssertionResult passes_without(const std::string& soname) {
  std::array<char, 4096> self{};
  ssize_t n = readlink("/proc/self/exe", self.data(), self.size() - 1);
  if (n <= 0) return ::testing::AssertionFailure() << "/proc/self/exe cannot be read";
  TempDir dir;
  std::ofstream(dir.file(soname)) << "not a shared library\n";
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  // The test alone, whatever shard the ctest run gave this process, and its result in plain text;
  // ended if it has not passed in two minutes.
  std::string cmd = "env -u GTEST_TOTAL_SHARDS -u GTEST_SHARD_INDEX " +
                    std::string(kWithoutLibraryVariable) + "=1 LD_LIBRARY_PATH='" +
                    dir.path().string() + "'${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} timeout 120 '" +
                    std::string(self.data(), n) + "' --gtest_color=no --gtest_filter='" +
                    info->test_suite_name() + "." + info->name() + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return ::testing::AssertionFailure() << "cannot run " << cmd;
  std::string output;
  std::array<char, 4096> buf{};
  while (std::size_t got = fread(buf.data(), 1, buf.size(), p)) output.append(buf.data(), got);
  int status = pclose(p);
  bool passed = WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
                output.find("[  PASSED  ] 1 test") != std::string::npos;
  if (passed) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "without " << soname << ":\n" << output;
}

}  // namespace tollgate::testing
