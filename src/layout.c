/*-------------------------------------------------------------------------
 *
 * layout.c
 *		The layout validator: what vmm layout does a mail schema hold, and
 *		how does it deviate from a named one?
 *
 * Every install and update script of vmm_upgrade asks these questions before
 * it changes anything and after, so the answers must be exact and must not
 * depend on the number of mailboxes.  The validator therefore reads only the
 * system catalogs: one saved SPI plan lists the schema's columns,
 * constraints, views, sequences, composite types, functions and triggers,
 * deparsed by the server's own ruleutils functions, and the result is
 * compared with the known layouts compiled in from src/layouts.tsv.  No name
 * is ever pasted into SQL text: the schema is a parameter of the plan.
 *
 * Objects that no vmm layout ever had (a DBA's own table, view, index,
 * constraint or trigger) are not deviations; an extra column of a vmm table,
 * or an object of another vmm layout, is.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"

#include "vmm_upgrade.h"

/* Layout versions (bit mask) of a known object. */
#define LV_0_5_2			0x01
#define LV_0_5_2_lookups	0x02	/* optional lookup objects of 0.5.2 */
#define LV_0_6				0x04
#define LV_0_6_compat		0x08	/* 0.5.2 views left over the 0.6 tables */
#define LV_0_4				0x10	/* both forms of 0.4 */
#define LV_0_4_release		0x20	/* only vmm 0.4 as released (users.smpt) */
#define LV_0_4_r41			0x40	/* only vmm 0.4-r41 (the corrected release) */

/* Dovecot variants (bit mask) of a known object. */
#define DV_1_1				0x01
#define DV_1_2				0x02

/* One object of a known layout, as written in src/layouts.tsv. */
typedef struct LayoutEntry
{
	uint8		versions;
	uint8		variants;
	const char *kind;
	const char *object;
	const char *def;
	const char *nullability;
	const char *dflt;
} LayoutEntry;

#include "layouts_data.h"

#define N_LAYOUT_ENTRIES lengthof(layout_entries)

/* One object found in the mail schema. */
typedef struct ActualEntry
{
	char	   *kind;
	char	   *table;			/* columns, constraints, triggers */
	char	   *object;
	char	   *def;
	char	   *nullability;	/* columns */
	char	   *dflt;			/* columns */
} ActualEntry;

typedef struct ActualLayout
{
	int			n;
	ActualEntry *entries;
} ActualLayout;

/* One deviation, as returned by check_layout(). */
typedef struct Deviation
{
	char	   *object;
	char	   *problem;
} Deviation;

typedef struct DeviationList
{
	int			n;
	int			size;
	Deviation  *items;
} DeviationList;

/*
 * One form of a known layout: the version bits of the objects it has, the
 * bits of optional objects it may have as well (all of them or none: a
 * schema with any of them is checked with all of them), and its name in
 * messages.
 */
typedef struct LayoutForm
{
	uint8		versions;
	uint8		optional;
	const char *label;
} LayoutForm;

static const LayoutForm form_0_4_r41 = {LV_0_4 | LV_0_4_r41, 0, "0.4-r41"};
static const LayoutForm form_0_4_release = {LV_0_4 | LV_0_4_release, 0, "0.4-release"};
static const LayoutForm form_0_5_2 = {LV_0_5_2, LV_0_5_2_lookups, "0.5.2"};
static const LayoutForm form_0_6 = {LV_0_6, 0, "0.6"};
static const LayoutForm form_0_6_compat = {LV_0_6 | LV_0_6_compat, 0, "0.6+compat"};

/* What a name of the table below stands for. */
typedef enum LayoutNameKind
{
	LAYOUT_NAME,				/* a layout, as detect_layout() names it */
	LAYOUT_ALIAS,				/* another name of the same structure */
	LAYOUT_ONE_FORM				/* one form of the layout only */
} LayoutNameKind;

/*
 * The one table of layout names: every version name check_layout() takes,
 * the layout it belongs to (as detect_layout() reports it), the Dovecot
 * variants that layout exists in, and the forms the name stands for; a
 * schema is checked against the form (and, unless one is named, the
 * variant) it deviates from least.  detect_layout() tries the LAYOUT_NAME
 * entries in this order; the messages listing the known names are made
 * from this table too.
 *
 * vmm 0.4 came in two forms (SPEC "Layout 0.4"): as released, with the SMTP
 * flag misspelt users.smpt and no view dovecot_password, and as 0.4-r41,
 * the fix most installations ran.  Both are layout 0.4; 0.4-r41 and
 * 0.4-release name one of them.  0.6.0, 0.6.1 and 0.6.2 share the 0.6
 * structure; they differ in data and in one function body, which the 0.6.0
 * update deals with.
 */
typedef struct LayoutName
{
	const char *name;
	LayoutNameKind kind;
	const char *layout;
	uint8		variants;
	const LayoutForm *forms[2];
} LayoutName;

