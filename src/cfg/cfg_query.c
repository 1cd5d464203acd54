/*-------------------------------------------------------------------------
 *
 * cfg_query.c
 *	  Rewrite the SQL queries of Postfix's pgsql-*.cf lookup tables and of
 *	  Dovecot's dovecot-sql.conf(.ext) from vmm 0.5.2's views to vmm 0.6's
 *	  functions, or back (--revert), in memory.
 *
 * Only the query values are touched; connection settings, comments and
 * layout stay byte for byte.  A query is rewritten only when it is, up
 * to spacing and keyword case, one of vmm 0.5.2's stock queries; one
 * already in vmm 0.6's form is fine; anything else is left alone and
 * reported, because guessing at an admin's own SQL could break mail
 * delivery or logins.
 *
 * The stock queries of both versions are not written here: they come
 * from src/client_queries.tsv (compiled in as src/client_queries_data.h),
 * from which the extension's update WARNINGs are made too.  Both kinds of
 * file go through one driver, rewrite_queries(); they differ only in how
 * settings are read (postfix_settings, dovecot_settings) and in what a
 * file as a whole is told it lacks.  The way back is the same table read
 * the other way: a vmm 0.6 query becomes the vmm 0.5.2 query of its line,
 * a vmm 0.5.2 (or 0.4) query is fine as it is.
 *
 * src/cfg/cfg_query.c
 *
 *-------------------------------------------------------------------------
 */
