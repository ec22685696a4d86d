// What a click or a form does (POST /slack/interactions, once verified and
// parsed by the router):
//
//   block_actions    a button or menu on a task message, or on the App Home
//                    (tabs, pages, bulk buttons): opens the form the action
//                    needs (reason, reassignment, details, bulk), or decides
//                    at once and answers 200 after the durable commit
//   view_submission  the reason, reassignment and bulk forms
//   view_closed, shortcuts and anything else: acknowledged, nothing done
//
// A refused or no-op click is acknowledged and explained to the clicker
// alone (SlackContext::tell). No Slack Web API call is made before the
// acknowledgement except views.open.
#pragma once

#include "http/message.h"

namespace tollgate {

struct SlackContext;
namespace slack {
struct Interaction;
}

void on_interaction(SlackContext& context, const slack::Interaction& in, http::Respond respond);

}  // namespace tollgate
