// History for the benchmarks' stores: a request opened and, when it has a
// denier, denied in the same decision, so that a store of a million tasks is
// written at the store's pace, not the engine's twice. Its effects are
// dropped: history was delivered long ago, and the outbox stays empty.
#pragma once

#include <optional>

#include "workflow/engine.h"

namespace tollgate::bench {

inline StatusOr<Decision> past_request(const Engine& engine, const RequestInput& in,
                                       const std::optional<PersonId>& denier, TaskNumber n) {
  ASSIGN_OR_RETURN(Decision opened, engine.open_request(in, n));
  opened.effects.clear();
  if (!denier) return opened;
  Command deny;
  deny.action = Action::deny;
  deny.actor = *denier;
  deny.comment = "not needed any more";
  deny.source = "command";
  ASSIGN_OR_RETURN(Decision closed, engine.act(opened.task, deny));
  closed.events.insert(closed.events.begin(), opened.events.begin(), opened.events.end());
  closed.new_comments.insert(closed.new_comments.begin(), opened.new_comments.begin(),
                             opened.new_comments.end());
  closed.effects.clear();
  return closed;
}

}  // namespace tollgate::bench