static const LayoutName layout_names[] = {
	{"0.4", LAYOUT_NAME, "0.4", DV_1_1, {&form_0_4_r41, &form_0_4_release}},
	{"0.4-r41", LAYOUT_ONE_FORM, "0.4", DV_1_1, {&form_0_4_r41, NULL}},
	{"0.4-release", LAYOUT_ONE_FORM, "0.4", DV_1_1, {&form_0_4_release, NULL}},
	{"0.5.2", LAYOUT_NAME, "0.5.2", DV_1_1 | DV_1_2, {&form_0_5_2, NULL}},
	{"0.6", LAYOUT_NAME, "0.6", DV_1_1 | DV_1_2, {&form_0_6, NULL}},
	{"0.6.0", LAYOUT_ALIAS, "0.6", DV_1_1 | DV_1_2, {&form_0_6, NULL}},
	{"0.6.1", LAYOUT_ALIAS, "0.6", DV_1_1 | DV_1_2, {&form_0_6, NULL}},
	{"0.6.2", LAYOUT_ALIAS, "0.6", DV_1_1 | DV_1_2, {&form_0_6, NULL}},
	/* 0.6 with the 0.5.2 views the update leaves (compatibility_views) */
	{"0.6+compat", LAYOUT_NAME, "0.6+compat", DV_1_1 | DV_1_2, {&form_0_6_compat, NULL}},
};

/* The Dovecot variants, in the order they are tried. */
static const struct
{
	uint8		bit;
	const char *name;
}			dovecot_variants[] = {
	{DV_1_1, "1.1"},
	{DV_1_2, "1.2"},
};

/*
 * The catalog query.  Everything is qualified with pg_catalog and every
 * operator is spelled OPERATOR(pg_catalog.x), and it runs with nothing but
 * pg_catalog and pg_temp (last) on the search path, so that nothing anyone
 * planted anywhere can be called by it.  The deparsed definitions therefore
 * name the mail schema's objects with their schema; strip_schema() takes
 * the schema off again, so that they read as the known layouts are written.
 * A definition that comes out NULL belongs to an object dropped while the
 * query ran (see read_actual_layout).
 */
static const char *const catalog_query =
"SELECT 'column'::pg_catalog.text, c.relname::pg_catalog.text, "
"       pg_catalog.concat(c.relname, '.', a.attname), "
"       pg_catalog.format_type(a.atttypid, a.atttypmod), "
"       CASE WHEN a.attnotnull THEN 'not null' ELSE 'null' END::pg_catalog.text, "
"       COALESCE(pg_catalog.pg_get_expr(d.adbin, d.adrelid), '')::pg_catalog.text "
"  FROM pg_catalog.pg_class c "
"  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid "
"  LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid OPERATOR(pg_catalog.=) c.oid "
"       AND d.adnum OPERATOR(pg_catalog.=) a.attnum "
" WHERE c.relnamespace OPERATOR(pg_catalog.=) $1 AND c.relkind OPERATOR(pg_catalog.=) 'r' "
"   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped "
"UNION ALL "
"SELECT 'constraint', c.relname::pg_catalog.text, pg_catalog.concat(c.relname, '.', k.conname), "
"       pg_catalog.pg_get_constraintdef(k.oid), NULL, NULL "
"  FROM pg_catalog.pg_constraint k "
"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) k.conrelid "
" WHERE c.relnamespace OPERATOR(pg_catalog.=) $1 "
"UNION ALL "
"SELECT 'view', NULL, c.relname::pg_catalog.text, "
"       pg_catalog.regexp_replace(pg_catalog.pg_get_viewdef(c.oid, true), '\\s+', ' ', 'g'), NULL, NULL "
"  FROM pg_catalog.pg_class c "
" WHERE c.relnamespace OPERATOR(pg_catalog.=) $1 AND c.relkind OPERATOR(pg_catalog.=) 'v' "
"UNION ALL "
"SELECT 'sequence', NULL, c.relname::pg_catalog.text, "
"       pg_catalog.format('start %s min %s max %s', s.seqstart, s.seqmin, s.seqmax), NULL, NULL "
"  FROM pg_catalog.pg_class c "
"  JOIN pg_catalog.pg_sequence s ON s.seqrelid OPERATOR(pg_catalog.=) c.oid "
" WHERE c.relnamespace OPERATOR(pg_catalog.=) $1 "
"UNION ALL "
"SELECT 'type', NULL, t.typname::pg_catalog.text, "
"       pg_catalog.concat('(', (SELECT pg_catalog.string_agg(pg_catalog.concat(a.attname, ' ', "
"                                    pg_catalog.format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY a.attnum) "
"                                 FROM pg_catalog.pg_attribute a "
"                                WHERE a.attrelid OPERATOR(pg_catalog.=) t.typrelid "
"                                  AND a.attnum OPERATOR(pg_catalog.>) 0), ')'), NULL, NULL "
"  FROM pg_catalog.pg_type t "
"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.typrelid "
" WHERE t.typnamespace OPERATOR(pg_catalog.=) $1 AND t.typtype OPERATOR(pg_catalog.=) 'c' "
"   AND c.relkind OPERATOR(pg_catalog.=) 'c' "
"UNION ALL "
"SELECT 'function', NULL, "
"       pg_catalog.concat(p.proname, '(', pg_catalog.pg_get_function_identity_arguments(p.oid), ')'), "
"       'returns ' OPERATOR(pg_catalog.||) pg_catalog.pg_get_function_result(p.oid) "
"           OPERATOR(pg_catalog.||) CASE WHEN p.proisstrict THEN ' strict' ELSE ' called-on-null' END "
"           OPERATOR(pg_catalog.||) CASE WHEN pg_catalog.pg_get_function_identity_arguments(p.oid) IS NULL "
"                                        THEN NULL ELSE '' END, NULL, NULL "
"  FROM pg_catalog.pg_proc p "
" WHERE p.pronamespace OPERATOR(pg_catalog.=) $1 "
"UNION ALL "
"SELECT 'trigger', c.relname::pg_catalog.text, pg_catalog.concat(t.tgname, ' ON ', c.relname), "
"       pg_catalog.pg_get_triggerdef(t.oid, true), NULL, NULL "
"  FROM pg_catalog.pg_trigger t "
"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.tgrelid "
" WHERE c.relnamespace OPERATOR(pg_catalog.=) $1 AND NOT t.tgisinternal";

