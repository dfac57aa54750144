// dlopen of libpq (see pg_api.hpp for why it is not linked).
#include "export/pg_api.hpp"

#include <dlfcn.h>

#include <string>

#include "store/media_libs.hpp"

namespace pxt {

namespace {

template <class F>
void resolve(void* lib, const char* name, F& out, const char*& missing) {
  out = reinterpret_cast<F>(::dlsym(lib, name));
  if (out == nullptr && missing == nullptr) missing = name;
}

Result<const PgApi*> load() {
  PXT_TRY(void* lib, medialib::open_library("libpq.so.5", "export_sql targets on PostgreSQL", "libpq5"));
  static PgApi api;
  const char* missing = nullptr;
#define PXT_PQ_RESOLVE(name) resolve(lib, #name, api.name, missing)
  PXT_PQ_RESOLVE(PQconnectdbParams);
  PXT_PQ_RESOLVE(PQstatus);
  PXT_PQ_RESOLVE(PQtransactionStatus);
  PXT_PQ_RESOLVE(PQerrorMessage);
  PXT_PQ_RESOLVE(PQfinish);
  PXT_PQ_RESOLVE(PQsocket);
  PXT_PQ_RESOLVE(PQexec);
  PXT_PQ_RESOLVE(PQexecParams);
  PXT_PQ_RESOLVE(PQprepare);
  PXT_PQ_RESOLVE(PQsendQueryPrepared);
  PXT_PQ_RESOLVE(PQconsumeInput);
  PXT_PQ_RESOLVE(PQisBusy);
  PXT_PQ_RESOLVE(PQgetResult);
  PXT_PQ_RESOLVE(PQresultStatus);
  PXT_PQ_RESOLVE(PQresultErrorField);
  PXT_PQ_RESOLVE(PQresultErrorMessage);
  PXT_PQ_RESOLVE(PQcmdTuples);
  PXT_PQ_RESOLVE(PQntuples);
  PXT_PQ_RESOLVE(PQnfields);
  PXT_PQ_RESOLVE(PQgetvalue);
  PXT_PQ_RESOLVE(PQclear);
#undef PXT_PQ_RESOLVE
  if (missing != nullptr) {
    return make_error(Errc::unsupported,
                      std::string("libpq.so.5 lacks ") + missing + " (too old?): apt-get install libpq5");
  }
  return &api;
}

}  // namespace

Result<const PgApi*> pg_api() {
  // Never destroyed: connections held by other statics (the export pools) close themselves
  // through this table during exit, after a plain function-local static would be gone.
  static const auto* loaded = new Result<const PgApi*>(load());
  return *loaded;
}

}  // namespace pxt
