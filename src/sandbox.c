/*-------------------------------------------------------------------------
 *
 * sandbox.c
 *		Run a statement on the mail tables as their owner, in a
 *		security-restricted context.
 *
 * The upgrade scripts run as a superuser, but the mail tables usually
 * belong to an ordinary role (vmm's), which may have put triggers, CHECK
 * constraints, index expressions or rules on them.  Any ALTER TABLE or DML
 * statement on such a table runs that code, and it must never run with the
 * superuser's rights.  PostgreSQL's own maintenance commands (VACUUM,
 * ANALYZE, CREATE INDEX, REFRESH MATERIALIZED VIEW) solved the same problem
 * after CVE-2022-1552 by switching to the table owner with
 * SECURITY_RESTRICTED_OPERATION, which also forbids SET ROLE, SET SESSION
 * AUTHORIZATION and the creation of temporary objects; this file does the
 * same for one statement.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/jsonb.h"
#include "utils/syscache.h"
#include "catalog/pg_class.h"

#include "vmm_upgrade.h"

PG_FUNCTION_INFO_V1(vmm_upgrade_as_owner);

/*
 * relation_owner
 *		The owner and schema of a relation, or an error if it is gone.
 *
 * The caller passes a regclass that may have been dropped since it was
 * resolved; that must be a clear error, not a run as nobody in particular.
 */
static Oid
relation_owner(Oid relid, Oid *nspid)
{
	HeapTuple	tuple;
	Oid			owner;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	*nspid = ((Form_pg_class) GETSTRUCT(tuple))->relnamespace;
	ReleaseSysCache(tuple);
	return owner;
}

/*
 * vmm_upgrade_as_owner
 *		SQL function vmm_upgrade._as_owner(rel regclass, statement text).
 *
 * Executes "statement" as the owner of "rel", in a security-restricted
 * operation, with search_path set to pg_catalog, the schema of "rel" and
 * pg_temp (vmm's own trigger functions name their tables without a schema,
 * and whatever they find runs as the owner anyway).  Returns the first
 * column of the first row the statement returns when that is jsonb, else
 * NULL.  The caller must have the privileges of the owner, so that the
 * function gives nobody a role they do not already have; an error anywhere
 * restores the caller's identity with the (sub)transaction.
 */
Datum
vmm_upgrade_as_owner(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *statement = text_to_cstring(PG_GETARG_TEXT_PP(1));
	Oid			owner;
	Oid			nspid;
	char	   *nspname;
	char	   *path;
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	int			ret;
	Datum		result = (Datum) 0;
	bool		isnull = true;

	owner = relation_owner(relid, &nspid);
	nspname = get_namespace_name(nspid);
	if (nspname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema with OID %u does not exist", nspid)));

	if (!has_privs_of_role(GetUserId(), owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to act as role \"%s\"",
						GetUserNameFromId(owner, false)),
				 errdetail("Only a member of the role that owns relation \"%s\" may change it through vmm_upgrade.",
						   get_rel_name(relid))));

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	save_nestlevel = NewGUCNestLevel();
	path = psprintf("pg_catalog, %s, pg_temp", quote_identifier(nspname));
	(void) set_config_option("search_path", path,
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute(statement, false, 0);
	if (ret < 0)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	if (SPI_tuptable != NULL && SPI_processed > 0 &&
		SPI_tuptable->tupdesc->natts >= 1 &&
		TupleDescAttr(SPI_tuptable->tupdesc, 0)->atttypid == JSONBOID)
	{
		result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
							   1, &isnull);
		if (!isnull)
			result = SPI_datumTransfer(result, false, -1);
	}
	SPI_finish();

	AtEOXact_GUC(true, save_nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec_context);

	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}