static SPIPlanPtr catalog_plan = NULL;

PG_FUNCTION_INFO_V1(vmm_upgrade_detect_layout);
PG_FUNCTION_INFO_V1(vmm_upgrade_check_layout);

/*
 * strip_schema
 *		Remove every "schema." qualification of the mail schema from text.
 *
 * The deparsed definitions name the mail schema's objects qualified (the
 * schema is not on the search path); the known layouts are written without
 * it.  The qualification may also stand inside a quoted literal, as in
 * nextval('mail.domain_gid'::regclass), where quotes are doubled.  A match
 * must start at an identifier boundary, so schema "mail" leaves
 * "xmail.t" alone.
 */
static char *
strip_schema(const char *text, const char *nspname)
{
	const char *quoted = quote_identifier(nspname);
	const char *prefixes[2];
	StringInfoData buf;
	const char *p = text;
	int			i;

	prefixes[0] = psprintf("%s.", quoted);
	prefixes[1] = NULL;
	if (strchr(quoted, '\'') != NULL)
	{
		StringInfoData lit;
		const char *q;

		initStringInfo(&lit);
		for (q = quoted; *q; q++)
		{
			if (*q == '\'')
				appendStringInfoChar(&lit, '\'');
			appendStringInfoChar(&lit, *q);
		}
		appendStringInfoChar(&lit, '.');
		prefixes[1] = lit.data;
	}

	initStringInfo(&buf);
	while (*p)
	{
		bool		boundary = (p == text ||
								!(isalnum((unsigned char) p[-1]) || p[-1] == '_' ||
								  p[-1] == '$' || p[-1] == '"' ||
								  IS_HIGHBIT_SET(p[-1])));
		bool		stripped = false;

		for (i = 0; boundary && i < 2 && !stripped; i++)
		{
			size_t		len;

			if (prefixes[i] == NULL)
				continue;
			len = strlen(prefixes[i]);
			if (strncmp(p, prefixes[i], len) == 0)
			{
				p += len;
				stripped = true;
			}
		}
		if (!stripped)
			appendStringInfoChar(&buf, *p++);
	}
	return buf.data;
}

/*
 * read_once
 *		One attempt at listing the schema's objects; false if an object
 *		vanished while it was deparsed.
 *
 * The catalogs are read with a snapshot taken now (not the transaction's,
 * which under REPEATABLE READ may be older than the catalog the deparsing
 * functions see), with only pg_catalog and pg_temp on the search path (the
 * change is undone on return or failure by the GUC nest level).
 */
