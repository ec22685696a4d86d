// The tollgate binary's operator commands, run as a user would run them.
#include <array>
#include <cstdio>
#include <fstream>
#include <future>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "bot/json.h"
#include "bot/service.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_org.h"

namespace tollgate {
namespace {

struct CliRun {
  int exit_code;
  std::string output;  // stdout and stderr
};

CliRun run(const std::string& args) {
  std::string cmd = std::string(TOLLGATE_BINARY) + " " + args + " 2>&1";
  CliRun r{-1, {}};
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  while (std::size_t n = fread(buf.data(), 1, buf.size(), p)) r.output.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST(Cli, CheckConfigAcceptsTheExample) {
  CliRun r = run(std::string("check-config ") + TOLLGATE_SOURCE_DIR + "/examples/acme.json");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("OK: Acme, 28 people"), std::string::npos) << r.output;
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
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("error: $.people[2].manager: unknown person \"zed\""), std::string::npos)
      << r.output;
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
    auto store = open_store("sqlite:" + db);
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
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("6 events, hash chain intact"), std::string::npos) << ok.output;

  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         "DROP TRIGGER events_no_update;"
                         "UPDATE events SET data = replace(data, 'rotate', 'ROTATE') WHERE seq = 3",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
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
    (*store)->finish_outbox(parked_id, invalid_argument("channel_not_found"), std::nullopt,
                            [&](Status s) { done.set_value(s); });
    ASSERT_TRUE(done.get_future().get().ok());
  }
  CliRun list = run("outbox list --db " + db);
  EXPECT_EQ(list.exit_code, 0) << list.output;
  EXPECT_NE(list.output.find(std::to_string(parked_id) +
                             "\ttask #1\tassign\tdana\t1 attempt(s)\tinvalid_argument: "
                             "channel_not_found"),
            std::string::npos)
      << list.output;
  EXPECT_NE(list.output.find("outbox list: 1 parked"), std::string::npos);
  CliRun wrong = run("outbox requeue --id 999 --db " + db);
  EXPECT_EQ(wrong.exit_code, 1) << "no such parked item: " << wrong.output;
  CliRun requeue = run("outbox requeue --id " + std::to_string(parked_id) + " --db " + db);
  EXPECT_EQ(requeue.exit_code, 0) << requeue.output;
  EXPECT_NE(requeue.output.find("1 item(s) back in line"), std::string::npos) << requeue.output;
  EXPECT_NE(run("outbox list --db " + db).output.find("0 parked"), std::string::npos);
  auto store = open_store(db);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->outbox_stats()->pending, 1);
  EXPECT_EQ((*store)->outbox_stats()->parked, 0);
}

TEST(Cli, EverySubcommandHasHelp) {
  for (const char* sub : {"serve", "check-config", "migrate", "audit verify", "audit export",
                          "outbox list", "outbox requeue"}) {
    CliRun r = run(std::string(sub) + " --help");
    EXPECT_EQ(r.exit_code, 0) << sub << ": " << r.output;
    EXPECT_NE(r.output.find("Usage"), std::string::npos) << sub;
  }
}

}  // namespace
}  // namespace tollgate
