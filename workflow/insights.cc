// Insights: plain facts from the directory and the access ledger that help a reviewer
// decide. Computed once, when the task opens, and kept with it: the reviewer
// and the audit log see the facts as they stood at the time of the request.
#include <string>

#include "workflow/engine.h"
#include "base/time_text.h"

namespace tollgate {
namespace {

std::string plural(long long n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

bool outside_business_hours(Time t) {
  using namespace std::chrono;
  auto day = floor<days>(t);
  weekday wd{day};
  auto hour = duration_cast<hours>(t - day).count();
  return wd == Saturday || wd == Sunday || hour < 8 || hour >= 18;
}

const Holding* holding_of(const std::vector<Holding>& holders, const PersonId& person) {
  for (const Holding& h : holders) {
    if (h.person == person) return &h;
  }
  return nullptr;
}

}  // namespace

std::vector<Insight> compute_insights(const Directory& dir, const Task& task, Time now,
                                      const std::vector<Holding>& holders) {
  std::vector<Insight> out;
  const Person* subject = dir.person(task.subject);
  std::string who = dir.display_name(task.subject);
  const Holding* held = holding_of(holders, task.subject);

  if (task.emergency) out.push_back({"emergency", "Emergency request"});
  if (task.sensitive) {
    out.push_back(
        {"sensitive", task.app_name + " / " + task.resource_name + " is marked sensitive"});
  }

  if (task.kind == TaskKind::grant) {
    if (held != nullptr) {
      out.push_back({"already_granted",
                     who + " already has this access (since " + format_date(held->since) +
                         (held->expires_at ? ", until " + format_instant(*held->expires_at) : "") +
                         ")"});
    }
    if (task.requester != task.subject) {
      out.push_back({"on_behalf",
                     "Requested by " + dir.display_name(task.requester) + " on behalf of " + who});
    }
    if (subject != nullptr && subject->started) {
      long long d = days_between(*subject->started, now);
      if (d >= 0 && d < 30) {
        out.push_back({"new_joiner", who + " started " + plural(d, "day", "days") + " ago"});
      }
    }
    if (outside_business_hours(now)) {
      out.push_back(
          {"off_hours", "Requested outside business hours (" + format_instant(now) + ")"});
    }
  } else {
    if (held == nullptr) {
      out.push_back(
          {"no_record", "The directory has no record of " + who + " holding this access"});
    } else if (held->last_used) {
      long long d = days_between(*held->last_used, now);
      out.push_back(
          {"last_used", who + " last used this access " +
                            (d <= 0 ? std::string("today") : plural(d, "day", "days") + " ago")});
    } else {
      out.push_back({"never_used", "No recorded use of this access by " + who});
    }
    if (held != nullptr) {
      out.push_back({"held_since", who + " has held it since " + format_date(held->since)});
    }
  }

  // Peer access: how many of the subject's teammates (same manager) hold it.
  if (subject != nullptr && !subject->manager.empty()) {
    long long peers = 0;
    long long with = 0;
    for (const Person* p : dir.reports_of(subject->manager)) {
      if (p->id == subject->id) continue;
      ++peers;
      if (holding_of(holders, p->id) != nullptr) ++with;
    }
    if (peers > 0) {
      out.push_back({"peer_access", std::to_string(with) + " of " +
                                        plural(peers, "other person", "other people") +
                                        " reporting to " + dir.display_name(subject->manager) +
                                        (with == 1 ? " has" : " have") + " this access"});
    }
  }
  return out;
}

}  // namespace tollgate