static bool
read_once(Oid nspid, const char *nspname, MemoryContext cxt, ActualLayout *result)
{
	int			save_nestlevel;
	Datum		arg = ObjectIdGetDatum(nspid);
	Oid			argtype = OIDOID;
	int			ret;
	uint64		i;
	bool		complete = true;

	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	if (catalog_plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(catalog_query, 1, &argtype);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s",
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		catalog_plan = plan;
	}

	ret = SPI_execute_snapshot(catalog_plan, &arg, NULL, GetLatestSnapshot(),
							   InvalidSnapshot, true, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_snapshot failed: %s", SPI_result_code_string(ret));

	result->n = (int) SPI_processed;
	result->entries = MemoryContextAllocZero(cxt,
											 sizeof(ActualEntry) * Max(result->n, 1));
	for (i = 0; i < SPI_processed && complete; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		ActualEntry *e = &result->entries[i];
		MemoryContext old = MemoryContextSwitchTo(cxt);

		e->kind = SPI_getvalue(tup, desc, 1);
		e->table = SPI_getvalue(tup, desc, 2);
		e->object = SPI_getvalue(tup, desc, 3);
		e->def = SPI_getvalue(tup, desc, 4);
		e->nullability = SPI_getvalue(tup, desc, 5);
		e->dflt = SPI_getvalue(tup, desc, 6);
		if (e->def == NULL)
			complete = false;	/* dropped while we read */
		else
			e->def = strip_schema(e->def, nspname);
		if (e->dflt != NULL)
			e->dflt = strip_schema(e->dflt, nspname);
		MemoryContextSwitchTo(old);
	}

	SPI_finish();
	AtEOXact_GUC(true, save_nestlevel);
	return complete;
}

/*
 * read_actual_layout
 *		List the layout-relevant objects of schema "nspid" from the catalogs.
 *
 * The mail schema may change while we read it: a DBA's DDL in another
 * session, or an upgrade replayed on a hot standby.  Then a deparsing
 * function meets an object that was in our snapshot but is gone from the
 * catalog ("could not open relation with OID ..."), or returns NULL for it.
 * Each attempt runs in a subtransaction; such an attempt is thrown away and
 * the catalogs are read again with a new snapshot, which no longer has the
 * object, so the answer is always that of one committed state.  Errors of
 * any other kind (a cancel, a recovery conflict) are raised as they are.
 */
static ActualLayout
read_actual_layout(Oid nspid, const char *nspname)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ActualLayout result = {0, NULL};
	int			attempt;
	const int	attempts = 100;

	for (attempt = 1;; attempt++)
	{
		bool		complete = false;

		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(cxt);
		PG_TRY();
		{
			complete = read_once(nspid, nspname, cxt, &result);
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = owner;
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(cxt);
			edata = CopyErrorData();
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = owner;
			if (attempt >= attempts ||
				!(edata->sqlerrcode == ERRCODE_INTERNAL_ERROR ||
				  edata->sqlerrcode == ERRCODE_UNDEFINED_TABLE ||
				  edata->sqlerrcode == ERRCODE_UNDEFINED_OBJECT))
				ReThrowError(edata);
			FreeErrorData(edata);
		}
		PG_END_TRY();

		if (complete)
			return result;
		if (attempt >= attempts)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("schema \"%s\" kept changing while its layout was read", nspname),
					 errdetail("It was read %d times; each time an object was dropped while it was read.", attempts),
					 errhint("Run the command again once the DDL on the schema has finished.")));
		CHECK_FOR_INTERRUPTS();
		pg_usleep(10000L * Min(attempt, 10));
	}
}

/*
 * entry_table
 *		The table a known column, constraint or trigger belongs to, or NULL.
 *
 * Known objects are written as "table.name" or "trigger ON table".
 */
static char *
entry_table(const LayoutEntry *e)
{
	const char *p;

	if (strcmp(e->kind, "trigger") == 0)
	{
		p = strstr(e->object, " ON ");
		return p ? pstrdup(p + 4) : NULL;
	}
	if (strcmp(e->kind, "column") == 0 || strcmp(e->kind, "constraint") == 0)
	{
		p = strchr(e->object, '.');
		return p ? pnstrdup(e->object, p - e->object) : NULL;
	}
	return NULL;
}

/*
 * function_name
 *		The name part of "name(arguments)".
 */
static char *
function_name(const char *object)
{
	const char *p = strchr(object, '(');

	return p ? pnstrdup(object, p - object) : pstrdup(object);
}

/*
 * is_known_object
 *		Is this object of the mail schema one that some vmm layout has?
 *
 * Only such objects can be deviations: a column of a vmm table, or a view,
 * sequence, type, function, constraint or trigger whose name some vmm layout
 * uses.  A function counts by its name alone, so that an overload planted
 * next to a vmm function is reported.
 */
static bool
is_known_object(const ActualEntry *a)
{
	bool		is_column = strcmp(a->kind, "column") == 0;
	bool		is_function = strcmp(a->kind, "function") == 0;
	char	   *fname = is_function ? function_name(a->object) : NULL;
	size_t		i;

	for (i = 0; i < N_LAYOUT_ENTRIES; i++)
	{
		const LayoutEntry *e = &layout_entries[i];

		if (strcmp(e->kind, a->kind) != 0)
			continue;
		if (is_column)
		{
			char	   *t = entry_table(e);

			if (t && a->table && strcmp(t, a->table) == 0)
				return true;
		}
		else if (is_function)
		{
			if (strcmp(function_name(e->object), fname) == 0)
				return true;
		}
		else if (strcmp(e->object, a->object) == 0)
			return true;
	}
	return false;
}

