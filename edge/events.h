// What an Events API callback does (POST /slack/events, once verified and
// parsed by the router):
//
//   url_verification      answered with its challenge
//   event_callback        from our workspace only; the bot's own messages
//                         ignored; deduplicated by event_id:
//     message             a reply, edit or deletion in the thread of a task
//                         message becomes a comment on the task
//     app_home_opened     the App Home is published for the viewer
//   anything else         acknowledged, nothing done
#pragma once

#include "http/message.h"

namespace tollgate {

struct SlackContext;
namespace slack {
struct EventEnvelope;
}

void on_event(SlackContext& context, const slack::EventEnvelope& ev, http::Respond respond);

}  // namespace tollgate
