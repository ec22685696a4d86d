// Golden Block Kit: every kind of message, modal and view Tollgate sends,
// rendered from fixed tasks (the test organisation, decided by the real engine
// on a manual clock that starts at a fixed instant), compared byte for byte
// with its file in tests/golden/ (pretty-printed JSON, so that a change of a
// renderer reads as a diff of the file).
//
// To accept a change on purpose, rewrite the files instead of comparing:
//   TOLLGATE_UPDATE_GOLDEN=1 build/tests/app_tests --gtest_filter='RenderGolden*'
// and review the diff of tests/golden/ (tests/golden/README.md).
//
// Each payload is also run through Slack's rules (sandbox/slack_rules.h), the
// file as written too, so that no golden file can hold what Slack refuses.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "sandbox/slack_rules.h"
#include "slack/block_kit.h"
#include "slack/blocks.h"
#include "slack/home_view.h"
#include "slack/views.h"
#include "tests/support/test_org.h"

namespace tollgate {
namespace {

namespace kit = slack::kit;
using testing::github_admin_for;
using testing::World;

const std::filesystem::path kGoldenDir =
    std::filesystem::path(TOLLGATE_SOURCE_DIR) / "tests" / "golden";

// Which of Slack's rules a payload is held to.
enum class Kind {
  message,    // a chat.postMessage body
  ephemeral,  // a slash command's answer or a response_url post
  modal,      // a views.open body
  home,       // a views.publish body
};

struct Golden {
  std::string name;  // tests/golden/<name>.json
  Kind kind;
  std::string body;  // as sent
};

// The tasks the files are rendered from, each at a known point of its life.
// The clock moves between decisions, so that each shows its own time.
struct Scene {
  World w;
  Task review;          // #1 grant, step 1 (manager) open for Dana
  Task owner_step;      // #2 grant, approved by Dana, step 2 (resource owner) open for Olga
  Task reassigned;      // #2 after Olga handed step 2 to Oscar
  Task provisioning;    // #3 grant, approved through, waiting for Pat to provision
  Task provisioned;     // #3 provisioned by Pat
  Task denied;          // #4 grant, denied by Dana with a reason
  Task cancelled;       // #5 grant, cancelled by Ana
  Task revoke_review;   // #6 revocation of Bo's admin, Olga to confirm
  Task deprovisioning;  // #6 confirmed, waiting for Pat
  Task deprovisioned;   // #6 removed by Pat
  Task emergency;       // #7 emergency grant, Lee on call
  Task shortened;       // #8 grant for 7d, approved for 1d by Dana, now with Olga
  Task extension;       // #9 Bo asks to extend his GitHub admin (held until a time), Dana to review
  StatusOr<Decision> approved_two = internal_error("not decided");

