// The libcurl functions Tollgate calls, defined as stubs that call libcurl's own once it is
// loaded (base/shared_library.h). Each signature is curl.h's or multi.h's: a stub that differs
// from its declaration does not compile. A libcurl function used anywhere else in the product
// needs its line here, or the executable does not link.
#include "base/libcurl.h"

#include <curl/curl.h>

#include <cstdarg>

#include "base/shared_library.h"

namespace {

#define TOLLGATE_LIBCURL(X)                                                                   \
  X(curl_global_init) X(curl_easy_init) X(curl_easy_setopt) X(curl_easy_getinfo)              \
  X(curl_easy_cleanup) X(curl_easy_strerror) X(curl_slist_append) X(curl_slist_free_all)      \
  X(curl_getdate) X(curl_mime_init) X(curl_mime_free) X(curl_mime_addpart) X(curl_mime_data)  \
  X(curl_mime_type) X(curl_mime_encoder) X(curl_mime_subparts) X(curl_mime_headers)           \
  X(curl_multi_init) X(curl_multi_add_handle) X(curl_multi_remove_handle)                     \
  X(curl_multi_perform) X(curl_multi_poll) X(curl_multi_wakeup) X(curl_multi_info_read)       \
  X(curl_multi_cleanup)

#define TOLLGATE_INDEX(name) k_##name,
enum Index { TOLLGATE_LIBCURL(TOLLGATE_INDEX) };
#define TOLLGATE_NAME(name) #name,
constexpr const char* kNames[] = {TOLLGATE_LIBCURL(TOLLGATE_NAME)};

// Never destroyed: a thread still ending at exit may call a stub.
tollgate::SharedLibrary& libcurl() {
  static auto& library = *new tollgate::SharedLibrary("libcurl.so.4", kNames);
  return library;
}

template <typename F>
F* function(Index i) {
  return reinterpret_cast<F*>(libcurl().function(i));
}

}  // namespace

namespace tollgate {

Status load_libcurl() {
  // curl_global_init() is not thread-safe in every libcurl: once, here, before any handle.
  static const Status& loaded = *new Status([] {
    Status s = libcurl().load();
    if (!s.ok()) return unavailable(s.message() + " (Debian's package libcurl4)");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      return unavailable("libcurl.so.4 cannot start (curl_global_init)");
    return Status();
  }());
  return loaded;
}

}  // namespace tollgate

// Each stub: its signature, and the call of the loaded function with its arguments.
#define TOLLGATE_STUB(ret, name, params, args) \
  extern "C" ret name params { return function<decltype(::name)>(k_##name) args; }

TOLLGATE_STUB(CURLcode, curl_global_init, (long flags), (flags))
TOLLGATE_STUB(CURL*, curl_easy_init, (), ())
TOLLGATE_STUB(void, curl_easy_cleanup, (CURL * e), (e))
TOLLGATE_STUB(const char*, curl_easy_strerror, (CURLcode rc), (rc))
TOLLGATE_STUB(curl_slist*, curl_slist_append, (curl_slist * list, const char* s), (list, s))
TOLLGATE_STUB(void, curl_slist_free_all, (curl_slist * list), (list))
TOLLGATE_STUB(time_t, curl_getdate, (const char* p, const time_t* unused), (p, unused))
TOLLGATE_STUB(curl_mime*, curl_mime_init, (CURL * e), (e))
TOLLGATE_STUB(void, curl_mime_free, (curl_mime * m), (m))
TOLLGATE_STUB(curl_mimepart*, curl_mime_addpart, (curl_mime * m), (m))
TOLLGATE_STUB(CURLcode, curl_mime_data, (curl_mimepart * p, const char* data, size_t size),
              (p, data, size))
TOLLGATE_STUB(CURLcode, curl_mime_type, (curl_mimepart * p, const char* type), (p, type))
TOLLGATE_STUB(CURLcode, curl_mime_encoder, (curl_mimepart * p, const char* encoding),
              (p, encoding))
TOLLGATE_STUB(CURLcode, curl_mime_subparts, (curl_mimepart * p, curl_mime* subparts),
              (p, subparts))
TOLLGATE_STUB(CURLcode, curl_mime_headers, (curl_mimepart * p, curl_slist* headers, int take),
              (p, headers, take))
TOLLGATE_STUB(CURLM*, curl_multi_init, (), ())
TOLLGATE_STUB(CURLMcode, curl_multi_add_handle, (CURLM * m, CURL* e), (m, e))
TOLLGATE_STUB(CURLMcode, curl_multi_remove_handle, (CURLM * m, CURL* e), (m, e))
TOLLGATE_STUB(CURLMcode, curl_multi_perform, (CURLM * m, int* running), (m, running))
TOLLGATE_STUB(CURLMcode, curl_multi_poll,
              (CURLM * m, curl_waitfd* fds, unsigned int nfds, int timeout_ms, int* ret),
              (m, fds, nfds, timeout_ms, ret))
TOLLGATE_STUB(CURLMcode, curl_multi_wakeup, (CURLM * m), (m))
TOLLGATE_STUB(CURLMsg*, curl_multi_info_read, (CURLM * m, int* left), (m, left))
TOLLGATE_STUB(CURLMcode, curl_multi_cleanup, (CURLM * m), (m))

// The two variadic functions take one more argument, whose type the option names
// (curl.h: CURLOPTTYPE_*, in steps of 10,000; every CURLINFO_* is a pointer).
// The names in parentheses: curl.h defines both as macros too.
extern "C" CURLcode(curl_easy_setopt)(CURL* e, CURLoption option, ...) {
  auto* f = function<decltype(::curl_easy_setopt)>(k_curl_easy_setopt);
  va_list ap;
  va_start(ap, option);
  CURLcode rc;
  switch (option / 10000 * 10000) {
    case CURLOPTTYPE_LONG:
      rc = f(e, option, va_arg(ap, long));
      break;
    case CURLOPTTYPE_FUNCTIONPOINT:
      rc = f(e, option, va_arg(ap, void (*)()));
      break;
    case CURLOPTTYPE_OFF_T:
      rc = f(e, option, va_arg(ap, curl_off_t));
      break;
    default:  // CURLOPTTYPE_OBJECTPOINT (strings, lists, callbacks' data), CURLOPTTYPE_BLOB
      rc = f(e, option, va_arg(ap, void*));
      break;
  }
  va_end(ap);
  return rc;
}

extern "C" CURLcode(curl_easy_getinfo)(CURL* e, CURLINFO info, ...) {
  auto* f = function<decltype(::curl_easy_getinfo)>(k_curl_easy_getinfo);
  va_list ap;
  va_start(ap, info);
  CURLcode rc = f(e, info, va_arg(ap, void*));
  va_end(ap);
  return rc;
}
