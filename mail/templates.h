// The mails Tollgate sends beside Slack, for people whose configuration says
// "notify": [..., "email"]: an assignment (or a reassignment, or an
// escalation), each outcome the requester and the subject are told of, and
// the notices about their own access (ends soon, ended).
// Pure: from the task and the effect to a MailMessage.
#pragma once

#include <string>

#include "mail/smtp.h"
#include "workflow/engine.h"
#include "workflow/task.h"

namespace tollgate::mail {

// `effect` is an EffectKind::email effect; `link` opens the task in Slack (the
// recipient's message about it, or the workspace), empty when unknown;
// `web_link` opens the task page (web/links.h) as the recipient, empty when
// Tollgate has none (TOLLGATE_PUBLIC_URL or TOLLGATE_LINK_KEY unset).
MailMessage task_mail(const Engine& engine, const Task& task, const Effect& effect,
                      const std::string& link, const std::string& web_link = {});

// Text made safe for HTML: & < > " '.
std::string html_escape(std::string_view text);

}  // namespace tollgate::mail
