#include "edge/slack_context.h"

#include <spdlog/spdlog.h>

#include "app/identity.h"
#include "base/metrics.h"
#include "slack/block_kit.h"
#include "slack/payloads.h"
#include "slack/web_client.h"

namespace tollgate {

using http::Response;

Response unavailable_response() {
  return Response::text(503, "the store is unavailable; nothing was recorded\n");
}

void SlackContext::set_bot_identity(const std::string& bot_user_id, const std::string& bot_id) {
  std::lock_guard lock(bot_mu_);
  bot_user_id_ = bot_user_id;
  bot_id_ = bot_id;
}

bool SlackContext::is_self(const std::string& user, const std::string& bot) const {
  std::lock_guard lock(bot_mu_);
  return (!bot_user_id_.empty() && user == bot_user_id_) || (!bot_id_.empty() && bot == bot_id_);
}

bool SlackContext::foreign_team(const std::string& team_id, const std::string& enterprise_id,
                                http::Respond& respond) {
  Identity::Team team = identity.team_of(team_id, enterprise_id);
  if (team == Identity::Team::ours) return false;
  bool unknown = team == Identity::Team::unknown;
  metrics.inc("tollgate_slack_rejected_total", {{"reason", unknown ? "team_unknown" : "team"}});
  respond(unknown ? Response::text(503, "the workspace served here is not known yet\n")
                  : Response::text(403, "this workspace is not served here\n"));
  return true;
}

void SlackContext::tell(const slack::Interaction& in, const std::string& plain) {
  spdlog::info("told {}: {}", in.user_id, plain);
  slack::kit::Message message = slack::kit::text_message(slack::kit::esc(plain));
  if (slack == nullptr) return;
  auto log_failure = [](slack::ApiResult r) {
    if (!r.ok()) spdlog::warn("could not tell the clicker: {}", r.status.to_string());
  };
  if (!in.response_url.empty() && slack->allowed_response_url(in.response_url)) {
    slack->post_response_url(in.response_url, slack::kit::ephemeral_answer(message), log_failure);
  } else if (!in.channel_id.empty()) {
    slack->call("chat.postEphemeral",
                slack::kit::post_ephemeral(in.channel_id, in.user_id, message), log_failure);
  } else {
    slack->call("chat.postMessage", slack::kit::post_message(in.user_id, message), log_failure);
  }
}

}  // namespace tollgate
