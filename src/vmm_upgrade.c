/*-------------------------------------------------------------------------
 *
 * vmm_upgrade.c
 *		Module entry point of vmm_upgrade: its settings and schema lookup.
 *
 * The DBA steers the extension through five settings: which schema holds
 * the mail layout, which Dovecot version the upgraded layout must serve,
 * which roles Postfix and Dovecot connect as, and what a transport named
 * "domain" is.  They are registered here so
 * that a typo in a value is rejected when it is set, not halfway through an
 * upgrade.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/syscache.h"

#include "dovecot_version.h"
#include "vmm_upgrade.h"

PG_MODULE_MAGIC;

static char *vmm_mail_schema_guc = NULL;
static char *vmm_dovecot_version_guc = NULL;
static char *vmm_dovecot_role_guc = NULL;
static char *vmm_postfix_role_guc = NULL;
static int	vmm_transport_domain_guc = 0;
static bool vmm_lookups_052_guc = false;
static char *vmm_downgrade_discard_guc = NULL;
static bool vmm_compatibility_views_guc = false;
static int	vmm_lock_wait_total_guc = 30000;
static int	vmm_lock_wait_attempt_guc = 200;

/*
 * What accounts on a transport row named "domain" are: vmm 0.6.0 put them
 * there by mistake, or it is a real transport.  The data cannot tell, so the
 * DBA says it; "ask" makes the steps that depend on it refuse and explain.
 */
static const struct config_enum_entry transport_domain_options[] = {
	{"ask", 0, false},
	{"inherit", 1, false},
	{"keep", 2, false},
	{NULL, 0, false}
};

void		_PG_init(void);

PG_FUNCTION_INFO_V1(vmm_upgrade_mail_schema);
PG_FUNCTION_INFO_V1(vmm_upgrade_dovecot_variant);
PG_FUNCTION_INFO_V1(vmm_upgrade_schema_setting);
PG_FUNCTION_INFO_V1(vmm_upgrade_lock_relation);

/*
 * True while _PG_init defines the settings.  Values set before the library
 * was loaded are re-applied then; a check hook that rejected one would only
 * drop it with a WARNING and leave the default in force, so that the update
 * silently did something else than asked.  They are therefore accepted as
 * they are, and every use parses them again (dovecot_version_parse),
 * failing before anything is changed.
 */
static bool defining_settings = false;

/*
 * check_dovecot_version
 *		Refuse, when it is set, a value that is not a Dovecot version.
 *
 * The upgrade compares this value with 1.2 to choose the Dovecot variant of
 * the new layout, so anything that is not a version must be refused rather
 * than read as "older than 1.2".  While the library is being loaded every
 * value is accepted (see defining_settings) and refused where it is used.
 */
static bool
check_dovecot_version(char **newval, void **extra, GucSource source)
{
	DovecotVersion dv;

	if (defining_settings || *newval == NULL || **newval == '\0' ||
		dovecot_version_parse(*newval, &dv))
		return true;

	GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
	GUC_check_errdetail("A Dovecot version is what \"dovecot --version\" prints, such as 1.1.7, 1.2.17 or 2.3.19.1 (9b53102964); its first word counts.");
	return false;
}

/*
 * check_schema_name
 *		Refuse a schema name longer than PostgreSQL keeps.
 *
 * A longer name would be truncated where it is used as a name and compared
 * in full elsewhere, so CREATE EXTENSION and ALTER EXTENSION would work on
 * different schemas.  A value set before the library was loaded is taken as
 * it is and refused where it is used (schema_setting).
 */
static bool
check_schema_name(char **newval, void **extra, GucSource source)
{
	if (defining_settings || *newval == NULL || strlen(*newval) < NAMEDATALEN)
		return true;

	GUC_check_errcode(ERRCODE_NAME_TOO_LONG);
	GUC_check_errdetail("A schema name has at most %d bytes.", NAMEDATALEN - 1);
	return false;
}

