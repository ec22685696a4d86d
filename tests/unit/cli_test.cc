// The tollgate binary's operator commands, run as a user would run them.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "app/audit_seal.h"
#include "base/json.h"
#include "app/task_service.h"
#include "storage/detail/codec.h"
#include "tests/support/cli_run.h"
#include "tests/support/connector_servers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_org.h"

namespace tollgate {
namespace {

using testing::CliRun;
using testing::exited_saying;

// `env`: variables for the shell to set first, e.g. "TOLLGATE_DB='sqlite:x'".
CliRun run(const std::string& args, const std::string& env = {}) {
  return testing::run_tollgate(args, env);
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// Runs `sql` on the SQLite file `db` directly, as someone who can write the file would.
void exec_sql(const std::string& db, const std::string& sql) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(raw) << "\n" << sql;
  sqlite3_close(raw);
}

TEST(Cli, CheckConfigAcceptsTheExample) {
  CliRun r = run(std::string("check-config ") + TOLLGATE_SOURCE_DIR + "/examples/acme.json");
  EXPECT_TRUE(exited_saying(r, 0, "OK: Acme, 28 people"));
  EXPECT_NE(r.output.find("20 resources (7 time-bound)"), std::string::npos) << r.output;
}

// Each app's fulfilment, one line each way: an automatic app is said plainly
// to change nothing in the app; a connected app names its system, where it
// is, who takes over, and a secret this environment lacks.
TEST(Cli, CheckConfigSaysHowEachAppIsFulfilled) {
  std::string acme = std::string(TOLLGATE_SOURCE_DIR) + "/examples/acme.json";
  CliRun r = run("check-config " + acme, "env -u TOLLGATE_SANDBOX_SCIM_TOKEN");
  EXPECT_TRUE(
      exited_saying(r, 0, "  aws: provisioning: automatic: Tollgate changes nothing in the app"));
  EXPECT_NE(r.output.find("  github: provisioning: manual, by pat, quinn\n"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("  salesforce: deprovisioning: manual, by xavier\n"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("  jira: provisioning: SCIM (Jira) at http://127.0.0.1:9481/scim/v2, by "
                          "it-admins if it fails; TOLLGATE_SANDBOX_SCIM_TOKEN is not set here\n"),
            std::string::npos)
      << r.output;
  CliRun set = run("check-config " + acme, "TOLLGATE_SANDBOX_WEBHOOK_SECRET=x");
  EXPECT_TRUE(exited_saying(set, 0,
                            "  deploy: provisioning: webhook (Deploy pipeline) at "
                            "http://127.0.0.1:9482/hook, by eve if it fails\n"));
}

// `connectors test APP` against real systems on loopback: the SCIM server and
// the webhook receiver of tests/connectors, with the secrets in the child's
// environment as an operator's shell would have them.
class CliConnectors : public ::testing::Test {
 protected:
  static constexpr const char* kScimEnv = "TOLLGATE_CLI_TEST_SCIM_TOKEN";
  static constexpr const char* kHookEnv = "TOLLGATE_CLI_TEST_HOOK_SECRET";

  void SetUp() override {
    ASSERT_TRUE(scim_.ok()) << scim_.error();
    ASSERT_TRUE(hook_.ok()) << hook_.error();
    std::string scim = R"("mode": "scim", "url": ")" + scim_.base_url() + R"(", "token_env": ")" +
                       kScimEnv + R"(", "provisioners": ["pat"])";
    std::string apps = R"(
      {"id": "okta", "name": "Okta", "owners": ["olga"],
       "provisioning": {)" +
                       scim + R"(},
       "deprovisioning": {"mode": "manual", "deprovisioners": ["pat"]},
       "resources": [{"id": "eng", "scim_group": "Engineering", "request_policy": "manager-only",
                      "revocation_policy": "manager-confirms"},
                     {"id": "ops", "scim_group": "Operations", "request_policy": "manager-only",
                      "revocation_policy": "manager-confirms"}]},
      {"id": "deploy", "name": "Deploy bot", "owners": ["olga"],
       "provisioning": {"mode": "webhook", "url": ")" +
                       hook_.url() + R"(", "secret_env": ")" + kHookEnv +
                       R"(", "provisioners": ["pat"]},
       "resources": [{"id": "prod", "request_policy": "manager-only",
                      "revocation_policy": "manager-confirms"}]},)";
    write_file(config_, testing::replaced(testing::kTestOrg, R"("apps": [)",
                                          std::string(R"("apps": [)") + apps));
  }

  CliRun connectors_test(const std::string& app, const std::string& env) {
    return run("connectors test " + app + " --config " + config_, env);
  }
  std::string good_env() const {
    return std::string("env ") + kScimEnv + "=" + testing::ScimServer::kToken + " " + kHookEnv +
           "=" + testing::WebhookReceiver::kSecret;
  }

