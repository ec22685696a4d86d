// base/shared_library.h: a library loaded on first use, and the server that maps neither libpq
// nor libcurl until it needs them.
#include "base/shared_library.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "tests/support/temp_dir.h"
#include "tests/support/tollgate_process.h"

namespace tollgate {
namespace {

TEST(SharedLibraryTest, ALibraryThatIsNotInstalledIsUnavailableAndNamed) {
  static constexpr const char* kNames[] = {"strlen"};
  SharedLibrary lib("libtollgate-not-installed.so.7", kNames);
  Status s = lib.load();
  EXPECT_EQ(s.code(), Code::unavailable);
  EXPECT_NE(s.message().find("libtollgate-not-installed.so.7 cannot be loaded: "),
            std::string::npos)
      << s.message();
  EXPECT_EQ(lib.load().message(), s.message());  // the first outcome, every time
}

TEST(SharedLibraryTest, ALibraryWithoutOneOfTheFunctionsIsUnavailableAndNamesIt) {
  static constexpr const char* kNames[] = {"strlen", "tollgate_no_such_function"};
  SharedLibrary lib("libc.so.6", kNames);
  Status s = lib.load();
  EXPECT_EQ(s.code(), Code::unavailable);
  EXPECT_EQ(s.message(),
            "libc.so.6 has no function tollgate_no_such_function: the installed version is too "
            "old");
}

TEST(SharedLibraryTest, EachFunctionIsTheLibrarysOwn) {
  static constexpr const char* kNames[] = {"strlen", "strchr"};
  SharedLibrary lib("libc.so.6", kNames);
  ASSERT_TRUE(lib.load().ok());
  auto* length = reinterpret_cast<decltype(&std::strlen)>(lib.function(0));
  EXPECT_EQ(length("tollgate"), 8u);
  using Find = const char* (*)(const char*, int);
  auto* find = reinterpret_cast<Find>(lib.function(1));
  const char* text = "a:b";
  EXPECT_EQ(find(text, ':'), text + 1);
}

TEST(SharedLibraryTest, AFunctionCalledBeforeLoadLoadsTheLibraryFirst) {
  static constexpr const char* kNames[] = {"strlen"};
  SharedLibrary lib("libc.so.6", kNames);
  auto* length = reinterpret_cast<decltype(&std::strlen)>(lib.function(0));
  EXPECT_EQ(length("abc"), 3u);
  EXPECT_TRUE(lib.load().ok());
}

TEST(SharedLibraryDeathTest, AStubWhoseLibraryCannotLoadEndsTheProcessWithTheReason) {
  static constexpr const char* kNames[] = {"strlen"};
  SharedLibrary lib("libtollgate-not-installed.so.7", kNames);
  EXPECT_DEATH(lib.function(0), "tollgate: libtollgate-not-installed.so.7 cannot be loaded");
}

std::string maps_of(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The server on SQLite, with the example company's connectors configured but not called, has
// mapped neither libpq (and the LDAP, Kerberos and GnuTLS it brings) nor libcurl.
TEST(SharedLibraryTest, AServerOnSqliteMapsNeitherLibpqNorLibcurlUntilItNeedsThem) {
  testing::TempDir dir;
  testing::ProcessOptions o;
  o.db = "sqlite:" + dir.file("tollgate.db");
  o.token.clear();
  o.env = {{"SLACK_TEAM_ID", "T0TEST"},
           {"TOLLGATE_API_TOKEN", "4f1d2c3b4a5968778695a4b3c2d1e0f14f1d2c3b4a5968778695a4b3c2d1e0f1"}};
  testing::TollgateProcess server(o);
  ASSERT_TRUE(server.start()) << server.log();
  std::string maps = maps_of(server.pid());
  ASSERT_NE(maps.find("libsqlite3.so"), std::string::npos) << maps;
  EXPECT_EQ(maps.find("libpq.so"), std::string::npos);
  EXPECT_EQ(maps.find("libcurl"), std::string::npos);
  EXPECT_EQ(maps.find("libldap"), std::string::npos);
  EXPECT_EQ(maps.find("libgnutls"), std::string::npos);
}

}  // namespace
}  // namespace tollgate
