// The schema, as an ordered list of migrations. Migration i (1-based) brings
// the schema from version i-1 to version i. Never edit a released migration:
// append a new one.
#pragma once

#include <string_view>
#include <vector>

namespace tollgate {

const std::vector<std::string_view>& sqlite_migrations();
// The same schema versions for PostgreSQL (same tables and columns; its own
// types, triggers, and a chain_head row that serialises writers).
const std::vector<std::string_view>& postgres_migrations();

}  // namespace tollgate
