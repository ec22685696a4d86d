// libpq, loaded when a PostgreSQL store is first opened (base/shared_library.h): a server on
// SQLite never maps it, nor the LDAP, Kerberos and GnuTLS libraries it brings.
#pragma once

#include "base/status.h"

namespace tollgate::pg {

// Loads libpq.so.5 once; `unavailable`, naming the library and why, when it cannot be loaded.
// pg::Conn::open() calls it before any other libpq function.
Status load_libpq();

}  // namespace tollgate::pg