/*
 * find_actual
 *		The object of the mail schema with this kind and name, or NULL.
 */
static const ActualEntry *
find_actual(const ActualLayout *actual, const char *kind, const char *object)
{
	int			i;

	for (i = 0; i < actual->n; i++)
		if (strcmp(actual->entries[i].kind, kind) == 0 &&
			strcmp(actual->entries[i].object, object) == 0)
			return &actual->entries[i];
	return NULL;
}

/*
 * actual_has_table
 *		Does the mail schema have a table of this name (with columns)?
 */
static bool
actual_has_table(const ActualLayout *actual, const char *table)
{
	int			i;

	for (i = 0; i < actual->n; i++)
		if (strcmp(actual->entries[i].kind, "column") == 0 &&
			strcmp(actual->entries[i].table, table) == 0)
			return true;
	return false;
}

/*
 * is_expected
 *		Is this known object part of the layout (versions, variants)?
 */
static inline bool
is_expected(const LayoutEntry *e, uint8 versions, uint8 variants)
{
	return (e->versions & versions) != 0 && (e->variants & variants) != 0;
}

/*
 * layout_has_table
 *		Does the layout (versions, variants) have a table of this name?
 */
static bool
layout_has_table(const char *table, uint8 versions, uint8 variants)
{
	size_t		i;

	for (i = 0; i < N_LAYOUT_ENTRIES; i++)
	{
		const LayoutEntry *e = &layout_entries[i];
		char	   *t;

		if (strcmp(e->kind, "column") != 0 || !is_expected(e, versions, variants))
			continue;
		t = entry_table(e);
		if (t && strcmp(t, table) == 0)
			return true;
	}
	return false;
}

/*
 * find_expected
 *		The object of the layout with this kind and name, or NULL.
 */
static const LayoutEntry *
find_expected(const char *kind, const char *object, uint8 versions, uint8 variants)
{
	size_t		i;

	for (i = 0; i < N_LAYOUT_ENTRIES; i++)
	{
		const LayoutEntry *e = &layout_entries[i];

		if (is_expected(e, versions, variants) &&
			strcmp(e->kind, kind) == 0 && strcmp(e->object, object) == 0)
			return e;
	}
	return NULL;
}

/*
 * has_objects_of
 *		Does the mail schema have any known object tagged with these bits?
 *
 * Used for optional objects (the 0.5.2 lookups): a database either has them
 * all or none; which one it is decides what the layout is expected to hold,
 * and a partial set then shows up as deviations.
 */
static bool
has_objects_of(const ActualLayout *actual, uint8 bits)
{
	size_t		i;

	for (i = 0; i < N_LAYOUT_ENTRIES; i++)
	{
		const LayoutEntry *e = &layout_entries[i];

		if ((e->versions & bits) &&
			find_actual(actual, e->kind, e->object) != NULL)
			return true;
	}
	return false;
}

/*
 * has_lookups
 *		Does the mail schema have the lookup functions (optional in 0.5.2,
 *		part of 0.6)?  What detect_layout() reports as "lookups".
 */
static bool
has_lookups(const ActualLayout *actual)
{
	return has_objects_of(actual, LV_0_5_2_lookups);
}

/*
 * add_deviation
 *		Append one (object, problem) pair to the list.
 */
static void
add_deviation(DeviationList *list, char *object, char *problem)
{
	if (list->n == list->size)
	{
		list->size = list->size ? list->size * 2 : 32;
		list->items = list->items
			? repalloc(list->items, sizeof(Deviation) * list->size)
			: palloc(sizeof(Deviation) * list->size);
	}
	list->items[list->n].object = object;
	list->items[list->n].problem = problem;
	list->n++;
}

/*
 * add_deviation_once
 *		Append a deviation unless one for the same object is listed already.
 *
 * A missing or unexpected table is reported once, whichever of its columns,
 * constraints or triggers comes across it first.
 */
static void
add_deviation_once(DeviationList *list, char *object, char *problem)
{
	int			i;

	for (i = 0; i < list->n; i++)
		if (strcmp(list->items[i].object, object) == 0)
			return;
	add_deviation(list, object, problem);
}

/*
 * describe_difference
 *		Say where a definition differs from the known one.
 *
 * View definitions run to hundreds of characters; quoting both in full
 * would hide the one word that differs.  Short definitions are quoted
 * whole; long ones as the differing stretch with a little context.
 */
