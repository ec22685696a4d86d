#include "workflow/task.h"

#include <algorithm>
#include <array>

#include "workflow/enum_names.h"

namespace tollgate {
namespace {

constexpr std::array<std::pair<TaskState, std::string_view>, 11> kStates = {{
    {TaskState::reviewing, "reviewing"},
    {TaskState::provisioning, "provisioning"},
    {TaskState::deprovisioning, "deprovisioning"},
    {TaskState::granted, "granted"},
    {TaskState::provisioned, "provisioned"},
    {TaskState::not_provisioned, "not_provisioned"},
    {TaskState::denied, "denied"},
    {TaskState::revoked, "revoked"},
    {TaskState::deprovisioned, "deprovisioned"},
    {TaskState::not_deprovisioned, "not_deprovisioned"},
    {TaskState::cancelled, "cancelled"},
}};

constexpr std::array<std::pair<EffectKind, std::string_view>, 8> kEffects = {{
    {EffectKind::access_notice, "access_notice"},
    {EffectKind::connector, "connector"},
    {EffectKind::assign, "assign"},
    {EffectKind::update_messages, "update_messages"},
    {EffectKind::notify, "notify"},
    {EffectKind::post_comment, "post_comment"},
    {EffectKind::remind, "remind"},
    {EffectKind::email, "email"},
}};

constexpr std::array<std::pair<ConnectorRun::Phase, std::string_view>, 3> kConnectorPhases = {{
    {ConnectorRun::Phase::calling, "calling"},
    {ConnectorRun::Phase::accepted, "accepted"},
    {ConnectorRun::Phase::failed, "failed"},
}};

constexpr std::array<std::pair<StepKind, std::string_view>, 3> kStepKinds = {{
    {StepKind::review, "review"},
    {StepKind::provision, "provision"},
    {StepKind::deprovision, "deprovision"},
}};

constexpr std::array<std::pair<StepState, std::string_view>, 4> kStepStates = {{
    {StepState::upcoming, "upcoming"},
    {StepState::current, "current"},
    {StepState::done, "done"},
    {StepState::skipped, "skipped"},
}};

constexpr std::array<std::pair<GrantSource, std::string_view>, 4> kGrantSources = {{
    {GrantSource::configuration, "configuration"},
    {GrantSource::request, "request"},
    {GrantSource::emergency, "emergency"},
    {GrantSource::extension, "extension"},
}};

constexpr std::array<std::pair<AccessChange::Op, std::string_view>, 7> kAccessOps = {{
    {AccessChange::Op::kept, "kept"},
    {AccessChange::Op::grant, "grant"},
    {AccessChange::Op::seed, "seed"},
    {AccessChange::Op::unseed, "unseed"},
    {AccessChange::Op::remove, "remove"},
    {AccessChange::Op::warned, "warned"},
    {AccessChange::Op::ending, "ending"},
}};

using enum_names::name_of;
using enum_names::parse_of;

const std::string* find_data(const std::vector<std::pair<std::string, std::string>>& data,
                             std::string_view key) {
  for (const auto& [k, v] : data) {
    if (k == key) return &v;
  }
  return nullptr;
}

}  // namespace

bool is_closed(TaskState s) {
  return s != TaskState::reviewing && s != TaskState::provisioning &&
         s != TaskState::deprovisioning;
}
std::string_view state_name(TaskState s) {
  return name_of(kStates, s);
}
std::optional<TaskState> parse_state(std::string_view n) {
  return parse_of<TaskState>(kStates, n);
}

std::string_view kind_name(TaskKind k) {
  return k == TaskKind::grant ? "grant" : "revoke";
}
std::optional<TaskKind> parse_kind(std::string_view n) {
  if (n == "grant") return TaskKind::grant;
  if (n == "revoke") return TaskKind::revoke;
  return std::nullopt;
}

std::string_view connector_phase_name(ConnectorRun::Phase p) {
  return enum_names::name_of(kConnectorPhases, p);
}

std::optional<ConnectorRun::Phase> parse_connector_phase(std::string_view name) {
  return enum_names::parse_of<ConnectorRun::Phase>(kConnectorPhases, name);
}

std::string_view step_kind_name(StepKind k) {
  return name_of(kStepKinds, k);
}
std::string_view step_state_name(StepState s) {
  return name_of(kStepStates, s);
}

std::string_view effect_kind_name(EffectKind k) {
  return name_of(kEffects, k);
}
std::optional<EffectKind> parse_effect_kind(std::string_view n) {
  return parse_of<EffectKind>(kEffects, n);
}

std::string_view grant_source_name(GrantSource s) {
  return name_of(kGrantSources, s);
}
std::optional<GrantSource> parse_grant_source(std::string_view n) {
  return parse_of<GrantSource>(kGrantSources, n);
}
std::string_view access_op_name(AccessChange::Op op) {
  return name_of(kAccessOps, op);
}

int Task::current_step() const {
  if (closed()) return -1;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].state == StepState::current) return static_cast<int>(i);
  }
  return -1;
}

const TaskStep* Task::current() const {
  int i = current_step();
  return i < 0 ? nullptr : &steps[static_cast<std::size_t>(i)];
}

std::vector<PersonId> Task::assignees() const {
  const TaskStep* s = current();
  return s == nullptr ? std::vector<PersonId>{} : s->assignees;
}

const std::string* Event::get(std::string_view key) const {
  return find_data(data, key);
}
const std::string* Effect::get(std::string_view key) const {
  return find_data(data, key);
}

}  // namespace tollgate