#include "cfg_upgrade.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * One line of src/client_queries.tsv, where the queries are written once
 * (the extension's update WARNINGs are made from the same file).
 */
typedef struct ClientQuery
{
	const char *client;			/* "postfix" or "dovecot" */
	const char *setting;		/* Postfix: the map's file as vmm 0.6 names
								 * it; Dovecot: the setting */
	const char *param;			/* Postfix: the map's main.cf parameter */
	const char *old_name;		/* Postfix: the file's vmm 0.5.2 name, if
								 * vmm 0.6 renamed it */
	const char *variant;		/* "quota": the quota plugin's user_query */
	const char *old_query;		/* vmm 0.5.2's query, NULL: new in 0.6 */
	const char *query;			/* vmm 0.6's query */
	const char *what;			/* for the report: "view -> function()" */
	const char *back;			/* for the revert's: "function() -> view" */
} ClientQuery;

#include "client_queries_data.h"

/*
 * vmm 0.4's stock Postfix queries that vmm 0.5.2 changed, each with the
 * map (setting of src/client_queries.tsv) whose vmm 0.6 query replaces
 * it.  The others of vmm 0.4 are vmm 0.5.2's.  Only vmm-cfg-upgrade
 * needs these (the extension's WARNINGs name 0.5.2's), so they are not in
 * src/client_queries.tsv; the query is split where vmm 0.4 split it.
 */
static const struct
{
	const char *setting;
	const char *old_query;
	const char *what;			/* for the report */
}			postfix_04[] = {
	{"pgsql-smtpd_sender_login_maps.cf",
		"SELECT address FROM postfix_maildir"
		" WHERE address='%s'"
		" UNION SELECT destination FROM postfix_alias"
		" WHERE address='%s'",
	"vmm 0.4's postfix_maildir UNION postfix_alias -> postfix_smtpd_sender_login_map()"},
	{NULL, NULL, NULL}
};

/*
 * Postfix queries vmm 0.6 did not change (virtual_gid_maps and
 * virtual_mailbox_domains): right as they are, never rewritten.
 */
static const char *const postfix_kept[] = {
	"SELECT gid FROM postfix_gid WHERE domainname='%s'",
	"SELECT gid FROM postfix_gid WHERE domainname='%d'",
	NULL
};

/* What lookup() made of a query. */
#define QUERY_UNKNOWN	0		/* none of the stock queries: left alone */
#define QUERY_CURRENT	1		/* already vmm 0.6's */
#define QUERY_OLD		2		/* to be rewritten (the other generation's) */
#define QUERY_NO_OLD	3		/* --revert: vmm 0.6's, with no vmm 0.5.2 query */

/* characters around which SQL whitespace carries no meaning */
static int
sql_punct(char c)
{
	return c == '=' || c == ',' || c == '(' || c == ')' || c == '|' ||
		c == ';';
}

/*
 * Reduce an SQL query to a canonical form so that we recognise vmm's
 * stock queries however an admin spaced or capitalised them: keywords
 * and unquoted names are lower-cased, whitespace runs become one space
 * and vanish next to = , ( ) || ;, a trailing semicolon is dropped.
 * Quoted strings, quoted identifiers and %-variables (Dovecot's %Ln is
 * not %ln) are copied exactly.  Anything else stays significant, so an
 * unusual query simply does not match and is left alone.
 */
static void
sql_normalize(const char *s, size_t n, StrBuf *out)
{
	size_t		i = 0;
	int			pending_space = 0;

	out->len = 0;
	sb_append(out, "", 0);
	while (i < n)
	{
		char		c = s[i];

		if (isspace((unsigned char) c))
		{
			pending_space = 1;
			i++;
			continue;
		}
		if (pending_space && out->len > 0 && !sql_punct(c) &&
			!sql_punct(out->data[out->len - 1]))
			sb_append(out, " ", 1);
		pending_space = 0;
		if (c == '\'' || c == '"')
		{
			size_t		j = i + 1;

			while (j < n && s[j] != c)
				j++;
			if (j < n)
				j++;
			sb_append(out, s + i, j - i);
			i = j;
		}
		else if (c == '%')
		{
			size_t		j = i + 1;

			while (j < n && isalnum((unsigned char) s[j]))
				j++;
			sb_append(out, s + i, j - i);
			i = j;
		}
		else
		{
			char		lc = (char) tolower((unsigned char) c);

			sb_append(out, &lc, 1);
			i++;
		}
	}
	while (out->len > 0 && (out->data[out->len - 1] == ';' ||
							out->data[out->len - 1] == ' '))
		out->data[--out->len] = '\0';
}

/* a logical setting: its first physical line and its continuation lines */
typedef struct Setting
{
	size_t		first;			/* line of "name = value" */
	size_t		last;			/* one past its last continuation line */
	size_t		value_off;		/* value start within the first line */
	char	   *name;
	StrBuf		value;			/* value with continuations joined */
} Setting;

/* Is the line empty or only whitespace? */
static int
blank_line(const SrcLine *l)
{
	size_t		k;

	for (k = 0; k < l->len; k++)
		if (!isspace((unsigned char) l->text[k]))
			return 0;
	return 1;
}

/* Is the line a comment (first non-blank character '#')? */
static int
comment_line(const SrcLine *l)
{
	size_t		k;

	for (k = 0; k < l->len && isspace((unsigned char) l->text[k]); k++)
		;
	return k < l->len && l->text[k] == '#';
}

/*
 * Split "name = value": the name is one word, then optional whitespace,
 * then '=' (what Postfix's and Dovecot's parsers demand).  Returns 0
 * when the line is not of that form.
 */
static int
split_setting(const SrcLine *l, Setting *st)
{
	size_t		nlen = 0,
				v;

	while (nlen < l->len && l->text[nlen] != '=' &&
		   !isspace((unsigned char) l->text[nlen]))
		nlen++;
	v = nlen;
	while (v < l->len && isspace((unsigned char) l->text[v]))
		v++;
	if (nlen == 0 || v == l->len || l->text[v] != '=')
		return 0;
	v++;
	while (v < l->len && isspace((unsigned char) l->text[v]))
		v++;
	st->name = cfg_strndup(l->text, nlen);
	st->value_off = v;
	return 1;
}

/* Append a value piece, trimming surrounding whitespace, space-joined. */
static void
append_piece(StrBuf *sb, const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char) *s))
	{
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char) s[n - 1]))
		n--;
	if (sb->len > 0 && n > 0)
		sb_append(sb, " ", 1);
	sb_append(sb, s, n);
}

/* Is the normalised query q the stock query cand?  k is scratch space. */
static int
is_query(const StrBuf *q, const char *cand, StrBuf *k)
{
	sql_normalize(cand, strlen(cand), k);
	return strcmp(q->data, k->data) == 0;
}

