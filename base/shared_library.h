// A shared library loaded when it is first needed (dlopen) rather than at start-up.
//
// libpq and libcurl bring about 4 MB of resident libraries with them (LDAP, Kerberos, GnuTLS,
// SSH, RTMP) that a server on SQLite which has sent no mail and called no connector never
// uses. The code that uses them calls their functions as usual; those names are defined by
// stubs of ours (storage/detail/libpq.cc, base/libcurl.cc) that call the function the loaded
// library resolves. So the executable does not link the library, and the package declares it
// as a dependency by name (cmake/package.cmake).
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace tollgate {

class SharedLibrary {
 public:
  // `soname` ("libpq.so.5") and the names of the functions the stubs call, in the order of
  // their indexes.
  SharedLibrary(const char* soname, std::span<const char* const> names);
  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;

  // Loads the library and resolves every function, once; from any thread. Every later call
  // returns the first outcome. The error is `unavailable` and names the library and why
  // (dlerror): "libpq.so.5 cannot be loaded: libpq.so.5: cannot open shared object file: ...".
  Status load();

  // The address of function `i`, loading the library first. Every entry point that uses the
  // library calls load() and reports its error before any stub runs; a stub that still finds
  // it missing ends the process with that error on stderr, since it cannot return one.
  void* function(std::size_t i) {
    if (!loaded_.load(std::memory_order_acquire)) require();
    return functions_[i];
  }

 private:
  void require();

  const char* soname_;
  std::span<const char* const> names_;
  std::once_flag once_;
  Status outcome_;
  std::vector<void*> functions_;
  std::atomic<bool> loaded_{false};
};

}  // namespace tollgate
