// A generated organisation at scale, for benchmarks: `people` people, of
// whom one in a hundred is a manager m0.. (Slack id UM0..) and the others
// reports r0.. (UR0..), report k reporting to manager k % managers, so each
// manager has ~99 reports. App "app" has `resources` resources res0.., each
// approved by the requester's manager (policy "mgr", one step) and revoked
// likewise (policy "rev"). Managers have no manager: only reports request.
#pragma once

#include <string>

namespace tollgate::testing {

struct ScaleOrg {
  int people = 10000;
  int resources = 5;

  int managers() const { return people >= 200 ? people / 100 : 1; }
  int reports() const { return people - managers(); }
  int manager_of(int report) const { return report % managers(); }
  static std::string manager_id(int i) { return "m" + std::to_string(i); }
  static std::string report_id(int k) { return "r" + std::to_string(k); }
  static std::string manager_slack(int i) { return "UM" + std::to_string(i); }
  static std::string report_slack(int k) { return "UR" + std::to_string(k); }
  static std::string resource_id(int j) { return "res" + std::to_string(j); }

  // The configuration file's text (JSON), valid for `tollgate check-config`.
  std::string json() const {
    std::string out = R"({"organization":"Scale","people":[)";
    out.reserve(static_cast<std::size_t>(people) * 110);
    for (int i = 0; i < managers(); ++i) {
      std::string n = std::to_string(i);
      out += std::string(i ? "," : "") + R"({"id":"m)" + n + R"(","name":"Manager )" + n +
             R"(","email":"m)" + n + R"(@scale.test","slack_user_id":"UM)" + n + R"("})";
    }
    for (int k = 0; k < reports(); ++k) {
      std::string n = std::to_string(k);
      out += R"(,{"id":"r)" + n + R"(","name":"Report )" + n + R"(","email":"r)" + n +
             R"(@scale.test","manager":"m)" + std::to_string(manager_of(k)) +
             R"(","slack_user_id":"UR)" + n + R"("})";
    }
    out += R"(],"apps":[{"id":"app","name":"App","resources":[)";
    for (int j = 0; j < resources; ++j) {
      std::string n = std::to_string(j);
      out += std::string(j ? "," : "") + R"({"id":"res)" + n + R"(","name":"Resource )" + n +
             R"(","request_policy":"mgr","revocation_policy":"rev"})";
    }
    out += R"(]}],
    "policies":[{"id":"mgr","name":"Manager","kind":"request","steps":[{"reviewers":{"type":"manager"}}]},
                {"id":"rev","name":"Manager","kind":"revocation","steps":[{"reviewers":{"type":"manager"}}]}]})";
    return out;
  }
};

}  // namespace tollgate::testing