/* Are two variants ("quota" or NULL) the same? */
static int
same_variant(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/*
 * Look a query up among the client's stock queries by its normalised form:
 * those of one setting (Dovecot), or of any (setting NULL: Postfix files
 * are not told apart by name).  A vmm 0.5.2 query is QUERY_OLD, and *row
 * the line that replaces it: the one of the variant asked for ("quota" or
 * NULL) where the setting has several, else the plain one.  A vmm 0.6
 * query of any variant is QUERY_CURRENT.
 */
static int
lookup(const char *client, const char *setting, const char *variant,
	   const char *query, size_t n, const ClientQuery **row,
	   const char **what)
{
	StrBuf		q,
				k;
	int			current = 0;
	int			i;

	sb_init(&q);
	sb_init(&k);
	sql_normalize(query, n, &q);
	*row = NULL;
	for (i = 0; client_queries[i].client != NULL; i++)
	{
		const ClientQuery *cq = &client_queries[i];

		if (strcmp(cq->client, client) != 0 ||
			(setting != NULL && strcmp(cq->setting, setting) != 0))
			continue;
		if (cq->old_query != NULL && is_query(&q, cq->old_query, &k))
		{
			if (same_variant(cq->variant, variant) ||
				(*row == NULL && cq->variant == NULL))
				*row = cq;
		}
		else if (is_query(&q, cq->query, &k))
			current = 1;
	}
	for (i = 0; strcmp(client, "postfix") == 0 && postfix_kept[i] != NULL; i++)
		if (is_query(&q, postfix_kept[i], &k))
			current = 1;
	if (*row != NULL)
		*what = (*row)->what;
	for (i = 0; *row == NULL && strcmp(client, "postfix") == 0 &&
		 postfix_04[i].setting != NULL; i++)
	{
		int			j;

		if (!is_query(&q, postfix_04[i].old_query, &k))
			continue;
		for (j = 0; client_queries[j].client != NULL; j++)
			if (strcmp(client_queries[j].client, "postfix") == 0 &&
				strcmp(client_queries[j].setting, postfix_04[i].setting) == 0)
			{
				*row = &client_queries[j];
				*what = postfix_04[i].what;
			}
	}
	sb_free(&q);
	sb_free(&k);
	return *row != NULL ? QUERY_OLD : current ? QUERY_CURRENT : QUERY_UNKNOWN;
}

/*
 * lookup() the other way (--revert): a vmm 0.6 query of any variant is
 * QUERY_OLD, *row its line, whose vmm 0.5.2 query replaces it, or
 * QUERY_NO_OLD where vmm 0.5.2 has none (the map is new in 0.6); a vmm
 * 0.5.2 query, vmm 0.4's sender-login query (vmm 0.5.2 has both views it
 * reads) and those vmm 0.6 kept are QUERY_CURRENT.
 */
static int
lookup_back(const char *client, const char *setting, const char *query,
			size_t n, const ClientQuery **row)
{
	StrBuf		q,
				k;
	int			current = 0;
	int			i;

	sb_init(&q);
	sb_init(&k);
	sql_normalize(query, n, &q);
	*row = NULL;
	for (i = 0; client_queries[i].client != NULL; i++)
	{
		const ClientQuery *cq = &client_queries[i];

		if (strcmp(cq->client, client) != 0 ||
			(setting != NULL && strcmp(cq->setting, setting) != 0))
			continue;
		if (*row == NULL && is_query(&q, cq->query, &k))
			*row = cq;
		else if (cq->old_query != NULL && is_query(&q, cq->old_query, &k))
			current = 1;
	}
	for (i = 0; strcmp(client, "postfix") == 0 && postfix_kept[i] != NULL; i++)
		if (is_query(&q, postfix_kept[i], &k))
			current = 1;
	for (i = 0; strcmp(client, "postfix") == 0 && postfix_04[i].setting != NULL; i++)
		if (is_query(&q, postfix_04[i].old_query, &k))
			current = 1;
	sb_free(&q);
	sb_free(&k);
	if (*row != NULL)
		return (*row)->old_query != NULL ? QUERY_OLD : QUERY_NO_OLD;
	return current ? QUERY_CURRENT : QUERY_UNKNOWN;
}

/* Does some Dovecot line of src/client_queries.tsv have this setting? */
static int
dovecot_query_setting(const char *name)
{
	int			i;

	for (i = 0; client_queries[i].client != NULL; i++)
		if (strcmp(client_queries[i].client, "dovecot") == 0 &&
			strcmp(client_queries[i].setting, name) == 0)
			return 1;
	return 0;
}

/*
 * Write the output: all lines as they were, except that each setting with
 * a replacement in repl[] gets its new value on its first line and loses
 * its continuation lines (keep_comments: comment and blank lines inside
 * its range are not continuations, as in Postfix files).
 */
static void
emit_with_replacements(const SrcLine *lines, size_t n, Setting *sets,
					   const char **repl, size_t nsets, const char *eol,
					   int keep_comments, StrBuf *out)
{
	size_t		i,
				s = 0;
	int			unterminated = 0;

	for (i = 0; i < n; i++)
	{
		while (s < nsets && sets[s].last <= i)
			s++;
		if (s < nsets && i >= sets[s].first && i < sets[s].last &&
			repl[s] != NULL)
		{
			if (i != sets[s].first)
			{
				/* a continuation line of a replaced value: drop it */
				if (!keep_comments ||
					(!comment_line(&lines[i]) && !blank_line(&lines[i])))
					continue;
			}
			else
			{
				if (unterminated)
					sb_puts(out, eol);
				sb_append(out, lines[i].text, sets[s].value_off);
				sb_puts(out, repl[s]);
				sb_puts(out, lines[i].eol);
				unterminated = lines[i].eol[0] == '\0';
				continue;
			}
		}
		if (unterminated)
			sb_puts(out, eol);
		sb_append(out, lines[i].text, lines[i].len);
		sb_puts(out, lines[i].eol);
		unterminated = lines[i].eol[0] == '\0';
	}
}

/* Free an array of settings. */
static void
free_settings(Setting *sets, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		free(sets[i].name);
		sb_free(&sets[i].value);
	}
	free(sets);
}

