// The connectors' test counterparts themselves (tests/support/connector_servers.h): the SCIM 2.0
// server answers what RFC 7644 says over real HTTP, and the Standard Webhooks receiver accepts a
// delivery signed here by hand (HMAC-SHA256 over "id.timestamp.body", as the specification
// says) and refuses its replay and a changed body. Without scripts/deps.sh's npm packages these
// tests fail, they do not skip.
#include "tests/support/connector_servers.h"

#include <cctype>
#include <chrono>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <rapidjson/document.h>

#include "http/client.h"

namespace tollgate::testing {
namespace {

using connector_detail::missing_dependencies;

std::string percent_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// The Standard Webhooks signature, by hand: "v1," + base64(HMAC-SHA256(key, id.ts.body)) where
// key is the base64 after "whsec_".
std::string sign(const std::string& secret, const std::string& id, const std::string& ts,
                 const std::string& body) {
  std::string b64 = secret.substr(std::string("whsec_").size());
  std::vector<unsigned char> key(b64.size());
  int n = EVP_DecodeBlock(key.data(), reinterpret_cast<const unsigned char*>(b64.data()),
                          static_cast<int>(b64.size()));
  if (n < 0) return "";
  for (auto it = b64.rbegin(); it != b64.rend() && *it == '='; ++it) --n;  // padding decodes to 0s
  std::string message = id + "." + ts + "." + body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), n, reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), mac, &mac_len);
  std::string out(4 * ((mac_len + 2) / 3), '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, static_cast<int>(mac_len));
  return "v1," + out;
}

struct Signed {
  std::string id, ts, body;
};

http::ClientResult post_signed(std::uint16_t port, const Signed& s,
                               const std::string& signature = {}) {
  http::LoopbackClient client(port);
  return client.request(
      "POST", "/hook", s.body,
      {{"Content-Type", "application/json"},
       {"webhook-id", s.id},
       {"webhook-timestamp", s.ts},
       {"webhook-signature",
        signature.empty() ? sign(WebhookReceiver::kSecret, s.id, s.ts, s.body) : signature}});
}

class Scim {
 public:
  explicit Scim(std::uint16_t port) : client_(port) {}
  http::ClientResult call(const std::string& method, const std::string& target,
                          const std::string& body = {},
                          const std::string& token = ScimServer::kToken) {
    http::Headers h = {{"Authorization", "Bearer " + token}};
    if (!body.empty()) h.emplace_back("Content-Type", "application/scim+json");
    return client_.request(method, "/scim/v2" + target, body, h);
  }
  rapidjson::Document list(const std::string& resource, const std::string& filter) {
    rapidjson::Document d;
    d.Parse(call("GET", resource + "?filter=" + percent_encode(filter)).body.c_str());
    return d;
  }
  std::string id_of(const std::string& resource, const std::string& filter) {
    rapidjson::Document d = list(resource, filter);
    if (!d.IsObject() || !d.HasMember("Resources") || d["Resources"].Empty()) return "";
    return d["Resources"][0]["id"].GetString();
  }
  http::ClientResult patch_members(const std::string& group_id, const std::string& op,
                                   const std::string& user_id) {
    std::string operation =
        op == "add" ? R"({"op":"add","path":"members","value":[{"value":")" + user_id + R"("}]})"
                    : R"({"op":"remove","path":"members[value eq \")" + user_id + R"(\"]"})";
    return call("PATCH", "/Groups/" + group_id,
                R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)" +
                    operation + "]}");
  }

 private:
  http::LoopbackClient client_;
};

int total_results(const rapidjson::Document& d) {
  return d.IsObject() && d.HasMember("totalResults") ? d["totalResults"].GetInt() : -1;
}

TEST(ConnectorServers, NpmPackagesAreInstalled) {
  EXPECT_EQ(missing_dependencies(), "");
}

