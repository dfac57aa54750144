#pragma once
// libpq, loaded on first use (like the media libraries, store/media/libs.hpp): linked, it pulled
// GnuTLS, Kerberos, LDAP and p11-kit into every start (about 3 MB of idle RSS) for the many
// services that never talk to PostgreSQL. One loader for its two users: the PostgreSQL store
// (store/postgres/) and export_sql targets (export/pg_target.cpp). The header is used for types
// and signatures only.
//
// Thread-safety: pg_api() may be called from any thread; the table is loaded once and immutable.
#include <libpq-fe.h>

#include "util/result.hpp"

namespace pxt {

#define PXT_PQ_FN(name) decltype(&::name) name = nullptr

struct PgApi {
  PXT_PQ_FN(PQlibVersion);
  PXT_PQ_FN(PQconnectdbParams);
  PXT_PQ_FN(PQstatus);
  PXT_PQ_FN(PQtransactionStatus);
  PXT_PQ_FN(PQerrorMessage);
  PXT_PQ_FN(PQfinish);
  PXT_PQ_FN(PQsocket);
  PXT_PQ_FN(PQexec);
  PXT_PQ_FN(PQexecParams);
  PXT_PQ_FN(PQexecPrepared);
  PXT_PQ_FN(PQprepare);
  PXT_PQ_FN(PQdescribePrepared);
  PXT_PQ_FN(PQsendQueryPrepared);
  PXT_PQ_FN(PQsendQueryParams);
  PXT_PQ_FN(PQsendPrepare);
  PXT_PQ_FN(PQsetSingleRowMode);
  PXT_PQ_FN(PQconsumeInput);
  PXT_PQ_FN(PQisBusy);
  PXT_PQ_FN(PQgetResult);
  PXT_PQ_FN(PQresultStatus);
  PXT_PQ_FN(PQresultErrorField);
  PXT_PQ_FN(PQresultErrorMessage);
  PXT_PQ_FN(PQcmdTuples);
  PXT_PQ_FN(PQntuples);
  PXT_PQ_FN(PQnfields);
  PXT_PQ_FN(PQfname);
  PXT_PQ_FN(PQftype);
  PXT_PQ_FN(PQftable);
  PXT_PQ_FN(PQftablecol);
  PXT_PQ_FN(PQgetvalue);
  PXT_PQ_FN(PQgetlength);
  PXT_PQ_FN(PQgetisnull);
  PXT_PQ_FN(PQclear);
  PXT_PQ_FN(PQnotifies);
  PXT_PQ_FN(PQfreemem);
  PXT_PQ_FN(PQsetNoticeProcessor);
  PXT_PQ_FN(PQenterPipelineMode);
  PXT_PQ_FN(PQexitPipelineMode);
  PXT_PQ_FN(PQpipelineSync);
  PXT_PQ_FN(PQsetnonblocking);
  PXT_PQ_FN(PQflush);
  PXT_PQ_FN(PQbackendPID);
  PXT_PQ_FN(PQserverVersion);
  PXT_PQ_FN(PQputCopyData);
  PXT_PQ_FN(PQputCopyEnd);
};

#undef PXT_PQ_FN

// The libpq table, loaded on the first call. Error: Errc::unsupported naming the Debian package
// (libpq5) when libpq.so.5 cannot be loaded or lacks a function; kept for later calls.
Result<const PgApi*> pg_api();

}  // namespace pxt
