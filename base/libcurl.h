// libcurl, loaded when mail or a connector first needs it (base/shared_library.h): a server
// that has sent no mail and called no connector never maps it, nor the LDAP, Kerberos, SSH
// and GnuTLS libraries it brings.
#pragma once

#include "base/status.h"

namespace tollgate {

// Loads libcurl.so.4 and runs curl_global_init() once; `unavailable`, naming the library and
// why, when it cannot. The SMTP client and the connectors' HTTP client call it before any
// other libcurl function.
Status load_libcurl();

}  // namespace tollgate
