// The libpq functions Tollgate calls, defined as stubs that call libpq's own once it is loaded
// (base/shared_library.h). Each signature is libpq-fe.h's: a stub that differs from its
// declaration does not compile. A libpq function used anywhere else in the product needs its
// line here, or the executable does not link.
#include "storage/detail/libpq.h"

#include <libpq-fe.h>

#include "base/shared_library.h"

namespace {

#define TOLLGATE_LIBPQ(X)                                                                    \
  X(PQconnectdb) X(PQstatus) X(PQerrorMessage) X(PQsetNoticeProcessor) X(PQfinish) X(PQreset) \
  X(PQexec) X(PQprepare) X(PQexecPrepared) X(PQsendPrepare) X(PQsendQueryParams)              \
  X(PQsendQueryPrepared) X(PQenterPipelineMode) X(PQexitPipelineMode) X(PQpipelineSync)       \
  X(PQpipelineStatus) X(PQgetResult) X(PQresultStatus) X(PQresultErrorMessage)                \
  X(PQresultErrorField) X(PQntuples) X(PQgetvalue) X(PQgetlength) X(PQgetisnull)              \
  X(PQcmdStatus) X(PQcmdTuples) X(PQclear)

#define TOLLGATE_INDEX(name) k_##name,
enum Index { TOLLGATE_LIBPQ(TOLLGATE_INDEX) };
#define TOLLGATE_NAME(name) #name,
constexpr const char* kNames[] = {TOLLGATE_LIBPQ(TOLLGATE_NAME)};

// Never destroyed: a connection closed at exit may still call a stub.
tollgate::SharedLibrary& libpq() {
  static auto& library = *new tollgate::SharedLibrary("libpq.so.5", kNames);
  return library;
}

template <typename F>
F* function(Index i) {
  return reinterpret_cast<F*>(libpq().function(i));
}

}  // namespace

namespace tollgate::pg {

Status load_libpq() {
  Status s = libpq().load();
  if (s.ok()) return s;
  return unavailable(s.message() + " (Debian's package libpq5)");
}

}  // namespace tollgate::pg

// Each stub: its signature, and the call of the loaded function with its arguments.
#define TOLLGATE_STUB(ret, name, params, args) \
  extern "C" ret name params { return function<decltype(::name)>(k_##name) args; }

TOLLGATE_STUB(PGconn*, PQconnectdb, (const char* conninfo), (conninfo))
TOLLGATE_STUB(ConnStatusType, PQstatus, (const PGconn* c), (c))
TOLLGATE_STUB(char*, PQerrorMessage, (const PGconn* c), (c))
TOLLGATE_STUB(PQnoticeProcessor, PQsetNoticeProcessor,
              (PGconn * c, PQnoticeProcessor proc, void* arg), (c, proc, arg))
TOLLGATE_STUB(void, PQfinish, (PGconn * c), (c))
TOLLGATE_STUB(void, PQreset, (PGconn * c), (c))
TOLLGATE_STUB(PGresult*, PQexec, (PGconn * c, const char* query), (c, query))
TOLLGATE_STUB(PGresult*, PQprepare,
              (PGconn * c, const char* name, const char* query, int n, const Oid* types),
              (c, name, query, n, types))
TOLLGATE_STUB(PGresult*, PQexecPrepared,
              (PGconn * c, const char* name, int n, const char* const* values,
               const int* lengths, const int* formats, int result_format),
              (c, name, n, values, lengths, formats, result_format))
TOLLGATE_STUB(int, PQsendPrepare,
              (PGconn * c, const char* name, const char* query, int n, const Oid* types),
              (c, name, query, n, types))
TOLLGATE_STUB(int, PQsendQueryParams,
              (PGconn * c, const char* command, int n, const Oid* types,
               const char* const* values, const int* lengths, const int* formats,
               int result_format),
              (c, command, n, types, values, lengths, formats, result_format))
TOLLGATE_STUB(int, PQsendQueryPrepared,
              (PGconn * c, const char* name, int n, const char* const* values,
               const int* lengths, const int* formats, int result_format),
              (c, name, n, values, lengths, formats, result_format))
TOLLGATE_STUB(int, PQenterPipelineMode, (PGconn * c), (c))
TOLLGATE_STUB(int, PQexitPipelineMode, (PGconn * c), (c))
TOLLGATE_STUB(int, PQpipelineSync, (PGconn * c), (c))
TOLLGATE_STUB(PGpipelineStatus, PQpipelineStatus, (const PGconn* c), (c))
TOLLGATE_STUB(PGresult*, PQgetResult, (PGconn * c), (c))
TOLLGATE_STUB(ExecStatusType, PQresultStatus, (const PGresult* r), (r))
TOLLGATE_STUB(char*, PQresultErrorMessage, (const PGresult* r), (r))
TOLLGATE_STUB(char*, PQresultErrorField, (const PGresult* r, int code), (r, code))
TOLLGATE_STUB(int, PQntuples, (const PGresult* r), (r))
TOLLGATE_STUB(char*, PQgetvalue, (const PGresult* r, int row, int col), (r, row, col))
TOLLGATE_STUB(int, PQgetlength, (const PGresult* r, int row, int col), (r, row, col))
TOLLGATE_STUB(int, PQgetisnull, (const PGresult* r, int row, int col), (r, row, col))
TOLLGATE_STUB(char*, PQcmdStatus, (PGresult * r), (r))
TOLLGATE_STUB(char*, PQcmdTuples, (PGresult * r), (r))
TOLLGATE_STUB(void, PQclear, (PGresult * r), (r))