static char *
describe_difference(const char *found, const char *expected)
{
	const int	context = 24;
	size_t		flen = strlen(found);
	size_t		elen = strlen(expected);
	size_t		prefix = 0;
	size_t		suffix = 0;
	size_t		start;
	size_t		fend;
	size_t		eend;

	if (flen + elen <= 160)
		return psprintf("definition is \"%s\", expected \"%s\"", found, expected);

	while (prefix < flen && prefix < elen && found[prefix] == expected[prefix])
		prefix++;
	while (suffix < flen - prefix && suffix < elen - prefix &&
		   found[flen - 1 - suffix] == expected[elen - 1 - suffix])
		suffix++;

	start = prefix > context ? prefix - context : 0;
	suffix = suffix > context ? suffix - context : 0;
	fend = Min(flen - suffix, prefix + 2 * context);
	eend = Min(elen - suffix, prefix + 2 * context);
	return psprintf("definition differs: found \"%s%.*s%s\", expected \"%s%.*s%s\"",
					start > 0 ? "..." : "",
					(int) (fend - start), found + start,
					fend < flen ? "..." : "",
					start > 0 ? "..." : "",
					(int) (eend - start), expected + start,
					eend < elen ? "..." : "");
}

/*
 * compare_column
 *		Report how an existing column differs from the known one.
 *
 * Type, nullability and default are reported separately, so that a DBA sees
 * at once which ALTER TABLE would repair it.
 */
static void
compare_column(DeviationList *list, const LayoutEntry *e, const ActualEntry *a)
{
	char	   *object = psprintf("column %s", e->object);

	if (strcmp(e->def, a->def) != 0)
		add_deviation(list, object,
					  psprintf("type is %s, expected %s", a->def, e->def));
	if (strcmp(e->nullability, a->nullability) != 0)
		add_deviation(list, object,
					  strcmp(e->nullability, "not null") == 0
					  ? pstrdup("nullable, expected NOT NULL")
					  : pstrdup("NOT NULL, expected nullable"));
	if (strcmp(e->dflt, a->dflt) != 0)
	{
		if (a->dflt[0] == '\0')
			add_deviation(list, object,
						  psprintf("no default, expected default %s", e->dflt));
		else if (e->dflt[0] == '\0')
			add_deviation(list, object,
						  psprintf("default %s, expected no default", a->dflt));
		else
			add_deviation(list, object,
						  psprintf("default is %s, expected %s", a->dflt, e->dflt));
	}
}

/*
 * compare_layout
 *		List every deviation of the mail schema from one known layout.
 *
 * "versions" holds the version bits of one form of a layout, plus its
 * optional bits when its optional objects are expected.  A whole missing or
 * unexpected table is reported once, not once per column, constraint and
 * trigger.
 */
static DeviationList
compare_layout(const ActualLayout *actual, uint8 versions, uint8 variants,
			   const char *layout_name)
{
	DeviationList list = {0, 0, NULL};
	size_t		i;
	int			j;

	/* What the layout has and the schema lacks or has differently. */
	for (i = 0; i < N_LAYOUT_ENTRIES; i++)
	{
		const LayoutEntry *e = &layout_entries[i];
		const ActualEntry *a;
		char	   *table;

		if (!is_expected(e, versions, variants))
			continue;

		table = entry_table(e);
		if (table && !actual_has_table(actual, table))
		{
			add_deviation_once(&list, psprintf("table %s", table), pstrdup("missing"));
			continue;
		}

		a = find_actual(actual, e->kind, e->object);
		if (a == NULL)
			add_deviation(&list, psprintf("%s %s", e->kind, e->object),
						  pstrdup("missing"));
		else if (strcmp(e->kind, "column") == 0)
			compare_column(&list, e, a);
		else if (strcmp(e->def, a->def) != 0)
			add_deviation(&list, psprintf("%s %s", e->kind, e->object),
						  describe_difference(a->def, e->def));
	}

	/* What the schema has of vmm's objects and the layout does not. */
	for (j = 0; j < actual->n; j++)
	{
		const ActualEntry *a = &actual->entries[j];

		if (!is_known_object(a))
			continue;

		if (a->table && !layout_has_table(a->table, versions, variants))
		{
			add_deviation_once(&list, psprintf("table %s", a->table),
							   psprintf("not part of layout %s", layout_name));
			continue;
		}

		if (find_expected(a->kind, a->object, versions, variants) == NULL)
			add_deviation(&list, psprintf("%s %s", a->kind, a->object),
						  psprintf("not part of layout %s", layout_name));
	}

	return list;
}

/*
 * deviation_cmp
 *		qsort comparator: by object, then by problem.
 */
static int
deviation_cmp(const void *a, const void *b)
{
	const Deviation *da = (const Deviation *) a;
	const Deviation *db = (const Deviation *) b;
	int			c = strcmp(da->object, db->object);

	return c != 0 ? c : strcmp(da->problem, db->problem);
}

/*
 * known_names
 *		The layout names of one kind, for messages: "0.4, 0.5.2 or 0.6".
 *		With layout non-NULL only the names belonging to that layout.
 */
