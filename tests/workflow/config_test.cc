// The configuration loader: the example loads cleanly, and every kind of
// mistake is reported with the JSON path of the value at fault.
#include "workflow/config.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "tests/support/test_org.h"

namespace tollgate {
namespace {

using testing::kTestOrg;
using testing::replaced;

std::vector<std::string> errors_of(const std::string& text) {
  std::vector<std::string> out;
  for (const ConfigIssue& i : load_config_text(text).issues) {
    if (i.severity == ConfigIssue::Severity::error) out.push_back(i.path + ": " + i.message);
  }
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(Config, ExampleCompanyLoadsWithoutErrors) {
  LoadedConfig cfg = load_config_file(std::string(TOLLGATE_SOURCE_DIR) + "/examples/acme.json");
  for (const ConfigIssue& i : cfg.issues) ADD_FAILURE() << format_issue(i);
  ASSERT_TRUE(cfg.ok());
  const Directory& d = *cfg.directory;
  EXPECT_GE(d.people.size(), 25u);
  std::set<std::string> departments;
  for (const Person& p : d.people) departments.insert(p.department);
  EXPECT_GE(departments.size(), 4u);
  EXPECT_GE(d.apps.size(), 6u);
  std::size_t resources = 0;
  bool manual = false;
  bool automatic = false;
  for (const App& a : d.apps) {
    resources += a.resources.size();
    (a.provisioning.mode == ProvisioningMode::manual ? manual : automatic) = true;
  }
  EXPECT_GE(resources, 15u);
  EXPECT_TRUE(manual && automatic);
  std::set<std::size_t> request_step_counts;
  for (const Policy& p : d.policies) {
    if (p.kind == PolicyKind::request) request_step_counts.insert(p.steps.size());
  }
  EXPECT_TRUE(request_step_counts.count(2) && request_step_counts.count(3));
  EXPECT_FALSE(d.groups.empty());
  EXPECT_TRUE(
      std::all_of(d.grants.begin(), d.grants.end(), [](const Grant& g) { return g.last_used; }));
}

TEST(Config, CommentsAndTrailingCommasAreAllowed) {
  std::string text = replaced(kTestOrg, R"("organization": "Test",)",
                              "// who we are\n\"organization\": \"Test\", /* inline */");
  text = replaced(text, R"("admins": ["sam"],)", R"("admins": ["sam",],)");
  EXPECT_TRUE(errors_of(text).empty()) << ::testing::PrintToString(errors_of(text));
}

TEST(Config, SyntaxErrorGivesLineAndColumn) {
  auto e = errors_of("{\n  \"organization\": \"x\",\n  \"people\": [,]\n}");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], "$: not valid JSON at line 3, column 14: Invalid value.");
}

TEST(Config, UnknownPersonIsNamedWithItsPath) {
  auto e = errors_of(
      replaced(kTestOrg, R"("manager": "dana", "started")", R"("manager": "zed", "started")"));
  EXPECT_EQ(e, std::vector<std::string>{"$.people[2].manager: unknown person \"zed\""});
}

TEST(Config, PolicyOfTheWrongKind) {
  auto e = errors_of(replaced(kTestOrg, R"("revocation_policy": "manager-confirms")",
                              R"("revocation_policy": "manager-only")"));
  EXPECT_EQ(e, std::vector<std::string>{
                   "$.apps[1].resources[0].revocation_policy: policy \"manager-only\" is a request "
                   "policy; a revocation policy is needed here"});
}

TEST(Config, StepWithNoReviewersAndNoFallback) {
  auto e = errors_of(replaced(kTestOrg, R"({"type": "users", "users": ["lee"]})",
                              R"({"type": "users", "users": []})"));
  EXPECT_EQ(
      e, std::vector<std::string>{
             "$.policies[3].steps[0].reviewers.users: the step has no reviewers and no fallback"});
}

TEST(Config, EmptyGroupWithoutFallback) {
  auto e = errors_of(replaced(kTestOrg, R"("members": ["sam", "lee"])", R"("members": [])"));
  EXPECT_TRUE(has(e,
                  "$.policies[2].steps[2].reviewers.group: group \"security\" has no members and "
                  "the step has no fallback"))
      << ::testing::PrintToString(e);
}

TEST(Config, CycleOfManagers) {
  auto e = errors_of(replaced(kTestOrg, R"({"id": "boss", "name": "Bea Boss",)",
                              R"({"id": "boss", "name": "Bea Boss", "manager": "ana",)"));
  EXPECT_EQ(e, std::vector<std::string>{
                   "$.people[0].manager: cycle of managers: boss → ana → dana → boss"});
}

TEST(Config, DurationThatDoesNotParse) {
  auto e = errors_of(replaced(kTestOrg, R"("max_duration": "7d")", R"("max_duration": "a week")"));
  EXPECT_EQ(e,
            std::vector<std::string>{
                "$.apps[0].resources[0].max_duration: \"a week\" is not a duration such as \"8h\", "
                "\"7d\" or \"2w\""});
}

TEST(Config, DuplicateIds) {
  auto e = errors_of(
      replaced(kTestOrg, R"({"id": "cy", "name": "Cy Park")", R"({"id": "bo", "name": "Cy Park")"));
  EXPECT_TRUE(
      has(e, "$.people[4].id: duplicate person or group id \"bo\" (first at $.people[3].id)"))
      << ::testing::PrintToString(e);
  auto apps = errors_of(
      replaced(kTestOrg, R"({"id": "aws", "name": "AWS")", R"({"id": "github", "name": "AWS")"));
  EXPECT_TRUE(has(apps, "$.apps[1].id: duplicate app id \"github\" (first at $.apps[0].id)"));
}

TEST(Config, UnknownKeysWrongTypesAndMissingFields) {
  auto e =
      errors_of(replaced(kTestOrg, R"({"id": "oscar", "name": "Oscar Ortiz", "manager": "boss"})",
                         R"({"id": "oscar", "nmae": "Oscar Ortiz", "manager": 7})"));
  EXPECT_EQ(e, (std::vector<std::string>{"$.people[6].name: is required",
                                         "$.people[6].manager: expected a string",
                                         "$.people[6].nmae: unknown key \"nmae\""}));
}

TEST(Config, ManyProblemsAreAllReported) {
  std::string text = replaced(kTestOrg, R"("manager": "dana", "started": "2026-11-20")",
                              R"("manager": "dan", "started": "2026-13-01")");
  text = replaced(text, R"("deprovisioners": ["pat"])", R"("deprovisioners": ["pat", "ghost"])");
  text = replaced(text, R"("require_reason": ["deny"], "allow_reassign": true,
        "reassign_to")",
                  R"("require_reason": ["confirm"], "allow_reassign": true,
        "reassign_to")");
  auto e = errors_of(text);
  EXPECT_TRUE(has(e, "$.people[2].manager: unknown person \"dan\"")) << ::testing::PrintToString(e);
  EXPECT_TRUE(has(e, "$.people[2].started: \"2026-13-01\" is not a date of the form YYYY-MM-DD"));
  EXPECT_TRUE(
      has(e, "$.apps[0].deprovisioning.deprovisioners[1]: unknown person or group \"ghost\""));
  EXPECT_TRUE(has(e,
                  "$.policies[1].steps[1].require_reason[0]: \"confirm\" is not an action of a "
                  "request (approve, deny) step"));
  EXPECT_EQ(e.size(), 4u) << ::testing::PrintToString(e);
}

TEST(Config, ManagerSelectorWithoutFallbackIsOnlyAWarning) {
  LoadedConfig cfg = load_config_text(kTestOrg);
  EXPECT_TRUE(cfg.ok());
  ASSERT_EQ(cfg.issues.size(), 1u);
  EXPECT_EQ(format_issue(cfg.issues[0]),
            "warning: $.policies[5].steps[0]: reviewers of type manager may resolve to nobody and "
            "the step has no fallback: such tasks go to the admins");
}

}  // namespace
}  // namespace tollgate