  testing::ScimServer scim_{{"Engineering", "Operations"}};
  testing::WebhookReceiver hook_;
  testing::TempDir dir_;
  std::string config_ = dir_.file("org.json");
};

TEST_F(CliConnectors, AScimAppsTokenIsAcceptedAndItsGroupsFound) {
  CliRun r = connectors_test("okta", good_env());
  EXPECT_TRUE(exited_saying(r, 0,
                            "ok   provisioning: SCIM " + scim_.base_url() +
                                " — token accepted; group \"Engineering\" found (id "));
  EXPECT_NE(r.output.find("group \"Operations\" found"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("FAIL"), std::string::npos) << r.output;
  // Only provisioning is by SCIM: deprovisioning (manual) has no line.
  EXPECT_EQ(r.output.find("deprovisioning"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find(testing::ScimServer::kToken), std::string::npos) << r.output;
}

TEST_F(CliConnectors, AWebhookAppGetsASignedPingItsReceiverVerifies) {
  CliRun r = connectors_test("deploy", good_env());
  EXPECT_TRUE(exited_saying(
      r, 0, "ok   provisioning: webhook " + hook_.url() + " — signed ping delivered: HTTP 200"));
  std::vector<testing::WebhookReceiver::Delivery> got = hook_.deliveries();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].verified) << got[0].error;
  EXPECT_NE(got[0].body.find("\"tollgate.ping\""), std::string::npos) << got[0].body;
}

TEST_F(CliConnectors, AWrongTokenAMissingGroupOrAnUnsetSecretFailsSayingWhy) {
  CliRun token = connectors_test("okta", std::string("env ") + kScimEnv + "=not-the-token");
  EXPECT_TRUE(exited_saying(token, 1, "FAIL provisioning: SCIM " + scim_.base_url() + " — "));
  EXPECT_NE(token.output.find("SCIM 401"), std::string::npos) << token.output;
  EXPECT_EQ(token.output.find("not-the-token"), std::string::npos) << token.output;

  testing::ScimServer engineering_only;  // has Engineering, not Operations
  ASSERT_TRUE(engineering_only.ok()) << engineering_only.error();
  std::string text;
  {
    std::ifstream in(config_);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  write_file(config_, testing::replaced(text, scim_.base_url(), engineering_only.base_url()));
  CliRun group = connectors_test("okta", good_env());
  EXPECT_TRUE(exited_saying(group, 1, "no SCIM group \"Operations\""));
  EXPECT_NE(group.output.find("group \"Engineering\" found"), std::string::npos) << group.output;

  CliRun secret = connectors_test("deploy", std::string("env -u ") + kHookEnv);
  EXPECT_TRUE(exited_saying(secret, 1,
                            "FAIL provisioning: webhook " + hook_.url() +
                                " — environment variable " + kHookEnv + " is not set"));
  EXPECT_TRUE(hook_.deliveries().empty());
}

TEST_F(CliConnectors, AnUnknownAppIsNamedAndAnAppWithoutAConnectorHasNothingToTest) {
  CliRun unknown = connectors_test("jenkins", good_env());
  EXPECT_TRUE(
      exited_saying(unknown, 2, "has no app \"jenkins\" (its apps: okta, deploy, github, aws)"));
  CliRun manual = connectors_test("github", good_env());
  EXPECT_TRUE(exited_saying(manual, 0,
                            "connectors test: github (GitHub) has no connector (provisioning "
                            "manual, deprovisioning manual): nothing to test"));
  EXPECT_EQ(scim_.requests(), 0);
  CliRun bad_config = run("connectors test okta --config /nonexistent/tollgate.json");
  EXPECT_TRUE(exited_saying(bad_config, 2, "cannot read /nonexistent/tollgate.json"));
}

TEST(Cli, CheckConfigListsEveryProblemWithItsPathAndFails) {
  testing::TempDir dir;
  std::string text = testing::replaced(testing::kTestOrg, R"("manager": "dana", "started")",
                                       R"("manager": "zed", "started")");
  text = testing::replaced(text, R"("kind": "revocation",
     "steps": [{"reviewers": {"type": "manager"}}])",
                           R"("kind": "revoke",
     "steps": [{"reviewers": {"type": "manager"}}])");
  write_file(dir.file("bad.json"), text);
  CliRun r = run("check-config " + dir.file("bad.json"));
  EXPECT_TRUE(exited_saying(r, 1, "error: $.people[2].manager: unknown person \"zed\""));
  EXPECT_NE(
      r.output.find(
          "error: $.policies[5].kind: expected \"request\" or \"revocation\", got \"revoke\""),
      std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("2 error(s)"), std::string::npos) << r.output;
}

TEST(Cli, CheckConfigOnAMissingFile) {
  CliRun r = run("check-config /nonexistent/tollgate.json");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("error: $: cannot read /nonexistent/tollgate.json"), std::string::npos)
      << r.output;
}

TEST(Cli, MigrateThenAuditVerifyFindsATamperedEvent) {
  testing::TempDir dir;
  std::string db = dir.file("audit.db");
  CliRun m = run("migrate --db sqlite:" + db);
  ASSERT_EQ(m.exit_code, 0) << m.output;
  EXPECT_NE(m.output.find("schema version " + std::to_string(current_schema_version())),
            std::string::npos)
      << m.output;
  {
    // migrate made the key file and sealed the new log, as serve does.
    auto key = load_audit_key("sqlite:" + db, /*create=*/false);
    ASSERT_TRUE(key.ok() && key->default_file) << key.status().to_string();
    StoreOptions o;
    o.audit_key = key->bytes;
    auto store = open_store("sqlite:" + db, o);
    ASSERT_TRUE(store.ok());
    testing::World w;
    TaskService service(**store, std::make_shared<Engine>(w.dir, w.clock));
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(create_and_wait(**store, [&](const Task*, TaskNumber n) {
                    return w.engine.open_request(testing::github_admin_for("ana"), n);
                  }).ok());
    }
  }
  CliRun ok = run("audit verify --db sqlite:" + db);
  EXPECT_TRUE(exited_saying(ok, 0, "6 events, hash chain intact"));

  ASSERT_NO_FATAL_FAILURE(
      exec_sql(db,
               "DROP TRIGGER events_no_update;"
               "UPDATE events SET data = replace(data, 'rotate', 'ROTATE') WHERE seq = 3"));
  CliRun bad = run("audit verify --db sqlite:" + db);
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_NE(
      bad.output.find("BROKEN at event 3: event 3 (task #2, task_opened): its content does not "
                      "match its hash"),
      std::string::npos)
      << bad.output;
}