TEST(ConnectorServers, ScimServerFiltersUsersAndGroupsAndPatchesMembersAsASet) {
  ScimServer server({"Engineering", "Admins"});
  ASSERT_TRUE(server.ok()) << server.error();
  server.add_user("ada", "ada@example.com", "Ada Lovelace");
  EXPECT_TRUE(server.has_user("ada"));
  EXPECT_FALSE(server.has_user("bob"));

  Scim scim(server.port());
  http::ClientResult created =
      scim.call("POST", "/Users",
                R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob",)"
                R"("emails":[{"value":"bob@example.com","primary":true}]})");
  EXPECT_EQ(created.status, 201) << created.body;
  EXPECT_TRUE(server.has_user("bob"));
  EXPECT_EQ(scim.call("POST", "/Users", R"({"userName":"bob"})").status, 409);

  EXPECT_EQ(total_results(scim.list("/Users", R"(userName eq "ada")")), 1);
  EXPECT_EQ(total_results(scim.list("/Users", R"(userName eq "nobody")")), 0);
  EXPECT_EQ(total_results(scim.list("/Users", R"(emails[value eq "bob@example.com"])")), 1);
  std::string ada = scim.id_of("/Users", R"(userName eq "ada")");
  std::string engineering = scim.id_of("/Groups", R"(displayName eq "Engineering")");
  ASSERT_FALSE(ada.empty());
  ASSERT_FALSE(engineering.empty());

  // Pagination: two users, one a page.
  rapidjson::Document page;
  page.Parse(scim.call("GET", "/Users?startIndex=2&count=1").body.c_str());
  ASSERT_TRUE(page.IsObject());
  EXPECT_EQ(page["totalResults"].GetInt(), 2);
  EXPECT_EQ(page["startIndex"].GetInt(), 2);
  EXPECT_EQ(page["Resources"].Size(), 1u);

  const std::string member_of_engineering =
      R"(displayName eq "Engineering" and members[value eq ")" + ada + R"("])";
  EXPECT_EQ(total_results(scim.list("/Groups", member_of_engineering)), 0);
  for (int i = 0; i < 2; ++i) {
    http::ClientResult r = scim.patch_members(engineering, "add", ada);
    EXPECT_TRUE(r.status == 200 || r.status == 204) << r.status << " " << r.body;
  }
  EXPECT_EQ(server.members("Engineering"), std::vector<std::string>{"ada"});
  EXPECT_TRUE(server.members("Admins").empty());
  EXPECT_EQ(total_results(scim.list("/Groups", member_of_engineering)), 1);
  EXPECT_EQ(total_results(scim.list(
                "/Groups", R"(displayName eq "Admins" and members[value eq ")" + ada + R"("])")),
            0);

  http::ClientResult removed = scim.patch_members(engineering, "remove", ada);
  EXPECT_TRUE(removed.status == 200 || removed.status == 204) << removed.body;
  EXPECT_TRUE(server.members("Engineering").empty());

  rapidjson::Document config;
  config.Parse(scim.call("GET", "/ServiceProviderConfig").body.c_str());
  ASSERT_TRUE(config.IsObject());
  EXPECT_TRUE(config["patch"]["supported"].GetBool());
  EXPECT_TRUE(config["filter"]["supported"].GetBool());

  server.reset();
  EXPECT_FALSE(server.has_user("ada"));
  EXPECT_EQ(server.requests(), 0);
}

TEST(ConnectorServers, ScimServerRefusesABadTokenAndFailsAndGoesDownOnDemand) {
  ScimServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  EXPECT_EQ(server.base_url(), "http://127.0.0.1:" + std::to_string(server.port()) + "/scim/v2");
  Scim scim(server.port());

  http::ClientResult refused = scim.call("GET", "/Users", {}, "wrong-token");
  EXPECT_EQ(refused.status, 401);
  EXPECT_NE(refused.body.find("urn:ietf:params:scim:api:messages:2.0:Error"), std::string::npos);

  server.fail_next(429, 2, 7);
  for (int i = 0; i < 2; ++i) {
    http::ClientResult r = scim.call("GET", "/Users");
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(r.header("Retry-After"), "7");
    EXPECT_NE(r.body.find("urn:ietf:params:scim:api:messages:2.0:Error"), std::string::npos);
  }
  EXPECT_EQ(scim.call("GET", "/Users").status, 200);
  server.fail_next(503, 1);
  http::ClientResult unavailable = scim.call("GET", "/Groups");
  EXPECT_EQ(unavailable.status, 503);
  EXPECT_EQ(unavailable.header("Retry-After"), "");

  // Long enough that the call right after falls inside it on a loaded machine.
  server.down_for(std::chrono::milliseconds(1500));
  http::ClientResult down = scim.call("GET", "/Users");
  EXPECT_EQ(down.status, 0);
  EXPECT_FALSE(down.error.empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(1600));
  EXPECT_EQ(scim.call("GET", "/Users").status, 200);
  // Every request that reached /scim/v2, answered or not: 8, as the client tried the destroyed
  // one twice (LoopbackClient retries once on a fresh connection when a kept-alive one dies).
  EXPECT_EQ(server.requests(), 8);
}

