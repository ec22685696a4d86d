// `tollgate access export`: the access ledger (workflow/task.h, Holding) for
// an auditor, one row a line, ordered by person, app and resource. Both
// formats have the same fields: person, app, resource, since, expires_at,
// granted_by_task, how, last_used, ending_task; times as the admin API writes
// them (2026-12-24T18:00:00.000Z).
//   csv:   RFC 4180: a header line, CRLF line ends, a field with a comma, a
//          quote or a line break quoted (quotes doubled); none is empty.
//   jsonl: one JSON object a line; none is null.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string_view>

#include "base/status.h"

namespace tollgate {

class Store;

enum class AccessFormat { csv, jsonl };
std::optional<AccessFormat> parse_access_format(std::string_view name);  // "csv", "jsonl"

// Writes every row of the ledger to `out`; returns how many. Refused
// (Code::unavailable) when the ledger has more rows than one read returns
// (Store::holdings has no cursor), rather than writing part of it.
StatusOr<std::int64_t> export_access(Store& store, AccessFormat format, std::ostream& out);

}  // namespace tollgate