/*
 * Collect the settings of a Postfix table file.  Postfix joins a line
 * that starts with whitespace to the logical line before it (comment and
 * blank lines in between are skipped) and refuses a logical line with no
 * '=', so do we.
 */
static int
postfix_settings(const char *fname, const SrcLine *lines, size_t n,
				 Setting **out, size_t *nout, CfgError *err)
{
	size_t		i,
				cnt = 0;
	Setting    *sets = cfg_malloc((n + 1) * sizeof(Setting));

	for (i = 0; i < n; i++)
	{
		const SrcLine *l = &lines[i];

		if (blank_line(l) || comment_line(l))
			continue;
		if (isspace((unsigned char) l->text[0]))
		{
			if (cnt > 0)
			{
				append_piece(&sets[cnt - 1].value, l->text, l->len);
				sets[cnt - 1].last = i + 1;
			}
			continue;
		}
		memset(&sets[cnt], 0, sizeof(Setting));
		if (!split_setting(l, &sets[cnt]))
		{
			cfg_set_error(err, CFG_EXIT_ERROR, fname, l->lineno,
						  "missing '=' after the parameter name");
			free_settings(sets, cnt);
			return err->code;
		}
		sets[cnt].first = i;
		sets[cnt].last = i + 1;
		sb_init(&sets[cnt].value);
		append_piece(&sets[cnt].value, l->text + sets[cnt].value_off,
					 l->len - sets[cnt].value_off);
		cnt++;
	}
	*out = sets;
	*nout = cnt;
	return 0;
}

/*
 * Collect the settings of a Dovecot SQL file: "name = value", where a
 * line ending in a backslash continues on the next line.  Lines starting
 * with '!' (includes) or holding braces are left to Dovecot.
 */
static int
dovecot_settings(const char *fname, const SrcLine *lines, size_t n,
				 Setting **out, size_t *nout, CfgError *err)
{
	size_t		i = 0,
				cnt = 0;
	Setting    *sets = cfg_malloc((n + 1) * sizeof(Setting));

	while (i < n)
	{
		const SrcLine *l = &lines[i];
		size_t		k;

		if (blank_line(l) || comment_line(l))
		{
			i++;
			continue;
		}
		for (k = 0; k < l->len && isspace((unsigned char) l->text[k]); k++)
			;
		if (l->text[k] == '!' || memchr(l->text, '{', l->len) ||
			memchr(l->text, '}', l->len))
		{
			i++;
			continue;
		}
		memset(&sets[cnt], 0, sizeof(Setting));
		{
			SrcLine		trimmed = *l;

			trimmed.text += k;
			trimmed.len -= k;
			if (!split_setting(&trimmed, &sets[cnt]))
			{
				cfg_set_error(err, CFG_EXIT_ERROR, fname, l->lineno,
							  "expected \"name = value\"");
				free_settings(sets, cnt);
				return err->code;
			}
			sets[cnt].value_off += k;
		}
		sets[cnt].first = i;
		sb_init(&sets[cnt].value);
		k = sets[cnt].value_off;
		for (;;)
		{
			size_t		end = lines[i].len;
			int			more;

			while (end > k && isspace((unsigned char) lines[i].text[end - 1]))
				end--;
			more = end > k && lines[i].text[end - 1] == '\\';
			append_piece(&sets[cnt].value, lines[i].text + k,
						 end - k - (more ? 1 : 0));
			i++;
			if (!more || i >= n)
				break;
			k = 0;
		}
		sets[cnt].last = i;
		cnt++;
	}
	*out = sets;
	*nout = cnt;
	return 0;
}

