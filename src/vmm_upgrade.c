/*-------------------------------------------------------------------------
 *
 * vmm_upgrade.c
 *		Module entry point of vmm_upgrade: its settings and schema lookup.
 *
 * The DBA steers the extension through four settings: which schema holds
 * the mail layout, which Dovecot version the upgraded layout must serve, and
 * which roles Postfix and Dovecot connect as.  They are registered here so
 * that a typo in a value is rejected when it is set, not halfway through an
 * upgrade.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "catalog/namespace.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "vmm_upgrade.h"

PG_MODULE_MAGIC;

char	   *vmm_mail_schema_guc = NULL;
static char *vmm_dovecot_version_guc = NULL;
static char *vmm_dovecot_role_guc = NULL;
static char *vmm_postfix_role_guc = NULL;

void		_PG_init(void);

PG_FUNCTION_INFO_V1(vmm_upgrade_mail_schema);

/*
 * check_dovecot_version
 *		Accept only an empty value or a dotted version number such as 2.3.19.
 *
 * The upgrade compares this value with 1.2 to choose the Dovecot variant of
 * the new layout, so anything that is not a version must be refused before
 * the upgrade starts rather than silently read as "older than 1.2".
 */
static bool
check_dovecot_version(char **newval, void **extra, GucSource source)
{
	const char *p = *newval;
	bool		want_digit = true;

	if (p == NULL || *p == '\0')
		return true;

	for (; *p; p++)
	{
		if (isdigit((unsigned char) *p))
			want_digit = false;
		else if (*p == '.' && !want_digit)
			want_digit = true;
		else
			break;
	}
	if (*p == '\0' && !want_digit)
		return true;

	GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
	GUC_check_errdetail("A Dovecot version is a dotted number such as 1.1.7, 1.2.17 or 2.3.19, as \"dovecot --version\" prints it.");
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
	DefineCustomStringVariable("vmm_upgrade.schema",
							   "Schema that holds the vmm mail layout.",
							   "Used when a function is called without mail_schema, and by the update scripts.",
							   &vmm_mail_schema_guc,
							   "public",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

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

	MarkGUCPrefixReserved("vmm_upgrade");
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
	else if (vmm_mail_schema_guc != NULL && vmm_mail_schema_guc[0] != '\0')
		name = vmm_mail_schema_guc;
	else
		name = "public";

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