TEST(Cli, AuditExportWritesTheChainAsJsonLines) {
  testing::TempDir dir;
  std::string db = dir.file("export.db");
  std::string config = dir.file("org.json");
  write_file(config, testing::kTestOrg);
  {
    auto store = open_store("sqlite:" + db);
    ASSERT_TRUE(store.ok());
    testing::World w;
    auto d = create_and_wait(**store, [&](const Task*, TaskNumber n) {
      return w.engine.open_request(testing::github_admin_for("ana"), n);
    });
    ASSERT_TRUE(d.ok());
    ASSERT_TRUE(update_and_wait(**store, 1, [&](const Task* t, TaskNumber) {
                  return w.engine.act(*t, Command{Action::approve, "dana", "fine", {}, {}});
                }).ok());
  }
  CliRun r = run("audit export --db sqlite:" + db + " --config " + config);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::vector<rapidjson::Document> lines;
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] != '{') continue;
    lines.emplace_back();
    lines.back().Parse(line.c_str());
    ASSERT_FALSE(lines.back().HasParseError()) << line;
  }
  ASSERT_EQ(lines.size(), 4u) << r.output;  // opened, step 1, approved, step 2
  EXPECT_EQ(json::str(lines[0], "prev_hash"), std::string(64, '0'));
  for (std::size_t i = 1; i < lines.size(); ++i) {
    EXPECT_EQ(json::str(lines[i], "prev_hash"), json::str(lines[i - 1], "hash")) << i;
    EXPECT_EQ(json::i64(lines[i], "seq"), static_cast<std::int64_t>(i + 1));
  }
  EXPECT_EQ(json::str(lines[2], "type"), "approved");
  EXPECT_EQ(json::str(lines[2], "actor_name"), "Dana Reyes");
  EXPECT_EQ(json::str(lines[2], "actor_slack_id"), "UDANA");
  EXPECT_EQ(json::str(lines[2]["data"], "comment"), "fine");
  EXPECT_NE(r.output.find("audit export: 4 events"), std::string::npos);
  CliRun since = run("audit export --db sqlite:" + db + " --since 3");
  EXPECT_NE(since.output.find("audit export: 1 events"), std::string::npos) << since.output;
  EXPECT_EQ(run("audit verify --db sqlite:" + db).exit_code, 0)
      << "the exported chain is the verified one";
}

// A ledger of three rows: the test organisation's grants, seeded (bo's with
// its since and last_used, cy's since the seeding), and ana's aws/staging,
// requested for 1h and approved by Dana for 30m at the test's start (#1).
void write_ledger(const std::string& db) {
  auto store = open_store("sqlite:" + db);
  ASSERT_TRUE(store.ok());
  testing::World w;
  TaskService service(**store, std::make_shared<Engine>(w.dir, w.clock));
  ASSERT_TRUE(service.seed_access(*w.dir, w.clock.now()).ok());
  std::promise<StatusOr<Decision>> opened;
  RequestInput in;
  in.requester = "ana";
  in.app = "aws";
  in.resource = "staging";
  in.justification = "deploys";
  in.duration = std::chrono::hours(1);
  service.request(in, [&](StatusOr<Decision> d) { opened.set_value(std::move(d)); });
  ASSERT_TRUE(opened.get_future().get().ok());
  std::promise<StatusOr<Decision>> approved;
  Command approve{Action::approve, "dana", {}, {}, {}};
  approve.duration = std::chrono::minutes(30);
  service.act(1, approve, [&](StatusOr<Decision> d) { approved.set_value(std::move(d)); });
  auto d = approved.get_future().get();
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  ASSERT_TRUE(flush_and_wait(**store).ok());
}

TEST(Cli, AccessExportWritesTheLedgerAsCsv) {
  testing::TempDir dir;
  std::string db = dir.file("ledger.db");
  ASSERT_NO_FATAL_FAILURE(write_ledger(db));
  CliRun r = run("access export --db sqlite:" + db);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output,
            "person,app,resource,since,expires_at,granted_by_task,how,last_used,ending_task\r\n"
            "ana,aws,staging,2026-11-26T10:00:00.000Z,2026-11-26T10:30:00.000Z,1,request,,\r\n"
            "bo,github,admin,2024-01-10T00:00:00.000Z,,,configuration,2026-08-24T00:00:00.000Z,"
            "\r\n"
            "cy,github,member,2026-11-26T10:00:00.000Z,,,configuration,,\r\n"
            "access export: 3 rows\n");
}

TEST(Cli, AccessExportWritesTheLedgerAsJsonLines) {
  testing::TempDir dir;
  std::string db = dir.file("ledger.db");
  ASSERT_NO_FATAL_FAILURE(write_ledger(db));
  CliRun r = run("access export --format jsonl", "TOLLGATE_DB='sqlite:" + db + "'");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output,
            R"({"person":"ana","app":"aws","resource":"staging",)"
            R"("since":"2026-11-26T10:00:00.000Z","expires_at":"2026-11-26T10:30:00.000Z",)"
            R"("granted_by_task":1,"how":"request","last_used":null,"ending_task":null})"
            "\n"
            R"({"person":"bo","app":"github","resource":"admin",)"
            R"("since":"2024-01-10T00:00:00.000Z","expires_at":null,"granted_by_task":null,)"
            R"("how":"configuration","last_used":"2026-08-24T00:00:00.000Z","ending_task":null})"
            "\n"
            R"({"person":"cy","app":"github","resource":"member",)"
            R"("since":"2026-11-26T10:00:00.000Z","expires_at":null,"granted_by_task":null,)"
            R"("how":"configuration","last_used":null,"ending_task":null})"
            "\n"
            "access export: 3 rows\n");
}