/* Is line k of the table the first of its client with its setting? */
static int
first_of_setting(int k)
{
	int			j;

	for (j = 0; j < k; j++)
		if (strcmp(client_queries[j].client, client_queries[k].client) == 0 &&
			strcmp(client_queries[j].setting, client_queries[k].setting) == 0)
			return 0;
	return 1;
}

/*
 * Rewrite the queries of one Postfix table or Dovecot SQL file held in
 * memory (client "postfix" or "dovecot"): each query setting that is
 * vmm 0.5.2's stock query gets vmm 0.6's of the variant asked for (revert:
 * each vmm 0.6 query gets vmm 0.5.2's), any other is reported; then what
 * the file as a whole lacks is reported.  Returns 0 or an exit code
 * (binary data, malformed line).
 */
static int
rewrite_queries(const char *client, const char *fname, const char *buf,
				size_t len, const char *variant, int revert, Rewrite *rw,
				CfgError *err)
{
	int			postfix = strcmp(client, "postfix") == 0;
	SrcLine    *lines;
	size_t		n,
				nsets = 0,
				i;
	Setting    *sets = NULL;
	const char **repl;
	int			rc,
				queries = 0,
				legacy = 0,
				k;
	int			seen[sizeof(client_queries) / sizeof(client_queries[0])];
	const char *base = strrchr(fname, '/');

	base = base ? base + 1 : fname;
	rw->changed = 0;
	if (len > 0 && memchr(buf, '\0', len) != NULL)
	{
		cfg_set_error(err, CFG_EXIT_ERROR, fname, 0,
					  "binary data (NUL bytes), not a %s",
					  postfix ? "Postfix table" : "Dovecot SQL file");
		return err->code;
	}
	n = cfg_split_lines(buf, len, &lines);
	rc = postfix ? postfix_settings(fname, lines, n, &sets, &nsets, err) :
		dovecot_settings(fname, lines, n, &sets, &nsets, err);
	if (rc != 0)
	{
		free(lines);
		return rc;
	}
	memset(seen, 0, sizeof(seen));
	repl = cfg_malloc((nsets + 1) * sizeof(char *));
	for (i = 0; i < nsets; i++)
	{
		const ClientQuery *row;
		const char *what = NULL;
		const char *name = sets[i].name;

		repl[i] = NULL;
		if (postfix && (strcmp(name, "table") == 0 ||
						strcmp(name, "select_field") == 0 ||
						strcmp(name, "where_field") == 0))
			legacy = 1;
		if (postfix ? strcmp(name, "query") != 0 : !dovecot_query_setting(name))
			continue;
		queries++;
		for (k = 0; client_queries[k].client != NULL; k++)
			if (strcmp(client_queries[k].client, client) == 0 &&
				strcmp(client_queries[k].setting, name) == 0)
				seen[k] = 1;
		if (revert)
			rc = lookup_back(client, postfix ? NULL : name,
							 sets[i].value.data, sets[i].value.len, &row);
		else
			rc = lookup(client, postfix ? NULL : name, variant,
						sets[i].value.data, sets[i].value.len, &row, &what);
		switch (rc)
		{
			case QUERY_UNKNOWN:
				sb_printf(&rw->report,
						  "%s:%d: %s not recognised, left alone: %s\n",
						  fname, lines[sets[i].first].lineno, name,
						  sets[i].value.data);
				break;
			case QUERY_OLD:
				repl[i] = revert ? row->old_query : row->query;
				sb_printf(&rw->report, "%s:%d: %s rewritten: %s\n", fname,
						  lines[sets[i].first].lineno, name,
						  revert ? row->back : what);
				if (revert && row->variant != NULL)
					sb_printf(&rw->report,
							  "%s:%d: %s: vmm 0.5.2 has no quota table, so quota_rule is gone; remove the quota plugin's SQL dictionary too\n",
							  fname, lines[sets[i].first].lineno, name);
				break;
			case QUERY_NO_OLD:
				sb_printf(&rw->report,
						  "%s:%d: %s kept: vmm 0.5.2 answers it only with its optional lookup functions (SET vmm_upgrade.lookups_052 = on before the downgrade creates them); without them remove %s from main.cf\n",
						  fname, lines[sets[i].first].lineno, name, row->param);
				break;
			default:
				break;
		}
	}
	if (postfix && queries == 0 && legacy)
		sb_printf(&rw->report,
				  "%s: uses table/select_field/where_field, not a query; left alone, write a vmm 0.6 query yourself\n",
				  fname);
	else if (postfix && queries == 0)
		sb_printf(&rw->report, "%s: no query setting, left alone\n", fname);
	for (k = 0; client_queries[k].client != NULL; k++)
	{
		const ClientQuery *cq = &client_queries[k];

		if (strcmp(cq->client, client) != 0)
			continue;
		if (postfix && cq->old_name != NULL && !revert &&
			strcmp(base, cq->old_name) == 0)
			sb_printf(&rw->report,
					  "%s: vmm 0.6 names this file %s; it keeps its name here (%s in main.cf refers to it)\n",
					  fname, cq->setting, cq->param);
		if (postfix && cq->old_name != NULL && revert &&
			strcmp(base, cq->setting) == 0)
			sb_printf(&rw->report,
					  "%s: vmm 0.5.2 names this file %s; it keeps its name here (%s in main.cf refers to it)\n",
					  fname, cq->old_name, cq->param);
		/* a Dovecot setting not there: say so once, at its first line */
		if (!postfix && !seen[k] && first_of_setting(k))
			sb_printf(&rw->report, "%s: no %s setting\n", fname,
					  cq->setting);
	}
	emit_with_replacements(lines, n, sets, repl, nsets,
						   cfg_default_eol(lines, n), postfix, &rw->out);
	rw->changed = (rw->out.len != len ||
				   (len > 0 && memcmp(rw->out.data, buf, len) != 0));
	free(repl);
	free_settings(sets, nsets);
	free(lines);
	return 0;
}