  Scene() {
    auto later = [&] { w.clock.advance(std::chrono::minutes(17)); };
    review = w.request(github_admin_for("ana", "rotate the deploy keys of <prod> & staging"));
    owner_step = w.request(github_admin_for("ana"));
    later();
    approved_two = w.act(owner_step, Action::approve, "dana", "fine by me");
    owner_step = approved_two.ok() ? approved_two->task : owner_step;
    later();
    Command comment{Action::comment, "olga", "Checking with *Bo* first\n> ok?"};
    comment.source = "slack";  // a reply in the thread of Olga's copy
    comment.slack_channel = "D0olga";
    comment.slack_ts = "1.5";
    auto commented = w.engine.act(owner_step, comment);
    EXPECT_TRUE(commented.ok()) << commented.status().to_string();
    if (commented.ok()) owner_step = commented->task;
    later();
    reassigned =
        w.must(owner_step, Action::reassign, "olga", "Oscar owns the deploy keys", "oscar");
    provisioning = w.request(github_admin_for("ana", "on-call rotation"));
    later();
    provisioning = w.must(provisioning, Action::approve, "dana");
    provisioning = w.must(provisioning, Action::approve, "olga");
    provisioning = w.must(provisioning, Action::approve, "lee");
    later();
    provisioned = w.must(provisioning, Action::provisioned, "pat", "added in Settings");
    denied = w.request(github_admin_for("ana", "curious"));
    later();
    denied = w.must(denied, Action::deny, "dana", "No need for admin: ask for Member instead.");
    cancelled = w.must(w.request(github_admin_for("ana", "by mistake")), Action::cancel, "ana");
    revoke_review = w.revoke({"dana", "bo", "github", "admin", "Bo moved to the data team"});
    later();
    deprovisioning = w.must(revoke_review, Action::confirm, "olga");
    later();
    deprovisioned = w.must(deprovisioning, Action::deprovisioned, "pat");
    RequestInput urgent = github_admin_for("ana", "production is down");
    urgent.emergency = true;
    emergency = w.request(urgent);
    later();
    Command for_a_day{Action::approve, "dana", {}, {}, {}};
    for_a_day.duration = std::chrono::hours(24);
    auto shorter = w.engine.act(w.request(github_admin_for("ana", "one release")), for_a_day);
    EXPECT_TRUE(shorter.ok()) << shorter.status().to_string();
    if (shorter.ok()) shortened = shorter->task;
    RequestInput more = github_admin_for("bo", "the migration runs another week");
    more.duration = std::chrono::hours(72);
    more.facts.held = held_by_bo();
    extension = w.request(more);
    later();
  }

  // Bo's GitHub admin, granted by #3 for 7d, ending at the scene's start plus two days.
  Holding held_by_bo() const {
    Holding h{"bo", "github", "admin", testing::test_start(), {}, 3, GrantSource::request,
              {}, {}, 0};
    h.expires_at = testing::test_start() + std::chrono::hours(48);
    return h;
  }