static char *
known_names(LayoutNameKind kind, const char *layout, const char *conjunction)
{
	StringInfoData buf;
	int			n = 0;
	int			total = 0;
	size_t		i;

	for (i = 0; i < lengthof(layout_names); i++)
		if (layout_names[i].kind == kind &&
			(layout == NULL || strcmp(layout_names[i].layout, layout) == 0))
			total++;
	initStringInfo(&buf);
	for (i = 0; i < lengthof(layout_names); i++)
	{
		if (layout_names[i].kind != kind ||
			(layout != NULL && strcmp(layout_names[i].layout, layout) != 0))
			continue;
		n++;
		if (n > 1)
			appendStringInfoString(&buf, n == total ? conjunction : ", ");
		appendStringInfoString(&buf, layout_names[i].name);
	}
	return buf.data;
}

/*
 * parse_version
 *		The entry of layout_names for a version name, or fail naming the
 *		known ones.
 */
static const LayoutName *
parse_version(const char *version)
{
	StringInfoData known;
	int			n = 0;
	int			total = 0;
	size_t		i;

	for (i = 0; i < lengthof(layout_names); i++)
		if (strcmp(layout_names[i].name, version) == 0)
			return &layout_names[i];

	/* "0.4 (one form alone: 0.4-r41 or 0.4-release), 0.5.2 and 0.6 (...)" */
	for (i = 0; i < lengthof(layout_names); i++)
		if (layout_names[i].kind == LAYOUT_NAME)
			total++;
	initStringInfo(&known);
	for (i = 0; i < lengthof(layout_names); i++)
	{
		const LayoutName *l = &layout_names[i];
		char	   *forms = known_names(LAYOUT_ONE_FORM, l->name, " or ");
		char	   *aliases = known_names(LAYOUT_ALIAS, l->name, " or ");

		if (l->kind != LAYOUT_NAME)
			continue;
		n++;
		if (n > 1)
			appendStringInfoString(&known, n == total ? " and " : ", ");
		appendStringInfoString(&known, l->name);
		if (forms[0] != '\0')
			appendStringInfo(&known, " (one form alone: %s)", forms);
		if (aliases[0] != '\0')
			appendStringInfo(&known, " (also written %s)", aliases);
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown vmm layout version \"%s\"", version),
			 errdetail("Known layout versions are %s.", known.data)));
	return NULL;				/* keep compiler quiet */
}

/*
 * parse_variant
 *		Map a Dovecot variant name to its bit, or fail naming the known ones;
 *		the layout must exist in that variant.
 */
static uint8
parse_variant(const char *variant, const LayoutName *layout)
{
	size_t		i;

	for (i = 0; i < lengthof(dovecot_variants); i++)
	{
		if (strcmp(variant, dovecot_variants[i].name) != 0)
			continue;
		if ((layout->variants & dovecot_variants[i].bit) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("vmm layout %s has no Dovecot %s variant", layout->name, variant),
					 errdetail("The layout of vmm %s predates Dovecot 1.2: it is the Dovecot 1.1 variant (the sieve flag is named managesieve).",
							   layout->layout),
					 errhint("Leave the Dovecot variant NULL, or name 1.1.")));
		return dovecot_variants[i].bit;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown Dovecot variant \"%s\"", variant),
			 errdetail("Known variants are 1.1 (for Dovecot older than 1.2) and 1.2 (for Dovecot 1.2 and later).")));
	return 0;					/* keep compiler quiet */
}

/*
 * variant_name
 *		"1.1" or "1.2".
 */
static const char *
variant_name(uint8 variant)
{
	size_t		i;

	for (i = 0; i < lengthof(dovecot_variants); i++)
		if (dovecot_variants[i].bit == variant)
			return dovecot_variants[i].name;
	elog(ERROR, "unknown Dovecot variant bit %d", variant);
	return NULL;				/* keep compiler quiet */
}

/*
 * layout_label
 *		Human-readable name of one form of a layout in one variant, for
 *		messages: "0.5.2 (Dovecot 1.2 variant)"; the variant is left out for
 *		a layout that has only one.
 */
static char *
layout_label(const LayoutName *layout, const LayoutForm *form, uint8 variant)
{
	if (layout->variants == variant)
		return pstrdup(form->label);
	return psprintf("%s (Dovecot %s variant)", form->label, variant_name(variant));
}

/*
 * check_form
 *		Deviations of the schema from one form of a layout in one variant.
 *
 * The form's optional objects are expected if the schema has any of them.
 */
static DeviationList
check_form(const ActualLayout *actual, const LayoutName *layout,
		   const LayoutForm *form, uint8 variant)
{
	uint8		versions = form->versions;

	if (form->optional != 0 && has_objects_of(actual, form->optional))
		versions |= form->optional;
	return compare_layout(actual, versions, variant,
						  layout_label(layout, form, variant));
}

