#include "tests/support/slack_requests.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace tollgate::testing {

void slack_answer_failure(const std::string& what) {
  if (::testing::UnitTest::GetInstance()->current_test_info() != nullptr) {
    ADD_FAILURE() << "Slack would refuse Tollgate's answer: " << what;
  } else {
    std::fprintf(stderr, "Slack would refuse Tollgate's answer: %s\n", what.c_str());
  }
}

}  // namespace tollgate::testing