// RFC 4180: a field with a comma, a quote or a line break is quoted, quotes doubled.
TEST(Cli, AccessExportQuotesCsvFields) {
  testing::TempDir dir;
  std::string db = dir.file("ledger.db");
  {
    auto store = open_store("sqlite:" + db);
    ASSERT_TRUE(store.ok());
    AccessChange seed;
    seed.op = AccessChange::Op::seed;
    seed.holding.person = "o\"neil";
    seed.holding.app = "=HYPERLINK(\"x\")";
    seed.holding.resource = "eu,west\nb";
    seed.holding.since = testing::test_start();
    seed.holding.how = GrantSource::configuration;
    seed.actor = "tollgate";
    seed.at = testing::test_start();
    seed.reason = "configuration";
    std::promise<Status> written;
    (*store)->write_access({seed}, {}, [&](Status s) { written.set_value(s); });
    ASSERT_TRUE(written.get_future().get().ok());
  }
  CliRun r = run("access export --format csv --db sqlite:" + db);
  EXPECT_EQ(r.exit_code, 0);
  // Quoted where RFC 4180 says, and a formula kept from a spreadsheet with a leading '.
  EXPECT_NE(r.output.find("\r\n\"o\"\"neil\",\"'=HYPERLINK(\"\"x\"\")\",\"eu,west\nb\",2026-11-26T10:00:00.000Z,,,"
                          "configuration,,\r\n"),
            std::string::npos)
      << r.output;
}

TEST(Cli, AccessExportNamesAnUnknownFormat) {
  CliRun r = run("access export --format xml --db sqlite:/nonexistent/ledger.db");
  EXPECT_TRUE(exited_saying(r, 2, "access export: --format must be csv or jsonl, not \"xml\""));
}

TEST(Cli, ParkedOutboxItemsAreListedAndRequeued) {
  testing::TempDir dir;
  std::string db = "sqlite:" + dir.file("outbox.db");
  std::int64_t parked_id = 0;
  {
    auto store = open_store(db);
    ASSERT_TRUE(store.ok());
    testing::World w;
    ASSERT_TRUE(create_and_wait(**store, [&](const Task*, TaskNumber n) {
                  return w.engine.open_request(testing::github_admin_for("ana"), n);
                }).ok());
    std::promise<StatusOr<std::vector<OutboxItem>>> claimed;
    (*store)->claim_outbox(w.clock.now(), 10, std::chrono::seconds(30),
                           [&](auto r) { claimed.set_value(std::move(r)); });
    auto items = claimed.get_future().get();
    ASSERT_TRUE(items.ok() && items->size() == 1u);
    parked_id = (*items)[0].id;
    std::promise<Status> done;
    (*store)->finish_outbox(parked_id, (*items)[0].claim, invalid_argument("channel_not_found"),
                            std::nullopt, [&](Status s) { done.set_value(s); });
    ASSERT_TRUE(done.get_future().get().ok());
  }
  CliRun list = run("outbox list --db " + db);
  EXPECT_TRUE(exited_saying(list, 0,
                            std::to_string(parked_id) +
                                "\ttask #1\tassign\tdana\t1 attempt(s)\tinvalid_argument: "
                                "channel_not_found"));
  EXPECT_NE(list.output.find("outbox list: 1 parked"), std::string::npos);
  CliRun wrong = run("outbox requeue --id 999 --db " + db);
  EXPECT_EQ(wrong.exit_code, 1) << "no such parked item: " << wrong.output;
  CliRun requeue = run("outbox requeue --id " + std::to_string(parked_id) + " --db " + db);
  EXPECT_TRUE(exited_saying(requeue, 0, "1 item(s) back in line"));
  EXPECT_NE(run("outbox list --db " + db).output.find("0 parked"), std::string::npos);
  auto store = open_store(db);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->outbox_stats()->pending, 1);
  EXPECT_EQ((*store)->outbox_stats()->parked, 0);
}

// The audit log proves itself (issue 15, item 9), through the real binary.
// Before the key, `audit verify` recomputed plain SHA-256 links only: each
// rewrite below, done consistently, and any removal from the end, passed.
constexpr const char* kAuditKeyHex =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
constexpr const char* kOtherAuditKeyHex =
    "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

std::string audit_env(const char* hex = kAuditKeyHex) {
  return std::string("TOLLGATE_AUDIT_KEY=") + hex;
}

// `tasks` requests opened (two events each) in a log that `migrate` sealed
// with kAuditKeyHex, written by a store holding the same key, as serve does.
void write_sealed_log(const std::string& db, int tasks) {
  CliRun m = run("migrate --db sqlite:" + db, audit_env());
  ASSERT_EQ(m.exit_code, 0) << m.output;
  StoreOptions o;
  o.audit_key = *parse_audit_key(kAuditKeyHex, "test");
  auto store = open_store("sqlite:" + db, o);
  ASSERT_TRUE(store.ok()) << store.status().to_string();
  testing::World w;
  for (int i = 0; i < tasks; ++i) {
    ASSERT_TRUE(create_and_wait(**store, [&](const Task*, TaskNumber n) {
                  return w.engine.open_request(testing::github_admin_for("ana"), n);
                }).ok());
  }
}

// As someone who can write the file but does not hold the key: drops the
// triggers, runs `sql`, then re-links every event from `from` on with plain
// SHA-256 hashes and moves the head row to the end.
void tamper(const std::string& db, const std::string& sql, std::int64_t from) {
  ASSERT_NO_FATAL_FAILURE(
      exec_sql(db, "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete; " + sql));
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(raw, "SELECT seq, task, type, actor, at, data, hash FROM events ORDER BY seq",
                     -1, &st, nullptr);
  std::string prev = std::string(64, '0'), fixes;
  std::int64_t last = 0;
  auto text = [&](int col) {
    return std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, col)));
  };
  while (sqlite3_step(st) == SQLITE_ROW) {
    last = sqlite3_column_int64(st, 0);
    std::string hash = text(6);
    if (last >= from) {
      hash = codec::event_hash(prev, last, sqlite3_column_int64(st, 1), text(2), text(3),
                               sqlite3_column_int64(st, 4), text(5));
      fixes += "UPDATE events SET prev_hash = '" + prev + "', hash = '" + hash +
               "' WHERE seq = " + std::to_string(last) + ";";
    }
    prev = hash;
  }
  sqlite3_finalize(st);
  sqlite3_close(raw);
  fixes +=
      "UPDATE chain_head SET last_seq = " + std::to_string(last) + ", last_hash = '" + prev + "';";
  exec_sql(db, fixes);
}

