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

#include <functional>
#include <string>

#include "http/message.h"

namespace tollgate {

struct SlackContext;
namespace slack {
struct Interaction;
}

// A delivery's key (edge/router.cc, dispatch_once), handed to a click that decides a task
// (is_task_decision): written in the decision's own transaction, so that the click costs one
// write, not two. A delivery whose key is there already decides nothing, is acknowledged with an
// empty 200 and tells nobody; `again` is called (the router counts it). A click that turns out
// to decide nothing (a form opens, the task is not shown, the engine refuses, the clicker is not
// known) records its key on its own before it answers: a replay of it does nothing either.
struct DeliveryKey {
  std::string key;
  std::function<void()> again;
};

// Whether `in` is a click on a task's decision button, or a More actions option naming one:
// the only store write it can make is that decision.
bool is_task_decision(const slack::Interaction& in);

void on_interaction(SlackContext& context, const slack::Interaction& in, http::Respond respond,
                    DeliveryKey delivery = {});

}  // namespace tollgate