TEST(ConnectorServers, WebhookReceiverVerifiesAHandSignedDeliveryAndRefusesReplayAndTamper) {
  WebhookReceiver receiver;
  ASSERT_TRUE(receiver.ok()) << receiver.error();
  Signed s{"msg_hand_1", std::to_string(std::time(nullptr)), R"({"type":"access.granted"})"};
  http::ClientResult first = post_signed(receiver.port(), s);
  EXPECT_EQ(first.status, 200) << first.body;

  std::vector<WebhookReceiver::Delivery> d = receiver.deliveries();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_TRUE(d[0].verified) << d[0].error;
  EXPECT_EQ(d[0].id, s.id);
  EXPECT_EQ(d[0].timestamp, s.ts);
  EXPECT_EQ(d[0].body, s.body);
  EXPECT_EQ(d[0].answered, 200);

  EXPECT_EQ(receiver.replay(0), 409);
  EXPECT_EQ(receiver.tamper(0), 401);
  EXPECT_EQ(receiver.deliveries().size(), 1u);  // its own probes are not deliveries

  // Wrong key, stale timestamp: refused.
  Signed other{"msg_hand_2", s.ts, s.body};
  EXPECT_EQ(
      post_signed(receiver.port(), other, sign("whsec_c2VjcmV0", other.id, other.ts, other.body))
          .status,
      401);
  Signed stale{"msg_hand_3", std::to_string(std::time(nullptr) - 600), s.body};
  EXPECT_EQ(post_signed(receiver.port(), stale).status, 401);
  d = receiver.deliveries();
  ASSERT_EQ(d.size(), 3u);
  EXPECT_FALSE(d[1].verified);
  EXPECT_FALSE(d[2].verified);
}

TEST(ConnectorServers, WebhookReceiverAcceptsARedeliveryAfterA5xxOnly) {
  WebhookReceiver receiver;
  ASSERT_TRUE(receiver.ok()) << receiver.error();
  receiver.answer_next(500, 2);
  Signed s{"msg_retry", std::to_string(std::time(nullptr)), R"({"n":1})"};
  EXPECT_EQ(post_signed(receiver.port(), s).status, 500);
  EXPECT_EQ(post_signed(receiver.port(), s).status, 500);
  EXPECT_EQ(post_signed(receiver.port(), s).status, 200);
  EXPECT_EQ(post_signed(receiver.port(), s).status, 409);
  std::vector<WebhookReceiver::Delivery> d = receiver.deliveries();
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].answered, 500);
  EXPECT_EQ(d[2].answered, 200);
  EXPECT_EQ(d[3].error, "replay");

  receiver.reset();
  EXPECT_TRUE(receiver.deliveries().empty());
  receiver.answer_next(202, 1);
  Signed again{"msg_retry", std::to_string(std::time(nullptr)), R"({"n":2})"};
  EXPECT_EQ(post_signed(receiver.port(), again).status, 202);  // reset forgot the id
}

TEST(ConnectorServers, WebhookReceiverSignsConfirmationsTheWayTheSpecificationSays) {
  WebhookReceiver sender;
  WebhookReceiver receiver;
  ASSERT_TRUE(sender.ok()) << sender.error();
  ASSERT_TRUE(receiver.ok()) << receiver.error();
  const std::string body = R"({"request":"r-1","decision":"approved"})";
  WebhookReceiver::Confirmation c = sender.confirm(receiver.url(), body);
  EXPECT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(c.id.rfind("msg_", 0), 0u);
  EXPECT_EQ(c.signature, sign(WebhookReceiver::kSecret, c.id, c.timestamp, body));
  // The same delivery again, by hand: a replay.
  EXPECT_EQ(post_signed(receiver.port(), {c.id, c.timestamp, body}, c.signature).status, 409);
  // To nobody: status 0.
  WebhookReceiver::Confirmation lost = sender.confirm("http://127.0.0.1:1/hook", body);
  EXPECT_EQ(lost.status, 0);
}

}  // namespace
}  // namespace tollgate::testing