TEST(Cli, AuditVerifyWithTheKeyNamesAnEventRewrittenWithARecomputedPlainHash) {
  testing::TempDir dir;
  std::string db = dir.file("audit.db");
  write_sealed_log(db, 3);
  CliRun ok = run("audit verify --db sqlite:" + db, audit_env());
  EXPECT_TRUE(exited_saying(ok, 0, "6 events, hash chain intact; sealed with the audit key"));
  tamper(db, "UPDATE events SET data = replace(data, 'rotate', 'ROTATE') WHERE seq = 3", 3);
  CliRun bad = run("audit verify --db sqlite:" + db, audit_env());
  EXPECT_TRUE(exited_saying(bad, 1,
                            "BROKEN at event 3: event 3 (task #2, task_opened): its content does "
                            "not match its hash"));
}

TEST(Cli, AuditVerifyNamesEventsRemovedFromTheMiddleOrTheEndAndAnEmptiedLog) {
  testing::TempDir dir;
  struct Case {
    std::string sql;
    std::int64_t relink_from;
    std::string expected;
  };
  int n = 0;
  for (const Case& c : std::vector<Case>{
           {"DELETE FROM events WHERE seq = 3; UPDATE events SET seq = seq - 1 WHERE seq > 3", 3,
            "BROKEN at event 3: event 3 (task #2, step_opened): its content does not match its "
            "hash"},
           {"DELETE FROM events WHERE seq > 4", 99,
            "BROKEN at event 5: events 5 to 6 are missing from the end (the audit head counts "
            "6)"},
           {"DELETE FROM events", 99,
            "BROKEN at event 1: the log is empty: events 1 to 6 are missing (the audit head "
            "counts 6)"},
       }) {
    std::string db = dir.file("log" + std::to_string(++n) + ".db");
    write_sealed_log(db, 3);
    // Only the middle case moves the head (re-linked); the others leave it, or the MAC breaks.
    if (c.relink_from < 99) {
      tamper(db, c.sql, c.relink_from);
    } else {
      ASSERT_NO_FATAL_FAILURE(exec_sql(db, "DROP TRIGGER events_no_delete; " + c.sql));
    }
    CliRun r = run("audit verify --db sqlite:" + db, audit_env());
    EXPECT_EQ(r.exit_code, 1) << c.sql << ": " << r.output;
    EXPECT_NE(r.output.find(c.expected), std::string::npos) << c.sql << ": " << r.output;
  }
}

TEST(Cli, AuditVerifyRefusesAnotherKeyAndNeedsTheKeyOfASealedLog) {
  testing::TempDir dir;
  std::string db = dir.file("audit.db");
  write_sealed_log(db, 1);
  CliRun other = run("audit verify --db sqlite:" + db, audit_env(kOtherAuditKeyHex));
  EXPECT_TRUE(exited_saying(other, 1, "BROKEN: the log is sealed with another audit key (key id "));
  CliRun none = run("audit verify --db sqlite:" + db);
  EXPECT_TRUE(exited_saying(none, 2, "the log is sealed with an audit key"));
  CliRun malformed = run("audit verify --db sqlite:" + db, "TOLLGATE_AUDIT_KEY=abc123");
  EXPECT_TRUE(
      exited_saying(malformed, 2, "TOLLGATE_AUDIT_KEY must be 64 to 128 hexadecimal digits"));
  EXPECT_EQ(malformed.output.find("abc123"), std::string::npos) << "a key is never echoed";
}

