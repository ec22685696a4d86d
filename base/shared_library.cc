#include "base/shared_library.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

namespace tollgate {

SharedLibrary::SharedLibrary(const char* soname, std::span<const char* const> names)
    : soname_(soname), names_(names) {}

Status SharedLibrary::load() {
  std::call_once(once_, [this] {
    // RTLD_LOCAL: its symbols resolve nothing else, and ours do not replace its own.
    void* handle = dlopen(soname_, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = dlerror();
      outcome_ = unavailable(std::string(soname_) + " cannot be loaded: " +
                             (why != nullptr ? why : "unknown reason"));
      return;
    }
    std::vector<void*> found(names_.size());
    for (std::size_t i = 0; i < names_.size(); ++i) {
      found[i] = dlsym(handle, names_[i]);
      if (found[i] == nullptr) {
        // Kept loaded: another part of the process may hold it too (dlopen counts).
        outcome_ = unavailable(std::string(soname_) + " has no function " + names_[i] +
                               ": the installed version is too old");
        return;
      }
    }
    functions_ = std::move(found);
    loaded_.store(true, std::memory_order_release);
  });
  return outcome_;
}

void SharedLibrary::require() {
  Status s = load();
  if (s.ok()) return;
  std::fprintf(stderr, "tollgate: %s\n", s.message().c_str());
  std::abort();
}

}  // namespace tollgate
