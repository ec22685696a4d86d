// The task page's signed links, sessions and CSRF tokens (web/links.h): what
// an attacker holding one link, one cookie or one form can and cannot make of it.
#include <gtest/gtest.h>

#include "tests/support/test_org.h"
#include "web/links.h"

namespace tollgate::web {
namespace {

using std::chrono::hours;

const std::string kKey = "0123456789abcdef0123456789abcdef-test-key";

Time now() {
  return testing::test_start();
}

TEST(WebLinks, ALinkOpensItsTaskForItsPersonUntilItExpires) {
  std::string token = sign_link(kKey, {42, "dana", now() + hours(1)});
  Refusal why = Refusal::none;
  auto c = verify_link(kKey, token, now(), &why);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(why, Refusal::none);
  EXPECT_EQ(c->task, 42);
  EXPECT_EQ(c->person, "dana");
  EXPECT_FALSE(verify_link(kKey, token, now() + hours(1), &why).has_value());
  EXPECT_EQ(why, Refusal::expired);
  EXPECT_EQ(
      token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."),
      std::string::npos)
      << "URL-safe: " << token;
}

TEST(WebLinks, ALinkCannotBeTurnedIntoAnotherPersonsOrAnotherTasks) {
  std::string token = sign_link(kKey, {42, "dana", now() + hours(1)});
  std::string mac = token.substr(token.find('.'));
  // The same signature under other claims: another task, another person, a later end.
  for (const LinkClaims& forged :
       {LinkClaims{43, "dana", now() + hours(1)}, LinkClaims{42, "sam", now() + hours(1)},
        LinkClaims{42, "dana", now() + hours(1000)}}) {
    std::string other = sign_link(kKey, forged);
    std::string spliced = other.substr(0, other.find('.')) + mac;
    Refusal why = Refusal::none;
    EXPECT_FALSE(verify_link(kKey, spliced, now(), &why).has_value());
    EXPECT_EQ(why, Refusal::tampered);
  }
  // Another key (rotated): every link is revoked.
  Refusal why = Refusal::none;
  EXPECT_FALSE(verify_link(kKey + "2", token, now(), &why).has_value());
  EXPECT_EQ(why, Refusal::tampered);
  // One character changed anywhere.
  for (std::size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '.') continue;
    std::string t = token;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(verify_link(kKey, t, now(), &why).has_value()) << i;
  }
}

TEST(WebLinks, GarbageIsMalformedNotACrash) {
  for (const std::string& junk :
       {std::string(), std::string("."), std::string("abc"), std::string("a.b.c"),
        std::string("!!!.???"), std::string(5000, 'A') + "." + std::string(10, 'A'),
        std::string("AAAA.AAAA=")}) {
    Refusal why = Refusal::none;
    EXPECT_FALSE(verify_link(kKey, junk, now(), &why).has_value()) << junk;
    EXPECT_EQ(why, Refusal::malformed) << junk;
  }
}

TEST(WebLinks, ALinkIsNotASessionNorASessionALink) {
  Session s{"dana", now() + hours(1), new_session_id()};
  std::string cookie = sign_session(kKey, s);
  Refusal why = Refusal::none;
  auto back = verify_session(kKey, cookie, now(), &why);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->person, "dana");
  EXPECT_EQ(back->id, s.id);
  EXPECT_FALSE(verify_link(kKey, cookie, now(), &why).has_value());
  std::string token = sign_link(kKey, {42, "dana", now() + hours(1)});
  EXPECT_FALSE(verify_session(kKey, token, now(), &why).has_value());
  EXPECT_FALSE(verify_session(kKey, cookie, now() + hours(2), &why).has_value());
  EXPECT_EQ(why, Refusal::expired);
}

TEST(WebLinks, ACsrfTokenBelongsToOneSession) {
  Session s{"dana", now() + hours(1), new_session_id()};
  Session other{"dana", now() + hours(1), new_session_id()};
  EXPECT_EQ(s.id.size(), 32u);
  EXPECT_NE(s.id, other.id);
  std::string token = csrf_token(kKey, s);
  EXPECT_TRUE(check_csrf(kKey, s, token));
  EXPECT_FALSE(check_csrf(kKey, other, token));
  EXPECT_FALSE(check_csrf(kKey, s, ""));
  EXPECT_FALSE(check_csrf(kKey, s, token.substr(1)));
  Session sam{"sam", s.expires, s.id};
  EXPECT_FALSE(check_csrf(kKey, sam, token));
}

TEST(WebLinks, TheLinkIsThePublicUrlsTaskPath) {
  std::string link = task_link("https://tollgate.acme.test", kKey, 7, "bo", now(), hours(24));
  ASSERT_EQ(link.rfind("https://tollgate.acme.test/t/", 0), 0u) << link;
  Refusal why = Refusal::none;
  auto c = verify_link(kKey, link.substr(std::string("https://tollgate.acme.test/t/").size()),
                       now() + hours(23), &why);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->task, 7);
  EXPECT_EQ(c->expires, now() + hours(24));
}

}  // namespace
}  // namespace tollgate::web
