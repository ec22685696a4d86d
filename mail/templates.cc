#include "mail/templates.h"

#include "base/time_text.h"

namespace tollgate::mail {
namespace {

struct Content {
  std::string subject;
  std::string headline;                                    // one sentence
  std::vector<std::pair<std::string, std::string>> facts;  // label, value
  std::string call;                                        // what to do, if anything
};

std::string what(const Task& t) {
  return t.app_name + " / " + t.resource_name;
}

// Who made the change: `via` (the connector, "SCIM (Okta)") when the effect
// names one, else the connector that closed the task when Tollgate itself
// did, else the person.
std::string doer(const Directory& d, const Task& t, const PersonId& by, const std::string& via) {
  if (!via.empty()) return via;
  if (by == kSystemActor) {
    for (auto it = t.steps.rbegin(); it != t.steps.rend(); ++it) {
      if (it->state == StepState::done && it->connector && it->decided_by == kSystemActor)
        return decider_name(d, *it);
    }
  }
  return d.display_name(by);
}

std::string outcome_sentence(const Directory& d, const Task& t, const std::string& event,
                             const PersonId& by, const std::string& via) {
  std::string who = doer(d, t, by, via);
  if (event == "approved" || event == "confirmed")
    return "was " + event + " by " + who + " and moves on to its next step.";
  if (event == "denied") return "was denied by " + who + ".";
  if (event == "granted") return "was approved by " + who + ": the access is granted.";
  if (event == "revoked") return "was confirmed by " + who + ": the access is removed.";
  if (event == "provisioned") return "is done: " + who + " has added the access.";
  if (event == "deprovisioned") return "is done: " + who + " has removed the access.";
  if (event == "not_provisioned") return "is closed: " + who + " will not add the access.";
  if (event == "not_deprovisioned") return "is closed: " + who + " will not remove the access.";
  if (event == "cancelled") return "was cancelled by " + who + ".";
  if (event == "expired") return "expired: nobody decided in time.";
  return event + " (" + who + ").";
}

// A notice about the recipient's own access (EffectKind::access_notice's data).
Content access_content(const Directory& d, const Effect& ef) {
  auto get = [&ef](const char* key) {
    const std::string* v = ef.get(key);
    return v != nullptr ? *v : std::string();
  };
  const App* app = d.app(get("app"));
  const Resource* res = d.resource(get("app"), get("resource"));
  std::string access = (app != nullptr ? app->name : get("app")) + " / " +
                       (res != nullptr ? res->name : get("resource"));
  std::string ends;
  if (std::string ms = get("expires_at");
      !ms.empty() && ms.find_first_not_of("0123456789") == std::string::npos)
    ends = format_instant(Time(Duration(std::stoll(ms))));
  Content c;
  c.facts.emplace_back("Access", access);
  if (!ends.empty()) c.facts.emplace_back("Ends", ends);
  std::string event = get("event");
  if (event == "ending_soon") {
    c.subject = "[Tollgate] Your access to " + access + " ends " + ends;
    c.headline = "Your access to " + access + " ends at " + ends + ".";
    c.call =
        "Extend it, or end it now if you are done: from Slack, or with /tasks extend and "
        "/tasks done.";
  } else if (event == "ending") {
    c.subject = "[Tollgate] Your access to " + access + " has ended";
    c.headline = "Your access to " + access + " has ended; #" + get("ending_task") +
                 " asks for it to be removed.";
  } else if (event == "ended") {
    c.subject = "[Tollgate] Your access to " + access + " has ended";
    c.headline = get("by") == ef.recipient || get("by").empty()
                     ? "You ended your access to " + access + "."
                     : d.display_name(get("by")) + " ended your access to " + access + ".";
  } else {
    c.subject = "[Tollgate] Your access to " + access + " has ended";
    c.headline = "Your access to " + access + " has ended: it expired" +
                 (ends.empty() ? "" : " at " + ends) + ".";
  }
  return c;
}

Content content(const Engine& e, const Task& t, const Effect& ef) {
  if (const std::string* about = ef.get("about");
      about != nullptr && *about == effect_kind_name(EffectKind::access_notice))
    return access_content(e.directory(), ef);
  const Directory& d = e.directory();
  auto get = [&ef](const char* key) {
    const std::string* v = ef.get(key);
    return v != nullptr ? *v : std::string();
  };
  std::string ref = "#" + std::to_string(t.number);
  std::string kind = t.kind == TaskKind::grant ? "Access request" : "Revocation";
  Content c;
  c.facts.emplace_back("Account", d.display_name(t.subject));
  c.facts.emplace_back("Resource", what(t) + (t.sensitive ? " (sensitive)" : ""));
  c.facts.emplace_back(t.kind == TaskKind::grant ? "Justification" : "Reason", t.justification);
  if (t.duration) c.facts.emplace_back("Duration", format_duration(*t.duration));
  if (t.emergency) c.facts.emplace_back("Emergency", "yes");
  c.facts.emplace_back("Requested by", d.display_name(t.requester));
  if (get("about") == "assign") {
    int step = get("step").empty() ? t.current_step() : std::stoi(get("step"));
    const TaskStep* s = step >= 0 && step < static_cast<int>(t.steps.size())
                            ? &t.steps[static_cast<std::size_t>(step)]
                            : nullptr;
    std::string label = s != nullptr ? step_label(d, *s) : "";
    c.facts.emplace_back("Step", std::to_string(step + 1) + " of " +
                                     std::to_string(t.steps.size()) +
                                     (label.empty() ? "" : " (" + label + ")"));
    std::string task_kind = s != nullptr && s->kind == StepKind::provision     ? "provision"
                            : s != nullptr && s->kind == StepKind::deprovision ? "deprovision"
                                                                               : "review";
    if (!get("escalated").empty()) {
      c.subject = "[Tollgate] Escalated to you: " + ref + " " + what(t) + " for " +
                  d.display_name(t.subject);
      c.headline = kind + " " + ref + " had no decision after " + get("escalated") +
                   " and was escalated to you.";
    } else if (!get("reassigned_by").empty()) {
      c.subject = "[Tollgate] Reassigned to you: " + ref + " " + what(t) + " for " +
                  d.display_name(t.subject);
      c.headline =
          d.display_name(get("reassigned_by")) + " reassigned " + kind + " " + ref + " to you.";
    } else if (s != nullptr && s->connector &&
               s->connector->phase == ConnectorRun::Phase::failed) {
      // The connector gave up: the step is people's, with what the system said.
      const ConnectorRun& run = *s->connector;
      bool add = s->kind != StepKind::deprovision;
      c.subject = "[Tollgate] " + run.label + " failed, please " + task_kind + ": " + ref + " " +
                  what(t) + " for " + d.display_name(t.subject);
      c.headline = run.label + " could not " + (add ? "add" : "remove") + " the access for " +
                   kind + " " + ref + ". It is waiting for you to " + task_kind +
                   " it by hand, or to retry it.";
      c.facts.emplace_back(run.label + " answered",
                           run.answer.empty() ? "(nothing)" : run.answer);
      if (!t.instructions.empty()) c.facts.emplace_back("Instructions", t.instructions);
      c.call = "Open it in Slack to mark it " + std::string(add ? "provisioned" : "deprovisioned") +
               " or to retry it (/tasks retry " + std::to_string(t.number) + ").";
    } else {
      c.subject = "[Tollgate] Please " + task_kind + ": " + ref + " " + what(t) + " for " +
                  d.display_name(t.subject);
      c.headline = kind + " " + ref + " is waiting for you to " + task_kind + " it.";
    }
    if (s != nullptr) {
      if (auto it = s->delegated_for.find(ef.recipient); it != s->delegated_for.end()) {
        c.headline += " You stand in for " + d.display_name(it->second) + ", who is away.";
      }
    }
    if (c.call.empty()) c.call = "Open it in Slack to decide.";
  } else {
    std::string event = get("event");
    c.subject = "[Tollgate] " + ref + " " + what(t) + ": " + event;
    std::string whose = ef.recipient == t.requester ? "Your " : "The ";
    c.headline = whose + (t.kind == TaskKind::grant ? "access request " : "revocation ") + ref +
                 " " + outcome_sentence(d, t, event, get("by"), get("via"));
  }
  return c;
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

MailMessage task_mail(const Engine& engine, const Task& task, const Effect& effect,
                      const std::string& link, const std::string& web_link) {
  const Directory& d = engine.directory();
  Content c = content(engine, task, effect);
  // With the task page, the mail's own link is where to act: Slack is the other way.
  if (!web_link.empty() && c.call.rfind("Open it in Slack", 0) == 0)
    c.call.replace(0, 16, "Open it in your browser");
  MailMessage m;
  if (const Person* p = d.person(effect.recipient)) {
    m.to = p->email;
    m.to_name = p->name;
  }
  m.subject = c.subject;
  std::string text = c.headline + "\n\n";
  std::string html = "<!DOCTYPE html><html><body style=\"font-family:sans-serif\"><p>" +
                     html_escape(c.headline) + "</p><table cellpadding=\"4\">";
  for (const auto& [label, value] : c.facts) {
    text += label + ": " + value + "\n";
    html += "<tr><th align=\"left\">" + html_escape(label) + "</th><td>" + html_escape(value) +
            "</td></tr>";
  }
  html += "</table>";
  if (!c.call.empty() || !link.empty()) {
    text += "\n" + c.call;
    if (!link.empty()) {
      text += (c.call.empty() ? "Open it in Slack: " : " ") + link;
      html += "<p><a href=\"" + html_escape(link) + "\">Open #" + std::to_string(task.number) +
              " in Slack</a></p>";
    } else if (!c.call.empty()) {
      html += "<p>" + html_escape(c.call) + "</p>";
    }
    text += "\n";
  }
  if (!web_link.empty()) {
    text += "Open it in your browser: " + web_link + "\n";
    html += "<p><a href=\"" + html_escape(web_link) + "\">Open #" + std::to_string(task.number) +
            " in your browser</a></p>";
  }
  text += "\n-- \nTollgate, for " + d.organization + "\n";
  html +=
      "<p style=\"color:#888\">Tollgate, for " + html_escape(d.organization) + "</p></body></html>";
  m.text = std::move(text);
  m.html = std::move(html);
  return m;
}

}  // namespace tollgate::mail
