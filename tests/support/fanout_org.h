// A generated organisation for fan-out tests and benchmarks: `reviewers`
// managers m0.., each with one report r0.. who requests "app/res" (manager
// approves); and `owners` resources own0.. of app "own", each owned by its
// own person o0.., approved by "boss" then the resource's owner.
#pragma once

#include <string>

namespace tollgate::testing {

inline std::string fanout_org(int reviewers, int owners = 0) {
  std::string people = R"({"id":"boss","name":"Boss","slack_user_id":"UBOSS"})";
  for (int i = 0; i < reviewers; ++i) {
    std::string m = std::to_string(i);
    people += R"(,{"id":"m)" + m + R"(","name":"Manager )" + m + R"(","slack_user_id":"UM)" + m +
              R"("},)" + R"({"id":"r)" + m + R"(","name":"Report )" + m + R"(","manager":"m)" + m +
              R"(","slack_user_id":"UR)" + m + R"("})";
  }
  std::string resources;
  for (int i = 0; i < owners; ++i) {
    std::string o = std::to_string(i);
    people += R"(,{"id":"o)" + o + R"(","name":"Owner )" + o + R"(","slack_user_id":"UO)" + o +
              R"("})" + R"(,{"id":"w)" + o + R"(","name":"Worker )" + o +
              R"(","manager":"boss","slack_user_id":"UW)" + o + R"("})";
    resources += std::string(i ? "," : "") + R"({"id":"res)" + o + R"(","name":"Res )" + o +
                 R"(","owners":["o)" + o +
                 R"("],"request_policy":"two","revocation_policy":"rev"})";
  }
  std::string apps =
      R"({"id":"app","name":"App","resources":[{"id":"res","name":"Res","request_policy":"mgr","revocation_policy":"rev"}]})";
  if (owners > 0) apps += R"(,{"id":"own","name":"Owned","resources":[)" + resources + "]}";
  return R"({"organization":"Fanout","people":[)" + people + R"(],"apps":[)" + apps + R"(],
    "policies":[{"id":"mgr","name":"Manager","kind":"request","steps":[{"reviewers":{"type":"manager"}}]},
                {"id":"two","name":"Boss then owner","kind":"request","steps":[{"reviewers":{"type":"manager"}},
                  {"reviewers":{"type":"resource_owners"}}]},
                {"id":"rev","name":"Manager","kind":"revocation","steps":[{"reviewers":{"type":"manager"}}]}]})";
}

}  // namespace tollgate::testing
