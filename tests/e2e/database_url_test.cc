// Finding: `serve` and `migrate` printed postgresql://user:password@…. Against
// the throwaway PostgreSQL cluster (which trusts its user, so a password in
// the URL is accepted and ignored): the user and password of the database URL
// appear neither in migrate's output nor in serve's log, nor in libpq's error
// for a role that does not exist (which quotes the user). Malformed and
// unreachable URLs: tests/unit/cli_test.cc.
#include <string>

#include <gtest/gtest.h>

#include "sandbox/fake_slack.h"
#include "tests/support/cli_run.h"
#include "tests/support/http_client.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_database.h"
#include "tests/support/tollgate_process.h"

namespace tollgate::testing {
namespace {

CliRun run(const std::string& args) {
  // The key serve gets (TollgateProcess): PostgreSQL has no default key file.
  return run_tollgate(args, std::string("TOLLGATE_AUDIT_KEY=") + kTestAuditKeyHex);
}

// The cluster's URL for this database with `userinfo` in place of its user.
std::string with_userinfo(std::string url, const std::string& userinfo) {
  auto start = url.find("://") + 3;
  return url.replace(start, url.find('@') - start, userinfo);
}

TEST(DatabaseUrl, ServeAndMigrateShowNeitherTheUserNorThePassword) {
  TempDir dir;
  TestDatabase db("postgres", dir.file(""));
  ASSERT_TRUE(db.ok()) << db.error();
  ASSERT_NE(db.url().find("tollgate@"), std::string::npos) << db.url();
  std::string url = with_userinfo(db.url(), "tollgate:s3cret-pw");

  CliRun m = run("migrate --db '" + url + "'");
  EXPECT_EQ(m.exit_code, 0) << m.output;
  EXPECT_NE(m.output.find("migrate: postgresql://***@127.0.0.1:"), std::string::npos) << m.output;
  for (const char* secret : {"s3cret", "//tollgate"})
    EXPECT_EQ(m.output.find(secret), std::string::npos) << m.output;

  sandbox::FakeSlack slack;
  ProcessOptions o;
  o.db = url;
  o.slack_api_url = slack.api_url();
  TollgateProcess serve(o);
  ASSERT_TRUE(serve.start()) << serve.log();
  EXPECT_EQ(HttpClient(serve.port()).get("/readyz").status, 200);
  serve.stop(SIGTERM);
  EXPECT_NE(serve.log().find("(store postgresql://***@127.0.0.1:"), std::string::npos)
      << serve.log();
  for (const char* secret : {"s3cret", "//tollgate"})
    EXPECT_EQ(serve.log().find(secret), std::string::npos) << serve.log();

  CliRun stranger = run("migrate --db '" + with_userinfo(db.url(), "no_such_role_x:pw-zz") + "'");
  EXPECT_EQ(stranger.exit_code, 2) << stranger.output;
  EXPECT_NE(stranger.output.find("role \"***\" does not exist"), std::string::npos)
      << stranger.output;
  for (const char* secret : {"no_such_role_x", "pw-zz"})
    EXPECT_EQ(stranger.output.find(secret), std::string::npos) << stranger.output;
}

}  // namespace
}  // namespace tollgate::testing