/*
 * _PG_init
 *		Register the settings when the library is loaded.
 *
 * Values set before the library was loaded (in postgresql.conf, with
 * ALTER DATABASE ... SET, or with SET before CREATE EXTENSION) are taken over
 * and checked here.
 */
void
_PG_init(void)
{
	defining_settings = true;

	DefineCustomStringVariable("vmm_upgrade.schema",
							   "Schema that holds the vmm mail layout.",
							   "Used when a function is called without mail_schema, and by the update scripts.",
							   &vmm_mail_schema_guc,
							   "public",
							   PGC_USERSET,
							   0,
							   check_schema_name, NULL, NULL);

	DefineCustomStringVariable("vmm_upgrade.dovecot_version",
							   "Dovecot version the upgraded layout must serve, e.g. 2.3.19.",
							   "Empty keeps the Dovecot variant the database already has; 1.2 or later selects the Dovecot 1.2 variant.",
							   &vmm_dovecot_version_guc,
							   "",
							   PGC_USERSET,
							   0,
							   check_dovecot_version, NULL, NULL);

	DefineCustomStringVariable("vmm_upgrade.dovecot_role",
							   "Role Dovecot connects as; the upgrade grants it what Dovecot needs.",
							   NULL,
							   &vmm_dovecot_role_guc,
							   "dovecot",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("vmm_upgrade.postfix_role",
							   "Role Postfix connects as; the upgrade grants it what Postfix needs.",
							   NULL,
							   &vmm_postfix_role_guc,
							   "postfix",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomEnumVariable("vmm_upgrade.transport_domain",
							 "What accounts on the transport named \"domain\" are: vmm 0.6.0's mistake (inherit) or a real transport (keep).",
							 "With ask, the 0.6.0 fix and the adoption of 0.6 refuse until it is set.",
							 &vmm_transport_domain_guc,
							 0,
							 transport_domain_options,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("vmm_upgrade.lookups_052",
							 "Whether the downgrade to 0.5.2 also creates the optional 0.5.2 lookup functions.",
							 "They are created anyway when the database had them before its upgrade to 0.6 (vmm_upgrade.history).",
							 &vmm_lookups_052_guc,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("vmm_upgrade.compatibility_views",
							 "Whether the 0.5.2 -> 0.6 update leaves the 0.5.2 views Postfix and Dovecot query, over the 0.6 tables.",
							 "They keep old queries answering while the services switch to the 0.6 lookups; vmm_upgrade.drop_compatibility_views() removes them.",
							 &vmm_compatibility_views_guc,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("vmm_upgrade.downgrade_discard",
							   "Comma-separated kinds of 0.6 data the downgrade to 0.5.2 may discard.",
							   "Kinds: catchall, quota_limits, quota_usage, notes, maillocation_extra; the history counts what was discarded.",
							   &vmm_downgrade_discard_guc,
							   "",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("vmm_upgrade.lock_wait_total",
							"How long the update may wait, in all, for the locks on the mail tables.",
							"It tries in short attempts (vmm_upgrade.lock_wait_attempt), letting Postfix's and Dovecot's lookups through in between; past this total it fails, naming the sessions that hold the locks, with nothing changed.",
							&vmm_lock_wait_total_guc,
							30000, 0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("vmm_upgrade.lock_wait_attempt",
							"How long one attempt of the update to lock the mail tables may wait.",
							"Lookups that arrive meanwhile queue behind the update for at most this long.  Keep it below deadlock_timeout.",
							&vmm_lock_wait_attempt_guc,
							200, 1, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("vmm_upgrade");
	defining_settings = false;
}

/*
 * schema_setting
 *		The schema named by vmm_upgrade.schema (public when empty), or an
 *		error when the name is longer than PostgreSQL keeps.
 *
 * Every reader of the setting goes through here, so that no step works on
 * a truncated name.
 */
static const char *
schema_setting(void)
{
	const char *name = (vmm_mail_schema_guc != NULL && vmm_mail_schema_guc[0] != '\0') ?
		vmm_mail_schema_guc : "public";

	if (strlen(name) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("vmm_upgrade.schema is too long: \"%s\"", name),
				 errdetail("A schema name has at most %d bytes. Nothing was changed.", NAMEDATALEN - 1),
				 errhint("Set vmm_upgrade.schema to the name of the schema that holds the vmm tables.")));
	return name;
}

/*
 * vmm_resolve_mail_schema
 *		Find the mail schema: the one given, else vmm_upgrade.schema.
 *
 * Every public function takes an optional schema and falls back to the
 * setting, so that a DBA with the mail tables outside "public" sets it once.
 * A schema that does not exist is an error here, so that callers never
 * mistake a typo for an empty layout.
 */
Oid
vmm_resolve_mail_schema(Name given, char **name_out)
{
	const char *name;
	Oid			nspid;

	if (given != NULL)
		name = NameStr(*given);
	else
		name = schema_setting();

	nspid = get_namespace_oid(name, true);
	if (!OidIsValid(nspid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("mail schema \"%s\" does not exist", name),
				 errhint("Pass the schema that holds the vmm tables as mail_schema, or set vmm_upgrade.schema to it.")));

	if (name_out != NULL)
		*name_out = pstrdup(name);
	return nspid;
}

/*
 * vmm_upgrade_mail_schema
 *		SQL function vmm_upgrade.mail_schema(): the schema the scripts work on.
 *
 * The update scripts call it so that they resolve the schema exactly as the
 * C functions do.
 */
Datum
vmm_upgrade_mail_schema(PG_FUNCTION_ARGS)
{
	char	   *name;
	Name		result = (Name) palloc0(NAMEDATALEN);

	(void) vmm_resolve_mail_schema(PG_ARGISNULL(0) ? NULL : PG_GETARG_NAME(0),
								   &name);
	namestrcpy(result, name);
	PG_RETURN_NAME(result);
}

/*
 * vmm_upgrade_dovecot_variant
 *		SQL function vmm_upgrade._dovecot_variant(version): '1.1' or '1.2'.
 *
 * The one reader of Dovecot versions the scripts use, so that a value the
 * setting took unchecked (see defining_settings) fails here, before an
 * update changes anything.
 */
Datum
vmm_upgrade_dovecot_variant(PG_FUNCTION_ARGS)
{
	char	   *value = text_to_cstring(PG_GETARG_TEXT_PP(0));
	DovecotVersion dv;

	if (!dovecot_version_parse(value, &dv))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for vmm_upgrade.dovecot_version: \"%s\"", value),
				 errdetail("Nothing was changed."),
				 errhint("Set it to what \"dovecot --version\" prints, e.g. 2.3.19, or reset it to keep the Dovecot variant the database has.")));
	PG_RETURN_TEXT_P(cstring_to_text(dv.at_least_1_2 ? "1.2" : "1.1"));
}

/*
 * vmm_upgrade_schema_setting
 *		SQL function vmm_upgrade._schema_setting(): the schema the setting
 *		names, which need not exist (a restore creates it later).
 */
Datum
vmm_upgrade_schema_setting(PG_FUNCTION_ARGS)
{
	Name		result = (Name) palloc0(NAMEDATALEN);

	namestrcpy(result, schema_setting());
	PG_RETURN_NAME(result);
}

/*
 * vmm_upgrade_lock_relation
 *		SQL function vmm_upgrade._lock_relation(regclass): take ACCESS
 *		EXCLUSIVE on exactly that relation.
 *
 * LOCK TABLE on a view also locks every relation its query reads, in the
 * order of the query; the update must choose the order of its locks itself
 * (views first, as lookups take them, then the tables as vmm's writers take
 * them), so it locks each relation by itself.  The wait is bounded by
 * lock_timeout as for any lock.  Superusers only.
 */
Datum
vmm_upgrade_lock_relation(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);

	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be superuser to lock the mail tables for an update")));
	LockRelationOid(relid, AccessExclusiveLock);
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u was dropped while the update waited for its lock", relid)));
	PG_RETURN_VOID();
}
