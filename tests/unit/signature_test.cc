// Request signatures against Slack's published test vector and its mutations.
#include "slack/signature.h"

#include <gtest/gtest.h>

#include "base/json.h"
#include "tests/support/fixtures.h"

namespace tollgate::slack {
namespace {

std::string fixture(const std::string& name) {
  return testing::slack_fixture(name);
}

struct Vector {
  std::string secret, timestamp, body, signature;
};

Vector official() {
  rapidjson::Document d;
  EXPECT_TRUE(json::parse(d, fixture("signature_test_vector.json")).ok());
  return {json::str(d, "signing_secret"), json::str(d, "x_slack_request_timestamp"),
          json::str(d, "body"), json::str(d, "expected_x_slack_signature")};
}

Time at(long long unix_seconds) {
  return Time(std::chrono::seconds(unix_seconds));
}
constexpr long long kVectorTime = 1531420618;

TEST(Signature, OfficialVectorIsAccepted) {
  Vector v = official();
  EXPECT_EQ(sign(v.secret, v.timestamp, v.body), v.signature);
  EXPECT_TRUE(verify_signature(v.secret, v.timestamp, v.signature, v.body, at(kVectorTime)).ok());
}

TEST(Signature, DerivedVectorsFromTheFixtures) {
  rapidjson::Document d;
  ASSERT_TRUE(json::parse(d, fixture("signature_derived_vectors.json")).ok());
  for (const auto& v : d["vectors"].GetArray()) {
    std::string body = fixture(json::str(v, "body_file"));
    if (json::str(v, "body_bytes_note").find("minus the final trailing newline") !=
            std::string::npos &&
        !body.empty() && body.back() == '\n') {
      body.pop_back();
    }
    EXPECT_EQ(sign(json::str(v, "signing_secret"), json::str(v, "x_slack_request_timestamp"), body),
              json::str(v, "expected_x_slack_signature"))
        << json::str(v, "body_file");
  }
}

TEST(Signature, MutationsAreRefused) {
  Vector v = official();
  Time now = at(kVectorTime);
  auto refused = [&](std::string_view ts, std::string_view sig, std::string_view body, Time t) {
    Status s = verify_signature(v.secret, ts, sig, body, t);
    EXPECT_EQ(s.code(), Code::permission_denied);
    return s.message();
  };
  EXPECT_EQ(refused(v.timestamp, v.signature, v.body + "------", now), "signature mismatch");
  std::string one_char = v.signature;
  one_char.back() = one_char.back() == '0' ? '1' : '0';
  EXPECT_EQ(refused(v.timestamp, one_char, v.body, now), "signature mismatch");
  std::string v1 = "v1=" + v.signature.substr(3);
  EXPECT_EQ(refused(v.timestamp, v1, v.body, now), "unknown signature version");
  EXPECT_EQ(refused("", v.signature, v.body, now), "missing signature headers");
  EXPECT_EQ(refused(v.timestamp, "", v.body, now), "missing signature headers");
  EXPECT_EQ(refused("15314x0618", v.signature, v.body, now),
            "timestamp is not a number of seconds");
  EXPECT_EQ(refused("-1531420618", v.signature, v.body, now),
            "timestamp is not a number of seconds");
  EXPECT_EQ(refused(v.signature, v.signature, v.body, now), "timestamp is not a number of seconds");
  EXPECT_EQ(refused(v.timestamp, v.signature, v.body, at(kVectorTime + 600)),
            "timestamp outside the five-minute window");
  EXPECT_EQ(refused(v.timestamp, v.signature, v.body, at(kVectorTime - 301)),
            "timestamp outside the five-minute window")
      << "a timestamp five minutes in the future is refused too";
  EXPECT_EQ(refused(v.timestamp, v.signature.substr(0, 20), v.body, now), "signature mismatch");
  EXPECT_TRUE(
      verify_signature(v.secret, v.timestamp, v.signature, v.body, at(kVectorTime + 299)).ok());
  EXPECT_EQ(verify_signature("", v.timestamp, v.signature, v.body, now).code(),
            Code::permission_denied);
  EXPECT_EQ(verify_signature("another-secret", v.timestamp, v.signature, v.body, now).code(),
            Code::permission_denied);
}

}  // namespace
}  // namespace tollgate::slack