/*
 * Rewrite the query of one Postfix pgsql table file held in memory, to
 * vmm 0.6's (revert: back to vmm 0.5.2's).  Returns 0 or an exit code
 * (malformed line).
 */
int
postfix_rewrite(const char *fname, const char *buf, size_t len, int revert,
				Rewrite *rw, CfgError *err)
{
	return rewrite_queries("postfix", fname, buf, len, NULL, revert, rw, err);
}

/*
 * Rewrite password_query and user_query of a Dovecot SQL file held in
 * memory; quota selects dovecotquotauser() for the user query; revert
 * puts vmm 0.5.2's queries back instead (either Dovecot variant: vmm
 * 0.5.2's queries name no sieve column, Dovecot's %Ls does).  Returns 0 or
 * an exit code (malformed line).
 */
int
dovecot_rewrite(const char *fname, const char *buf, size_t len, int quota,
				int revert, Rewrite *rw, CfgError *err)
{
	return rewrite_queries("dovecot", fname, buf, len,
						   quota ? "quota" : NULL, revert, rw, err);
}

/*
 * --revert: is buf exactly what the forward rewrite (either user_query
 * variant) made of the backup data?  Then the backup is what the file was.
 */
int
queries_backup_matches(const char *client, const char *name,
					   const char *data, size_t dlen,
					   const char *buf, size_t len)
{
	int			quota,
				ok = 0;

	for (quota = 0; quota < 2 && !ok; quota++)
	{
		Rewrite		rw;
		CfgError	err;

		if (quota && strcmp(client, "dovecot") != 0)
			break;
		rewrite_init(&rw);
		memset(&err, 0, sizeof(err));
		ok = rewrite_queries(client, name, data, dlen, quota ? "quota" : NULL,
							 0, &rw, &err) == 0 && rw.changed &&
			rw.out.len == len && (len == 0 || memcmp(rw.out.data, buf, len) == 0);
		rewrite_free(&rw);
	}
	return ok;
}
