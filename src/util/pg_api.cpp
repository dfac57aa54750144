// dlopen of libpq (see pg_api.hpp for why it is not linked).
#include "util/pg_api.hpp"

#include <string>

#include "util/dynlib.hpp"

namespace pxt {

namespace {

Result<const PgApi*> load() {
  PXT_TRY(void* lib, dynlib::open("libpq.so.5", "PostgreSQL stores and export_sql targets", "libpq5"));
  static PgApi api;
  const char* missing = nullptr;
#define PXT_PQ_RESOLVE(name) PXT_DYNLIB_RESOLVE(api, lib, name, missing)
  PXT_PQ_RESOLVE(PQlibVersion);
  PXT_PQ_RESOLVE(PQconnectdbParams);
  PXT_PQ_RESOLVE(PQstatus);
  PXT_PQ_RESOLVE(PQtransactionStatus);
  PXT_PQ_RESOLVE(PQerrorMessage);
  PXT_PQ_RESOLVE(PQfinish);
  PXT_PQ_RESOLVE(PQsocket);
  PXT_PQ_RESOLVE(PQexec);
  PXT_PQ_RESOLVE(PQexecParams);
  PXT_PQ_RESOLVE(PQexecPrepared);
  PXT_PQ_RESOLVE(PQprepare);
  PXT_PQ_RESOLVE(PQdescribePrepared);
  PXT_PQ_RESOLVE(PQsendQueryPrepared);
  PXT_PQ_RESOLVE(PQsendQueryParams);
  PXT_PQ_RESOLVE(PQsendPrepare);
  PXT_PQ_RESOLVE(PQsetSingleRowMode);
  PXT_PQ_RESOLVE(PQconsumeInput);
  PXT_PQ_RESOLVE(PQisBusy);
  PXT_PQ_RESOLVE(PQgetResult);
  PXT_PQ_RESOLVE(PQresultStatus);
  PXT_PQ_RESOLVE(PQresultErrorField);
  PXT_PQ_RESOLVE(PQresultErrorMessage);
  PXT_PQ_RESOLVE(PQcmdTuples);
  PXT_PQ_RESOLVE(PQntuples);
  PXT_PQ_RESOLVE(PQnfields);
  PXT_PQ_RESOLVE(PQfname);
  PXT_PQ_RESOLVE(PQftype);
  PXT_PQ_RESOLVE(PQftable);
  PXT_PQ_RESOLVE(PQftablecol);
  PXT_PQ_RESOLVE(PQgetvalue);
  PXT_PQ_RESOLVE(PQgetlength);
  PXT_PQ_RESOLVE(PQgetisnull);
  PXT_PQ_RESOLVE(PQclear);
  PXT_PQ_RESOLVE(PQnotifies);
  PXT_PQ_RESOLVE(PQfreemem);
  PXT_PQ_RESOLVE(PQsetNoticeProcessor);
  PXT_PQ_RESOLVE(PQenterPipelineMode);
  PXT_PQ_RESOLVE(PQexitPipelineMode);
  PXT_PQ_RESOLVE(PQpipelineSync);
  PXT_PQ_RESOLVE(PQsetnonblocking);
  PXT_PQ_RESOLVE(PQflush);
  PXT_PQ_RESOLVE(PQbackendPID);
  PXT_PQ_RESOLVE(PQserverVersion);
  PXT_PQ_RESOLVE(PQputCopyData);
  PXT_PQ_RESOLVE(PQputCopyEnd);
#undef PXT_PQ_RESOLVE
  if (missing != nullptr) {
    return dynlib::missing_symbol("libpq.so.5", missing, "libpq5");
  }
  return &api;
}

}  // namespace

// Never destroyed (loaded_once): connections held by other statics (the export pools) close
// themselves through this table during exit.
Result<const PgApi*> pg_api() { return dynlib::loaded_once<PgApi, load>(); }

Result<std::string> libpq_version() {
  PXT_TRY(const PgApi* api, pg_api());
  int v = api->PQlibVersion();  // 150018 -> "15.18"
  return std::to_string(v / 10000) + "." + std::to_string(v % 10000);
}

}  // namespace pxt
