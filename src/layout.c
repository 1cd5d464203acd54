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
 * has_lookups
 *		Does the mail schema have any of the optional 0.5.2 lookup objects?
 *
 * A 0.5.2 database either has them all or none; which one it is decides
 * what the 0.5.2 layout is expected to hold, and a partial set then shows up
 * as deviations.
 */
static bool
has_lookups(const ActualLayout *actual)
{
	size_t		i;

	for (i = 0; i < N_LAYOUT_ENTRIES; i++)
	{
		const LayoutEntry *e = &layout_entries[i];

		if ((e->versions & LV_0_5_2_lookups) &&
			find_actual(actual, e->kind, e->object) != NULL)
			return true;
	}
	return false;
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
 * "versions" holds the layout's version bit, plus LV_0_5_2_lookups when the
 * optional 0.5.2 lookup objects are expected.  A whole missing or unexpected
 * table is reported once, not once per column, constraint and trigger.
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
 * parse_version
 *		Map a version name to its layout bit, or fail naming the known ones.
 *
 * 0.6.0, 0.6.1 and 0.6.2 share the 0.6 structure; they differ in data and in
 * one function body, which the 0.6.0 update deals with.
 */
static uint8
parse_version(const char *version)
{
	if (strcmp(version, "0.5.2") == 0)
		return LV_0_5_2;
	if (strcmp(version, "0.6+compat") == 0)
		return LV_0_6 | LV_0_6_compat;
	if (strcmp(version, "0.6") == 0 || strcmp(version, "0.6.0") == 0 ||
		strcmp(version, "0.6.1") == 0 || strcmp(version, "0.6.2") == 0)
		return LV_0_6;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown vmm layout version \"%s\"", version),
			 errdetail("Known layout versions are 0.5.2, 0.6 (also written 0.6.0, 0.6.1 or 0.6.2) and 0.6+compat (0.6 with the 0.5.2 compatibility views).")));
	return 0;					/* keep compiler quiet */
}

/*
 * parse_variant
 *		Map a Dovecot variant name to its bit, or fail naming the known ones.
 */
static uint8
parse_variant(const char *variant)
{
	if (strcmp(variant, "1.1") == 0)
		return DV_1_1;
	if (strcmp(variant, "1.2") == 0)
		return DV_1_2;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown Dovecot variant \"%s\"", variant),
			 errdetail("Known variants are 1.1 (for Dovecot older than 1.2) and 1.2 (for Dovecot 1.2 and later).")));
	return 0;					/* keep compiler quiet */
}

/*
 * version_name
 *		The name of a layout version (one bit, or 0.6 with its compatibility
 *		views), as detect_layout() reports it and check_layout() takes it.
 */
static const char *
version_name(uint8 version)
{
	if (version == LV_0_5_2)
		return "0.5.2";
	if (version == (LV_0_6 | LV_0_6_compat))
		return "0.6+compat";
	return "0.6";
}

/*
 * layout_label
 *		Human-readable name of a layout, for messages.
 */
static char *
layout_label(uint8 version, uint8 variant)
{
	return psprintf("%s (Dovecot %s variant)",
					version_name(version),
					variant == DV_1_1 ? "1.1" : "1.2");
}

/*
 * check_one
 *		Deviations of the schema from one (version, variant).
 *
 * For 0.5.2 the optional lookup objects are expected if the schema has any
 * of them.
 */
static DeviationList
check_one(const ActualLayout *actual, uint8 version, uint8 variant)
{
	uint8		versions = version;

	if (version == LV_0_5_2 && has_lookups(actual))
		versions |= LV_0_5_2_lookups;
	return compare_layout(actual, versions, variant,
						  layout_label(version, variant));
}

/*
 * vmm_upgrade_check_layout
 *		SQL function vmm_upgrade.check_layout(version, dovecot, mail_schema).
 *
 * Returns one (object, problem) row per deviation, sorted; no rows means the
 * schema holds exactly that layout.  With dovecot NULL the variant with the
 * fewer deviations is checked, which is the variant the database has.
 */
Datum
vmm_upgrade_check_layout(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *version;
	char	   *nspname;
	Oid			nspid;
	uint8		vbit;
	uint8		dbit = 0;
	ActualLayout actual;
	DeviationList list;
	int			i;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("layout version must not be null"),
				 errhint("Name one of 0.5.2, 0.6 or 0.6+compat.")));
	version = text_to_cstring(PG_GETARG_TEXT_PP(0));
	vbit = parse_version(version);

	if (!PG_ARGISNULL(1))
		dbit = parse_variant(text_to_cstring(PG_GETARG_TEXT_PP(1)));

	nspid = vmm_resolve_mail_schema(PG_ARGISNULL(2) ? NULL : PG_GETARG_NAME(2),
									&nspname);

	InitMaterializedSRF(fcinfo, 0);

	actual = read_actual_layout(nspid, nspname);
	if (!PG_ARGISNULL(1))
		list = check_one(&actual, vbit, dbit);
	else
	{
		DeviationList l11 = check_one(&actual, vbit, DV_1_1);
		DeviationList l12 = check_one(&actual, vbit, DV_1_2);

		list = l11.n < l12.n ? l11 : l12;
	}

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
 * exactly ("0.6+compat": 0.6 with the 0.5.2 compatibility views the update
 * leaves with vmm_upgrade.compatibility_views on), or "unknown" (vmm objects matching no known layout, such as a
 * half-applied upgrade).  lookups tells whether the lookup functions
 * (optional in 0.5.2, always part of 0.6) are there.
 */
Datum
vmm_upgrade_detect_layout(PG_FUNCTION_ARGS)
{
	static const uint8 versions[] = {LV_0_5_2, LV_0_6, LV_0_6 | LV_0_6_compat};
	static const uint8 variants[] = {DV_1_1, DV_1_2};
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	char	   *nspname;
	Oid			nspid;
	ActualLayout actual;
	bool		any_known = false;
	bool		lookups;
	int			i,
				v,
				d;
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
		for (v = 0; v < lengthof(versions); v++)
			for (d = 0; d < lengthof(variants); d++)
			{
				if (check_one(&actual, versions[v], variants[d]).n != 0)
					continue;
				values[1] = CStringGetTextDatum(version_name(versions[v]));
				values[2] = CStringGetTextDatum(variants[d] == DV_1_1 ? "1.1" : "1.2");
				nulls[2] = false;
				goto found;
			}
	}
found:
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