// Serve without TOLLGATE_AUDIT_KEY makes a key file once, beside the
// database, readable by its owner only, and says what that protects.
TEST(Cli, ServeWithoutAKeyMakesAKeyFileOnceAndWarns) {
  testing::TempDir dir;
  std::string db = dir.file("serve.db");
  std::string serve = "serve --listen 127.0.0.1:0 --sandbox --config " +
                      std::string(TOLLGATE_SOURCE_DIR) + "/examples/acme.json --db sqlite:" + db;
  CliRun first = run(serve, "timeout -s TERM 3");
  std::string warning = "made the audit key file " + db +
                        ".audit-key because TOLLGATE_AUDIT_KEY is not set: this protects nothing "
                        "against someone who can read that folder";
  EXPECT_NE(first.output.find(warning), std::string::npos) << first.output;
  struct stat st {};
  ASSERT_EQ(::stat((db + ".audit-key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(db + ".audit-key");
  std::string key;
  std::getline(in, key);
  EXPECT_EQ(key.size(), 64u);
  CliRun again = run(serve, "timeout -s TERM 3");
  EXPECT_NE(again.output.find("the audit key is read from " + db + ".audit-key"), std::string::npos)
      << again.output;
  std::ifstream in2(db + ".audit-key");
  std::string key2;
  std::getline(in2, key2);
  EXPECT_EQ(key2, key) << "made once";
  CliRun verify = run("audit verify --db sqlite:" + db);
  // The events are the access ledger's seeding from the configuration's grants.
  EXPECT_TRUE(exited_saying(verify, 0, " events, hash chain intact; sealed with the audit key"));
  CliRun bad = run(serve, "timeout -s TERM 3 env TOLLGATE_AUDIT_KEY=" + key.substr(0, 40));
  EXPECT_TRUE(exited_saying(bad, 2, "TOLLGATE_AUDIT_KEY must be 64 to 128 hexadecimal digits"));
}

TEST(Cli, ACheckpointCatchesARollbackAndRefusesATamperedOrForeignSignature) {
  testing::TempDir dir;
  std::string db = dir.file("audit.db");
  std::string sk = dir.file("signing.pem"), pk = dir.file("signing.pub.pem");
  std::string other = dir.file("other.pem");
  ASSERT_EQ(std::system(("openssl genpkey -algorithm ed25519 -out " + sk + " && openssl pkey -in " +
                         sk + " -pubout -out " + pk + " && openssl genpkey -algorithm ed25519 " +
                         "-out " + other + " && chmod 600 " + sk + " " + other)
                            .c_str()),
            0);
  write_sealed_log(db, 2);
  std::filesystem::copy_file(db, dir.file("backup.db"));  // the log at 4 events
  write_sealed_log(db, 1);                                // 6 events
  std::string cp = dir.file("checkpoint.txt");
  std::string signing = audit_env() + " TOLLGATE_AUDIT_SIGNING_KEY=" + sk;
  CliRun made = run("audit checkpoint --db sqlite:" + db + " --out " + cp, signing);
  ASSERT_EQ(made.exit_code, 0) << made.output;
  std::string verify = "audit verify --db sqlite:" + db + " --checkpoint " + cp;
  CliRun ok = run(verify + " --public-key " + pk, audit_env());
  EXPECT_TRUE(exited_saying(ok, 0, "matches the checkpoint of 6 events"));

  // A backup put back: a genuine older state, so the key alone cannot tell.
  std::filesystem::copy_file(dir.file("backup.db"), db,
                             std::filesystem::copy_options::overwrite_existing);
  EXPECT_EQ(run("audit verify --db sqlite:" + db, audit_env()).exit_code, 0);
  CliRun rolled = run(verify + " --public-key " + pk, audit_env());
  EXPECT_TRUE(exited_saying(rolled, 1,
                            "BROKEN at event 5: the log has 4 events, fewer than the "
                            "checkpoint's 6 of "));
  EXPECT_NE(rolled.output.find(": it was rolled back"), std::string::npos) << rolled.output;

  // The checkpoint edited to match the rolled-back log: its signature fails.
  std::ifstream in(cp);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  write_file(cp, testing::replaced(text, "events: 6", "events: 4"));
  CliRun edited = run(verify + " --public-key " + pk, audit_env());
  EXPECT_TRUE(exited_saying(edited, 1, "the checkpoint's signature does not verify"));

  // A checkpoint signed by another key: refused when the key is pinned.
  CliRun forged = run("audit checkpoint --db sqlite:" + db + " --out " + cp,
                      audit_env() + " TOLLGATE_AUDIT_SIGNING_KEY=" + other);
  ASSERT_EQ(forged.exit_code, 0) << forged.output;
  CliRun foreign = run(verify + " --public-key " + pk, audit_env());
  EXPECT_TRUE(exited_saying(foreign, 1, "the checkpoint is signed by another key"));

  CliRun unsigned_cp = run("audit checkpoint --db sqlite:" + db, audit_env());
  EXPECT_TRUE(exited_saying(unsigned_cp, 2, "TOLLGATE_AUDIT_SIGNING_KEY is not set"));
  ASSERT_EQ(::chmod(sk.c_str(), 0644), 0);
  CliRun open_key = run("audit checkpoint --db sqlite:" + db, signing);
  EXPECT_TRUE(exited_saying(open_key, 2, "chmod 600"));
}

// Security review, audit log (MEDIUM): without --public-key, `audit verify
// --checkpoint` trusted the key written inside the checkpoint and exited 0,
// so a checkpoint forged with any key "matched". A pinned key is required.
TEST(Cli, ACheckpointIsOnlyCheckedAgainstAPinnedPublicKey) {
  testing::TempDir dir;
  std::string db = dir.file("audit.db");
  std::string forger = dir.file("forger.pem"), pk = dir.file("owner.pub.pem");
  ASSERT_EQ(std::system(("openssl genpkey -algorithm ed25519 -out " + forger +
                         " && openssl genpkey -algorithm ed25519 | openssl pkey -pubout -out " +
                         pk + " && chmod 600 " + forger)
                            .c_str()),
            0);
  write_sealed_log(db, 1);
  std::string cp = dir.file("checkpoint.txt");
  ASSERT_EQ(run("audit checkpoint --db sqlite:" + db + " --out " + cp,
                audit_env() + " TOLLGATE_AUDIT_SIGNING_KEY=" + forger)
                .exit_code,
            0);
  std::string verify = "audit verify --db sqlite:" + db + " --checkpoint " + cp;
  CliRun unpinned = run(verify, audit_env());
  EXPECT_TRUE(exited_saying(unpinned, 2,
                            "a checkpoint is only checked against a public key you hold: "
                            "pass --public-key PEM (or set TOLLGATE_AUDIT_PUBLIC_KEY)"));
  CliRun pinned = run(verify, audit_env() + " TOLLGATE_AUDIT_PUBLIC_KEY=" + pk);
  EXPECT_TRUE(exited_saying(pinned, 1, "the checkpoint is signed by another key"));
}

// Removes the seal as someone who can write the file but not read the key:
// every event deleted, the head back to unsealed (last event 0, zero hash,
// no MAC), as a fresh log's head looks before it is sealed.
void unseal(const std::string& db) {
  exec_sql(db,
           "DROP TRIGGER events_no_delete; DELETE FROM events; UPDATE chain_head SET last_seq = 0, "
           "last_hash = '" +
               std::string(64, '0') + "', sealed_from = 0, sealed_at = 0, key_id = '', mac = '';");
}

// Security review, audit log (HIGH): the next serve (or migrate) sealed a
// log whose seal was removed, so `audit verify` said BROKEN only until then.
// Now it is refused, and verify keeps saying BROKEN, until an operator runs
// `tollgate audit seal` knowingly.
TEST(Cli, AStartRefusesALogWhoseSealWasRemovedUntilAuditSeal) {
  testing::TempDir dir;
  std::string db = dir.file("audit.db");
  write_sealed_log(db, 2);
  unseal(db);
  for (int attempt = 0; attempt < 2; ++attempt) {
    CliRun m = run("migrate --db sqlite:" + db, audit_env());
    EXPECT_TRUE(exited_saying(m, 2, "the audit log is not sealed"));
    EXPECT_NE(m.output.find("`tollgate audit seal`"), std::string::npos) << m.output;
    CliRun v = run("audit verify --db sqlite:" + db, audit_env());
    EXPECT_TRUE(exited_saying(v, 1, "BROKEN"));
  }
  std::string serve = "serve --listen 127.0.0.1:0 --sandbox --config " +
                      std::string(TOLLGATE_SOURCE_DIR) + "/examples/acme.json --db sqlite:" + db;
  CliRun s = run(serve, "timeout -s TERM 5 env " + audit_env());
  EXPECT_TRUE(exited_saying(s, 2, "the audit log is not sealed"));

  CliRun sealed = run("audit seal --db sqlite:" + db, audit_env());
  EXPECT_TRUE(exited_saying(sealed, 0,
                            "audit seal: 0 events, hash chain intact; sealed with the audit "
                            "key"));
  EXPECT_EQ(run("migrate --db sqlite:" + db, audit_env()).exit_code, 0);
  EXPECT_EQ(run("audit seal --db sqlite:" + db).exit_code, 2) << "never without the key";
}

// Security review, audit log (HIGH): with PostgreSQL and no key, serve made
// tollgate-audit.key in the working directory, lost on the next deploy of a
// container, and with it every write to the log. Now both variables are
// named and nothing is made.
TEST(Cli, PostgresNeedsAnAuditKeyAndNoKeyFileIsMadeInTheWorkingDirectory) {
  testing::TempDir dir;
  std::string url = "postgresql://tollgate@127.0.0.1:1/tollgate";
  std::string cd = "cd " + dir.path().string() + " && env -u TOLLGATE_AUDIT_KEY -u "
                   "TOLLGATE_AUDIT_KEY_FILE timeout -s TERM 5";
  std::string serve = "serve --listen 127.0.0.1:0 --sandbox --config " +
                      std::string(TOLLGATE_SOURCE_DIR) + "/examples/acme.json --db " + url;
  for (const std::string& args : {serve, "migrate --db " + url}) {
    CliRun r = run(args, cd);
    EXPECT_TRUE(exited_saying(r, 2, "with PostgreSQL, set TOLLGATE_AUDIT_KEY"));
    EXPECT_NE(r.output.find("or TOLLGATE_AUDIT_KEY_FILE (an existing key file)"),
              std::string::npos)
        << r.output;
  }
  CliRun named = run("migrate --db " + url,
                     "cd " + dir.path().string() + " && env TOLLGATE_AUDIT_KEY_FILE=absent.key");
  EXPECT_TRUE(exited_saying(named, 2, "absent.key does not exist"));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path())) << "no key file made";
}

// Security review, audit log (MEDIUM): the key file was made through
// PATH.tmp.PID, so a stale or planted file of that name blocked the start;
// now an unpredictable temporary is used. A key file open to the group, or
// owned by another user (who could have chosen the key), is refused.
TEST(Cli, AKeyFileIsMadeDespiteAStaleTemporaryAndRefusedWhenNotPrivateOrNotOurs) {
  ::unsetenv("TOLLGATE_AUDIT_KEY");
  ::unsetenv("TOLLGATE_AUDIT_KEY_FILE");
  testing::TempDir dir;
  std::string db = dir.file("k.db"), key = db + ".audit-key";
  write_file(key + ".tmp." + std::to_string(::getpid()), "stale");
  auto made = load_audit_key("sqlite:" + db, /*create=*/true);
  ASSERT_TRUE(made.ok()) << made.status().to_string();
  EXPECT_TRUE(made->created);
  EXPECT_EQ(made->bytes.size(), 32u);

  ASSERT_EQ(::chmod(key.c_str(), 0640), 0);
  auto open_to_group = load_audit_key("sqlite:" + db, true);
  EXPECT_EQ(open_to_group.code(), Code::invalid_argument);
  EXPECT_NE(open_to_group.status().message().find("is open to group or others (mode 0640)"),
            std::string::npos)
      << open_to_group.status().to_string();
  ASSERT_EQ(::chmod(key.c_str(), 0600), 0);
  ASSERT_TRUE(load_audit_key("sqlite:" + db, true).ok());

  if (::geteuid() != 0) GTEST_SKIP() << "giving the file away needs root";
  ASSERT_EQ(::chown(key.c_str(), 65534, 65534), 0);
  auto foreign = load_audit_key("sqlite:" + db, true);
  EXPECT_EQ(foreign.code(), Code::invalid_argument);
  EXPECT_NE(foreign.status().message().find("is owned by uid 65534, not by this process's user"),
            std::string::npos)
      << foreign.status().to_string();
}

TEST(Cli, EverySubcommandHasHelp) {
  for (const char* sub :
       {"serve", "check-config", "migrate", "audit verify", "audit export", "audit checkpoint",
        "audit seal", "access export", "outbox list", "outbox requeue", "connectors test"}) {
    CliRun r = run(std::string(sub) + " --help");
    EXPECT_EQ(r.exit_code, 0) << sub << ": " << r.output;
    EXPECT_NE(r.output.find("Usage"), std::string::npos) << sub;
  }
}

// The task page's variables: each refused by its name, and a public URL
// written as browsers send its origin (else every form's Origin check fails).
TEST(Cli, TheTaskPagesVariablesAreCheckedByName) {
  testing::TempDir dir;
  std::string serve = "serve --listen 127.0.0.1:0 --config " + std::string(TOLLGATE_SOURCE_DIR) +
                      "/examples/acme.json --db sqlite:" + dir.file("t.db");
  std::string key = "TOLLGATE_LINK_KEY=0123456789abcdef0123456789abcdef";
  struct Case {
    std::string env, says;
  };
  for (const Case& c : std::vector<Case>{
           {"TOLLGATE_LINK_KEY=short", "TOLLGATE_LINK_KEY must be at least 32 characters"},
           {key + " TOLLGATE_LINK_TTL=forever", "TOLLGATE_LINK_TTL must be a duration"},
           {key + " TOLLGATE_LINK_TTL=100d", "TOLLGATE_LINK_TTL must be a duration"},
           {"TOLLGATE_PUBLIC_URL='ftp://x.test'", "TOLLGATE_PUBLIC_URL must start with https://"},
           {"TOLLGATE_PUBLIC_URL='https://x.test/<a>'", "TOLLGATE_PUBLIC_URL must be a plain URL"},
           {key + " TOLLGATE_PUBLIC_URL=https://acme.test/tollgate",
            "TOLLGATE_PUBLIC_URL must name no path when TOLLGATE_LINK_KEY is set"}}) {
    CliRun r = run(serve, "timeout 5 env " + c.env);
    EXPECT_EQ(r.exit_code, 2) << c.env << ": " << r.output;
    EXPECT_NE(r.output.find(c.says), std::string::npos) << c.env << ": " << r.output;
  }
  // Upper case and the default port: the page is on, under the origin browsers send.
  CliRun on = run(serve, "timeout 3 env " + key + " TOLLGATE_PUBLIC_URL=HTTPS://Tollgate.Acme.test:443/");
  EXPECT_NE(on.output.find("task page: links under https://tollgate.acme.test/t/"), std::string::npos)
      << on.output;
}

// Finding: TOLLGATE_HEADER_TIMEOUT_MS=10s silently became 10 ms, and abc
// aborted. Every numeric variable is read by one strict parser: a value that
// is not digits within the range stops `serve` (exit 2) naming the variable and
// the form it takes. (`timeout` ends a serve that would have started.)
TEST(Cli, ABadNumberInTheEnvironmentStopsServeNamingTheVariable) {
  testing::TempDir dir;
  std::string serve = "serve --listen 127.0.0.1:0 --config " + std::string(TOLLGATE_SOURCE_DIR) +
                      "/examples/acme.json --db sqlite:" + dir.file("t.db");
  for (const char* name :
       {"TOLLGATE_HEADER_TIMEOUT_MS", "TOLLGATE_OUTBOX_LEASE_MS", "TOLLGATE_OUTBOX_MAX_AGE_MS",
        "TOLLGATE_SCHEDULER_INTERVAL_MS", "TOLLGATE_BODY_BUDGET_MB"}) {
    for (const char* value : {"10s", "abc", "-5", "", "99999999999999999999999", "1.5", " 7",
                              "0x10", "+5", "999999999999"}) {
      CliRun r = run(serve, std::string("timeout 5 env ") + name + "='" + value + "'");
      EXPECT_EQ(r.exit_code, 2) << name << "=" << value << ": " << r.output;
      EXPECT_NE(r.output.find(std::string(name) + " must be a whole number of"), std::string::npos)
          << name << "=" << value << ": " << r.output;
      EXPECT_NE(r.output.find("not \"" + std::string(value) + "\""), std::string::npos) << r.output;
    }
  }
  CliRun zero = run(serve, "timeout 5 env TOLLGATE_HEADER_TIMEOUT_MS=0");
  EXPECT_TRUE(exited_saying(zero, 2,
                            "TOLLGATE_HEADER_TIMEOUT_MS must be a whole number of milliseconds "
                            "(no unit) from 1 to 3600000"));
  for (const char* choice : {"TOLLGATE_DELIVERY=maybe", "TOLLGATE_LOG_LEVEL=loud"}) {
    CliRun r = run(serve, std::string("timeout 5 env ") + choice);
    EXPECT_EQ(r.exit_code, 2) << choice << ": " << r.output;
    EXPECT_NE(r.output.find("must be one of"), std::string::npos) << r.output;
  }
  CliRun threads = run(serve + " --threads -5", "timeout 5");
  EXPECT_NE(threads.exit_code, 0) << threads.output;
  // Security review, finding 5: a bad SMTP port started serve, and each mail failed.
  CliRun smtp = run(serve, "timeout 5 env TOLLGATE_SMTP_URL=smtp://mail.t.test:99999");
  EXPECT_TRUE(exited_saying(smtp, 2, "TOLLGATE_SMTP_URL: port \"99999\" is not a port"));
}

// Finding: `serve` and `migrate` printed postgresql://user:password@…. The
// user and password of a database URL appear in no output and no error, here
// where libpq quotes a malformed URL, or cannot connect; with a database that
// answers, tests/e2e/database_url_test.cc.
TEST(Cli, ADatabaseUrlsUserAndPasswordAreNeverShown) {
  const std::string user = "alice-dba";
  for (const std::string& url :
       {"postgresql://" + user + ":s3cr%zzet-pw@127.0.0.1:1/tollgate",
        "postgresql://" + user + ":hunter2-pw@127.0.0.1:1/tollgate",
        "postgres://127.0.0.1:1/tollgate?user=" + user + "&password=hunter2-pw&port=x"}) {
    for (const std::string& cmd :
         {std::string("migrate"), std::string("audit verify"), std::string("outbox list")}) {
      // With the key PostgreSQL requires, so that each gets as far as connecting.
      CliRun r = run(cmd + " --db '" + url + "'", audit_env());
      EXPECT_EQ(r.exit_code, 2) << cmd << ": " << r.output;
      for (const char* secret : {"s3cr", "hunter2", "alice"})
        EXPECT_EQ(r.output.find(secret), std::string::npos) << cmd << ": " << r.output;
    }
    CliRun serve = run("serve --listen 127.0.0.1:0 --config " + std::string(TOLLGATE_SOURCE_DIR) +
                           "/examples/acme.json --db '" + url + "'",
                       "timeout 5 env " + audit_env());
    EXPECT_EQ(serve.exit_code, 2) << serve.output;
    for (const char* secret : {"s3cr", "hunter2", "alice"})
      EXPECT_EQ(serve.output.find(secret), std::string::npos) << serve.output;
  }
}

}  // namespace
}  // namespace tollgate