  const Engine& engine() const { return w.engine; }
};

std::string post(const std::string& channel, const kit::Message& m,
                 const std::string& thread_ts = {}) {
  return kit::post_message(channel, m, thread_ts);
}

// What /tasks list answers (edge/tasks_command.cc).
std::string tasks_list(const Engine& engine, const std::string& title,
                       const std::vector<const Task*>& tasks) {
  return kit::ephemeral_answer(kit::text_message(slack::task_list(engine, title, tasks)));
}

std::vector<Golden> task_messages(const Scene& s) {
  const Engine& e = s.engine();
  auto msg = [&](const Task& t, const PersonId& viewer, int step) {
    return post("D0" + viewer, slack::task_message(e, t, viewer, step));
  };
  return {
      {"task_grant_review_assignee", Kind::message, msg(s.review, "dana", 0)},
      {"task_grant_review_approved", Kind::message, msg(s.owner_step, "dana", 0)},
      {"task_grant_owner_step_assignee", Kind::message, msg(s.owner_step, "olga", 1)},
      {"task_grant_reassigned_away", Kind::message, msg(s.reassigned, "olga", 1)},
      {"task_grant_provisioning_assignee", Kind::message, msg(s.provisioning, "pat", 3)},
      {"task_grant_provisioned", Kind::message, msg(s.provisioned, "pat", 3)},
      {"task_grant_denied", Kind::message, msg(s.denied, "dana", 0)},
      {"task_grant_cancelled", Kind::message, msg(s.cancelled, "dana", 0)},
      {"task_grant_emergency_assignee", Kind::message, msg(s.emergency, "lee", 0)},
      {"task_revoke_review_assignee", Kind::message, msg(s.revoke_review, "olga", 0)},
      {"task_revoke_deprovisioning_assignee", Kind::message, msg(s.deprovisioning, "pat", 1)},
      {"task_revoke_deprovisioned", Kind::message, msg(s.deprovisioned, "pat", 1)},
  };
}

std::vector<Golden> notices(const Scene& s) {
  const Engine& e = s.engine();
  auto note = [&](const Task& t, const std::string& event, const PersonId& by) {
    return post("D0ana", slack::notification(e, t, "ana", event, by));
  };
  const Comment& comment = s.owner_step.comments.back();
  return {
      {"notification_approved", Kind::message, note(s.owner_step, "approved", "dana")},
      {"notification_denied", Kind::message, note(s.denied, "denied", "dana")},
      {"notification_provisioned", Kind::message, note(s.provisioned, "provisioned", "pat")},
      {"notification_cancelled", Kind::message, note(s.cancelled, "cancelled", "ana")},
      {"reminder_in_thread", Kind::message,
       post("D0dana", slack::reminder(e, s.review, "dana", "UDANA", "1d 2h", false), "1.1")},
      {"reminder_standalone", Kind::message,
       post("UDANA", slack::reminder(e, s.review, "dana", "UDANA", "1d 2h", true))},
      {"comment_reply", Kind::message,
       post("D0dana", slack::comment_reply(e.directory(), s.owner_step, comment), "1.1")},
      {"notification_approved_shorter", Kind::message,
       post("D0ana", slack::notification(e, s.shortened, "ana", "approved", "dana",
                                         slack::Shortened{"1d", "dana"}))},
      {"task_grant_extension_assignee", Kind::message,
       post("D0dana", slack::task_message(e, s.extension, "dana", 0))},
  };
}

// The notices a holder gets about their own access (EffectKind::access_notice).
std::vector<Golden> access_notices(const Scene& s) {
  const Engine& e = s.engine();
  Holding h = s.held_by_bo();
  auto notice = [&](std::string event, TaskNumber ending_task, std::vector<PersonId> by,
                    std::optional<Time> at) {
    slack::AccessNotice n{std::move(event), h.app, h.resource, h.expires_at, ending_task,
                          std::move(by), at};
    return post("D0bo", slack::access_notice(e, n));
  };
  return {
      {"access_ending_soon", Kind::message, notice("ending_soon", 0, {}, std::nullopt)},
      {"access_expired", Kind::message, notice("expired", 0, {}, std::nullopt)},
      {"access_expired_by_hand", Kind::message, notice("expired", 12, {"pat"}, std::nullopt)},
      {"access_ended", Kind::message,
       notice("ended", 0, {}, testing::test_start() + std::chrono::hours(30))},
      {"access_ending", Kind::message, notice("ending", 12, {"pat"}, std::nullopt)},
  };
}

std::vector<Golden> views(const Scene& s) {
  const Engine& e = s.engine();
  std::vector<BulkResult> results;
  if (s.approved_two.ok()) results.push_back({2, *s.approved_two});
  results.push_back({4, conflict("#4 was already denied by Dana Reyes")});
  slack::HomeTasks dana{{s.review}, {s.denied, s.cancelled, s.owner_step}};
  slack::HomeTasks pat{{s.provisioning, s.deprovisioning}, {s.provisioned}};
  return {
      {"details_modal", Kind::modal,
       kit::views_open("T.trigger", slack::details_modal(e, s.owner_step, "olga"))},
      {"reassign_modal", Kind::modal,
       kit::views_open("T.trigger", slack::reassign_modal(s.owner_step, 1))},
      {"approve_for_modal", Kind::modal,
       kit::views_open("T.trigger", slack::approve_for_modal(s.review, 0))},
      {"extend_modal", Kind::modal,
       kit::views_open("T.trigger", slack::extend_modal(e.directory(), "github", "admin"))},
      {"reason_modal_deny", Kind::modal,
       kit::views_open("T.trigger", slack::reason_modal(s.owner_step, Action::deny, 1, true))},
      {"bulk_modal_approve", Kind::modal,
       kit::views_open("T.trigger", slack::bulk_modal(Action::approve, {{1, 0}, {2, 1}}))},
      {"bulk_result", Kind::modal,
       kit::views_open("T.trigger", slack::bulk_result_view(Action::approve, results))},
      {"home_requests", Kind::home,
       kit::views_publish("UDANA", slack::home_view(e, dana, "dana", "requests", 0))},
      {"home_provisioning", Kind::home,
       kit::views_publish("UPAT", slack::home_view(e, pat, "pat", "provisioning", 0))},
      {"home_completed", Kind::home,
       kit::views_publish("UDANA", slack::home_view(e, dana, "dana", "completed", 0))},
  };
}

std::vector<Golden> answers(const Scene& s) {
  const Engine& e = s.engine();
  return {
      {"tasks_show", Kind::ephemeral,
       kit::ephemeral_answer(kit::text_message(slack::task_text(e, s.owner_step, "olga")))},
      {"tasks_list", Kind::ephemeral,
       tasks_list(e, "Requests", {&s.review, &s.owner_step, &s.emergency})},
      {"ephemeral_error", Kind::ephemeral,
       kit::ephemeral_answer(kit::text_message(kit::esc(task_not_shown(42).message())))},
  };
}

// The test organisation with GitHub provisioned by SCIM (named Okta) and
// deprovisioned by a webhook (named Deploy bot); Pat takes over either.
std::string connector_org() {
  using testing::replaced;
  std::string text = replaced(
      testing::kTestOrg, R"("provisioning": {"mode": "manual", "provisioners": ["pat"], )",
      R"("provisioning": {"mode": "scim", "provisioners": ["pat"], )"
      R"("url": "https://okta.example/scim/v2", "token_env": "OKTA_TOKEN", "name": "Okta", )");
  text = replaced(text, R"("max_duration": "7d"})",
                  R"("max_duration": "7d", "scim_group": "GitHub admins"})");
  text = replaced(text, R"("request_policy": "two-step", "revocation_policy": "owner-confirms"})",
                  R"("request_policy": "two-step", "revocation_policy": "owner-confirms", )"
                  R"("scim_group": "GitHub members"})");
  return replaced(text, R"("deprovisioning": {"mode": "manual", "deprovisioners": ["pat"]})",
                  R"("deprovisioning": {"mode": "webhook", "deprovisioners": ["pat"], )"
                  R"("url": "https://deploy.example/hook", "secret_env": "DEPLOY_SECRET", )"
                  R"("name": "Deploy bot", "instructions": "Remove them in Settings."})");
}

// Connectors at each point of their run: #1 Ana's GitHub admin (SCIM), #2 the
// removal of Bo's (webhook), decided by the real engine.
struct ConnectorScene {
  ManualClock clock{testing::test_start()};
  std::shared_ptr<const Directory> dir = testing::load_org(connector_org());
  Engine engine{dir, clock};
  Task failed;    // #1: SCIM (Okta) failed (a hostile answer); Pat has the step, with Retry
  Task retried;   // #1: Pat retried: attempt 2 under way
  Task done;      // #1: SCIM (Okta) added the access
  Task accepted;  // #2: the webhook answered 202; its confirmation awaited
  Task refused;   // #2: the webhook failed; Pat has the step

  Task act(const Task& t, Action a, const PersonId& actor, std::string comment = {}) {
    clock.advance(std::chrono::minutes(7));
    auto d = engine.act(t, Command{a, actor, std::move(comment), {}, {}});
    EXPECT_TRUE(d.ok()) << d.status().to_string();
    return d.ok() ? d->task : t;
  }

  ConnectorScene() {
    const std::string system(kSystemActor);
    auto opened = engine.open_request(github_admin_for("ana", "on-call rotation"), 1);
    EXPECT_TRUE(opened.ok()) << opened.status().to_string();
    Task t = opened.ok() ? opened->task : Task{};
    t = act(act(act(t, Action::approve, "dana"), Action::approve, "olga"), Action::approve, "lee");
    failed = act(t, Action::connector_failed, system, "<!channel> *bold* <http://x|y>");
    retried = act(failed, Action::retry, "pat");
    done = act(retried, Action::connector_done, system, "HTTP 204");
    RevocationInput in{"dana", "bo", "github", "admin", "Bo moved to the data team"};
    in.facts = testing::config_facts(*dir, "bo", "github", "admin");
    auto proposed = engine.propose_revocation(in, 2);
    EXPECT_TRUE(proposed.ok()) << proposed.status().to_string();
    Task r = act(proposed.ok() ? proposed->task : Task{}, Action::confirm, "olga");
    accepted = act(r, Action::connector_accepted, system, "HTTP 202");
    refused = act(r, Action::connector_failed, system, "HTTP 410: no such user");
  }
};

std::vector<Golden> connectors(const Scene&) {
  ConnectorScene c;
  const Engine& e = c.engine;
  auto msg = [&](const Task& t, const PersonId& viewer, int step) {
    return post("D0" + viewer, slack::task_message(e, t, viewer, step));
  };
  slack::HomeTasks pat{{c.failed, c.refused}, {}};
  return {
      {"task_grant_connector_failed_assignee", Kind::message, msg(c.failed, "pat", 3)},
      {"task_grant_connector_calling", Kind::message, msg(c.retried, "pat", 3)},
      {"task_grant_connector_done", Kind::message, msg(c.done, "dana", 0)},
      {"task_revoke_connector_accepted", Kind::message, msg(c.accepted, "olga", 0)},
      {"task_revoke_connector_failed_assignee", Kind::message, msg(c.refused, "pat", 1)},
      {"notification_connector_provisioned", Kind::message,
       post("D0ana", slack::notification(e, c.done, "ana", "provisioned",
                                         std::string(kSystemActor)))},
      {"details_modal_connector_failed", Kind::modal,
       kit::views_open("T.trigger", slack::details_modal(e, c.failed, "pat"))},
      {"home_provisioning_connector_failed", Kind::home,
       kit::views_publish("UPAT", slack::home_view(e, pat, "pat", "provisioning", 0))},
  };
}

std::vector<Golden> all_goldens() {
  Scene s;
  std::vector<Golden> all;
  for (auto part : {task_messages, notices, access_notices, views, answers, connectors}) {
    for (Golden& g : part(s)) all.push_back(std::move(g));
  }
  return all;
}

// `json` pretty-printed, two spaces an indent, members in the order sent; a
// final line break.
std::string pretty(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  if (doc.HasParseError()) {
    ADD_FAILURE() << "not JSON: " << json;
    return json;
  }
  rapidjson::StringBuffer out;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(out);
  writer.SetIndent(' ', 2);
  doc.Accept(writer);
  return std::string(out.GetString(), out.GetSize()) + "\n";
}

// Why Slack would refuse `body` as a payload of `kind`, or nothing.
std::optional<sandbox::Refusal> slack_refusal(Kind kind, const std::string& body) {
  switch (kind) {
    case Kind::message:
      return sandbox::check_message(body);
    case Kind::ephemeral:
      return sandbox::check_message(body, /*is_response_url_or_ack=*/true);
    case Kind::modal:
      return sandbox::check_views_call(body, sandbox::Surface::modal);
    case Kind::home:
      return sandbox::check_views_call(body, sandbox::Surface::home);
  }
  return std::nullopt;
}

bool updating() {
  const char* v = std::getenv("TOLLGATE_UPDATE_GOLDEN");
  return v != nullptr && std::string(v) == "1";
}

std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void PrintTo(const Golden& g, std::ostream* os) {
  *os << g.name;
}

class RenderGolden : public ::testing::TestWithParam<Golden> {};

TEST_P(RenderGolden, MatchesItsFileAndSlacksRules) {
  const Golden& g = GetParam();
  auto refused = slack_refusal(g.kind, g.body);
  EXPECT_FALSE(refused.has_value()) << g.name << ": " << refused->to_string();
  std::string rendered = pretty(g.body);
  std::filesystem::path path = kGoldenDir / (g.name + ".json");
  if (updating()) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << rendered;
    return;
  }
  std::optional<std::string> golden = read_file(path);
  ASSERT_TRUE(golden.has_value())
      << path << " is missing: run with TOLLGATE_UPDATE_GOLDEN=1 to write it, then review it";
  EXPECT_EQ(rendered, *golden) << g.name << " differs from " << path
                               << " (TOLLGATE_UPDATE_GOLDEN=1 rewrites it, if on purpose)";
  // The file as it stands passes Slack's rules too.
  auto file_refused = slack_refusal(g.kind, *golden);
  EXPECT_FALSE(file_refused.has_value()) << path << ": " << file_refused->to_string();
}

INSTANTIATE_TEST_SUITE_P(Payloads, RenderGolden, ::testing::ValuesIn(all_goldens()),
                         [](const ::testing::TestParamInfo<Golden>& param) {
                           return param.param.name;
                         });

TEST(RenderGoldenFiles, EveryFileHasItsPayloadAndEveryPayloadItsFile) {
  std::set<std::string> names;
  for (const Golden& g : all_goldens()) {
    EXPECT_TRUE(names.insert(g.name).second) << "two payloads named " << g.name;
  }
  if (updating()) return;
  std::set<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(kGoldenDir)) {
    if (entry.path().extension() == ".json") files.insert(entry.path().stem().string());
  }
  EXPECT_EQ(files, names) << "a file in " << kGoldenDir
                          << " that no payload renders is stale: remove it";
}

TEST(RenderGoldenFiles, TheSceneIsWhatTheFilesSayItIs) {
  Scene s;
  EXPECT_EQ(s.review.state, TaskState::reviewing);
  EXPECT_EQ(s.owner_step.current_step(), 1);
  EXPECT_EQ(s.owner_step.assignees(), std::vector<PersonId>{"olga"});
  EXPECT_EQ(s.reassigned.assignees(), std::vector<PersonId>{"oscar"});
  EXPECT_EQ(s.provisioning.state, TaskState::provisioning);
  EXPECT_EQ(s.provisioned.state, TaskState::provisioned);
  EXPECT_EQ(s.denied.state, TaskState::denied);
  EXPECT_EQ(s.cancelled.state, TaskState::cancelled);
  EXPECT_EQ(s.revoke_review.assignees(), std::vector<PersonId>{"olga"});
  EXPECT_EQ(s.deprovisioning.state, TaskState::deprovisioning);
  EXPECT_EQ(s.deprovisioned.state, TaskState::deprovisioned);
  EXPECT_TRUE(s.emergency.emergency);
  EXPECT_EQ(s.emergency.assignees(), std::vector<PersonId>{"lee"});
  ASSERT_TRUE(s.approved_two.ok()) << s.approved_two.status().to_string();
  EXPECT_EQ(s.shortened.duration, std::chrono::hours(24));
  EXPECT_EQ(s.shortened.duration_by, "dana");
  EXPECT_EQ(s.shortened.assignees(), std::vector<PersonId>{"olga"});
  EXPECT_TRUE(s.extension.extension);
  EXPECT_EQ(s.extension.assignees(), std::vector<PersonId>{"dana"});
  ConnectorScene c;
  EXPECT_EQ(c.failed.assignees(), std::vector<PersonId>{"pat"});
  EXPECT_EQ(c.failed.steps[3].connector->phase, ConnectorRun::Phase::failed);
  EXPECT_EQ(c.retried.steps[3].connector->attempt, 2);
  EXPECT_TRUE(c.retried.assignees().empty());
  EXPECT_EQ(c.done.state, TaskState::provisioned);
  EXPECT_EQ(c.accepted.steps[1].connector->phase, ConnectorRun::Phase::accepted);
  EXPECT_EQ(c.refused.assignees(), std::vector<PersonId>{"pat"});
}

}  // namespace
}  // namespace tollgate