/*
 * check_one
 *		Deviations of the schema from a layout: from the form that it
 *		deviates from least (the first such in the table's order), in the
 *		given variant, or (variants == 0) in the variant of the layout it
 *		deviates from least (the later variant, if both deviate alike).
 */
static DeviationList
check_one(const ActualLayout *actual, const LayoutName *layout, uint8 variant)
{
	DeviationList best = {-1, 0, NULL};
	int			f;
	int			v;

	for (f = 0; f < lengthof(layout->forms) && layout->forms[f] != NULL; f++)
		for (v = lengthof(dovecot_variants) - 1; v >= 0; v--)
		{
			uint8		bit = dovecot_variants[v].bit;
			DeviationList list;

			if ((layout->variants & bit) == 0 || (variant != 0 && variant != bit))
				continue;
			list = check_form(actual, layout, layout->forms[f], bit);
			if (best.n < 0 || list.n < best.n)
				best = list;
		}
	Assert(best.n >= 0);
	return best;
}

/*
 * vmm_upgrade_check_layout
 *		SQL function vmm_upgrade.check_layout(version, dovecot, mail_schema).
 *
 * Returns one (object, problem) row per deviation, sorted; no rows means the
 * schema holds exactly that layout.  With dovecot NULL the variant with the
 * fewer deviations is checked, which is the variant the database has; a
 * layout of two forms (0.4) is checked against the form the schema has in
 * the same way.
 */
Datum
vmm_upgrade_check_layout(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const LayoutName *layout;
	uint8		variant = 0;
	char	   *nspname;
	Oid			nspid;
	ActualLayout actual;
	DeviationList list;
	int			i;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("layout version must not be null"),
				 errhint("Name one of %s.", known_names(LAYOUT_NAME, NULL, " or "))));
	layout = parse_version(text_to_cstring(PG_GETARG_TEXT_PP(0)));

	if (!PG_ARGISNULL(1))
		variant = parse_variant(text_to_cstring(PG_GETARG_TEXT_PP(1)), layout);

	nspid = vmm_resolve_mail_schema(PG_ARGISNULL(2) ? NULL : PG_GETARG_NAME(2),
									&nspname);

	InitMaterializedSRF(fcinfo, 0);

	actual = read_actual_layout(nspid, nspname);
	list = check_one(&actual, layout, variant);

	if (list.n > 1)
		qsort(list.items, list.n, sizeof(Deviation), deviation_cmp);

	for (i = 0; i < list.n; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = CStringGetTextDatum(list.items[i].object);
		values[1] = CStringGetTextDatum(list.items[i].problem);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	return (Datum) 0;
}

/*
 * vmm_upgrade_detect_layout
 *		SQL function vmm_upgrade.detect_layout(mail_schema).
 *
 * Returns (mail_schema, version, dovecot, lookups): version is "none" when
 * the schema holds no vmm object at all, the known layout it matches
 * exactly (0.4, 0.5.2 or 0.6), or "unknown" (vmm objects matching no known
 * layout, such as a half-applied upgrade).  lookups tells whether the
 * lookup functions (optional in 0.5.2, always part of 0.6) are there.
 * Which form of 0.4 a schema holds, check_layout('0.4-r41') and
 * check_layout('0.4-release') tell.
 */
Datum
vmm_upgrade_detect_layout(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	char	   *nspname;
	Oid			nspid;
	ActualLayout actual;
	bool		any_known = false;
	bool		lookups;
	int			i;
	size_t		l;
	size_t		v;
	Name		schema_name;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);

	nspid = vmm_resolve_mail_schema(PG_ARGISNULL(0) ? NULL : PG_GETARG_NAME(0),
									&nspname);
	actual = read_actual_layout(nspid, nspname);

	schema_name = (Name) palloc0(NAMEDATALEN);
	namestrcpy(schema_name, nspname);
	values[0] = NameGetDatum(schema_name);

	for (i = 0; i < actual.n && !any_known; i++)
		any_known = is_known_object(&actual.entries[i]);
	lookups = has_lookups(&actual);

	values[1] = CStringGetTextDatum("unknown");
	nulls[2] = true;
	values[3] = BoolGetDatum(lookups);

	if (!any_known)
		values[1] = CStringGetTextDatum("none");
	else
	{
		for (l = 0; l < lengthof(layout_names); l++)
			for (v = 0; v < lengthof(dovecot_variants); v++)
			{
				const LayoutName *layout = &layout_names[l];

				if (layout->kind != LAYOUT_NAME ||
					(layout->variants & dovecot_variants[v].bit) == 0 ||
					check_one(&actual, layout, dovecot_variants[v].bit).n != 0)
					continue;
				values[1] = CStringGetTextDatum(layout->layout);
				values[2] = CStringGetTextDatum(dovecot_variants[v].name);
				nulls[2] = false;
				goto found;
			}
	}
found:
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
