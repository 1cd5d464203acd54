/*-------------------------------------------------------------------------
 *
 * cfg_query.c
 *	  Rewrite the SQL queries of Postfix's pgsql-*.cf lookup tables and of
 *	  Dovecot's dovecot-sql.conf(.ext) from vmm 0.5.2's views to vmm 0.6's
 *	  functions, in memory.
 *
 * Only the query values are touched; connection settings, comments and
 * layout stay byte for byte.  A query is rewritten only when it is, up
 * to spacing and keyword case, one of vmm 0.5.2's stock queries; one
 * already in vmm 0.6's form is fine; anything else is left alone and
 * reported, because guessing at an admin's own SQL could break mail
 * delivery or logins.
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

typedef struct QueryMap
{
	const char *old;			/* vmm 0.5.2 query, or NULL: already new */
	const char *new;			/* vmm 0.6 query */
	const char *what;			/* for the report */
} QueryMap;

/* Postfix: vmm 0.5.2 views -> vmm 0.6 functions */
static const QueryMap postfix_map[] = {
	{"SELECT maildir FROM postfix_maildir WHERE address='%s'",
		"SELECT maildir FROM postfix_virtual_mailbox_map('%u', '%d')",
	"postfix_maildir -> postfix_virtual_mailbox_map()"},
	{"SELECT uid FROM postfix_uid WHERE address='%s'",
		"SELECT uid FROM postfix_virtual_uid_map('%u', '%d')",
	"postfix_uid -> postfix_virtual_uid_map()"},
	{"SELECT destination FROM postfix_alias WHERE address='%s'",
		"SELECT destination FROM postfix_virtual_alias_map('%u', '%d')",
	"postfix_alias -> postfix_virtual_alias_map()"},
	{"SELECT destination FROM postfix_relocated WHERE address='%s'",
		"SELECT destination FROM postfix_relocated_map('%u', '%d')",
	"postfix_relocated -> postfix_relocated_map()"},
	{"SELECT transport FROM postfix_transport WHERE address='%s'",
		"SELECT transport FROM postfix_transport_map('%u', '%d')",
	"postfix_transport -> postfix_transport_map()"},
	/* already right for vmm 0.6 */
	{NULL, "SELECT maildir FROM postfix_virtual_mailbox_map('%u', '%d')", NULL},
	{NULL, "SELECT uid FROM postfix_virtual_uid_map('%u', '%d')", NULL},
	{NULL, "SELECT destination FROM postfix_virtual_alias_map('%u', '%d')", NULL},
	{NULL, "SELECT destination FROM postfix_relocated_map('%u', '%d')", NULL},
	{NULL, "SELECT transport FROM postfix_transport_map('%u', '%d')", NULL},
	{NULL, "SELECT login FROM postfix_smtpd_sender_login_map('%u', '%d')", NULL},
	{NULL, "SELECT gid FROM postfix_gid WHERE domainname='%s'", NULL},
	{NULL, "SELECT gid FROM postfix_gid WHERE domainname='%d'", NULL},
	{NULL, NULL, NULL}
};

#define DOVECOT_PASSWORD_OLD \
	"SELECT \"user\", password FROM dovecot_password WHERE \"user\"='%u' AND %Ls"
#define DOVECOT_PASSWORD_NEW \
	"SELECT userid AS \"user\", password FROM dovecotpassword('%Ln', '%Ld') WHERE %Ls"
#define DOVECOT_USER_OLD \
	"SELECT home, uid, gid, 'maildir:'||mail AS mail FROM dovecot_user WHERE userid = '%u'"
#define DOVECOT_USER_NEW \
	"SELECT home, uid, gid, mail FROM dovecotuser('%Ln', '%Ld')"
#define DOVECOT_QUOTAUSER_NEW \
	"SELECT home, uid, gid, mail, quota_rule FROM dovecotquotauser('%Ln', '%Ld')"

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

/* Look a query up in a map by its normalised form; NULL if unknown. */
static const QueryMap *
lookup(const QueryMap *map, const char *query, size_t n)
{
	StrBuf		q,
				k;
	const QueryMap *found = NULL;
	int			i;

	sb_init(&q);
	sb_init(&k);
	sql_normalize(query, n, &q);
	for (i = 0; map[i].new != NULL && found == NULL; i++)
	{
		const char *cand = map[i].old ? map[i].old : map[i].new;

		sql_normalize(cand, strlen(cand), &k);
		if (strcmp(q.data, k.data) == 0)
			found = &map[i];
	}
	sb_free(&q);
	sb_free(&k);
	return found;
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
 * Rewrite the query of one Postfix pgsql table file held in memory.
 * Returns 0 or an exit code (malformed line).
 */
int
postfix_rewrite(const char *fname, const char *buf, size_t len,
				Rewrite *rw, CfgError *err)
{
	SrcLine    *lines;
	size_t		n,
				nsets = 0,
				i;
	Setting    *sets = NULL;
	const char **repl;
	int			rc,
				queries = 0,
				legacy = 0;
	const char *base = strrchr(fname, '/');

	base = base ? base + 1 : fname;
	rw->changed = 0;
	if (len > 0 && memchr(buf, '\0', len) != NULL)
	{
		cfg_set_error(err, CFG_EXIT_ERROR, fname, 0,
					  "binary data (NUL bytes), not a Postfix table");
		return err->code;
	}
	n = cfg_split_lines(buf, len, &lines);
	rc = postfix_settings(fname, lines, n, &sets, &nsets, err);
	if (rc != 0)
	{
		free(lines);
		return rc;
	}
	repl = cfg_malloc((nsets + 1) * sizeof(char *));
	for (i = 0; i < nsets; i++)
	{
		const QueryMap *m;

		repl[i] = NULL;
		if (strcmp(sets[i].name, "table") == 0 ||
			strcmp(sets[i].name, "select_field") == 0 ||
			strcmp(sets[i].name, "where_field") == 0)
			legacy = 1;
		if (strcmp(sets[i].name, "query") != 0)
			continue;
		queries++;
		m = lookup(postfix_map, sets[i].value.data, sets[i].value.len);
		if (m == NULL)
			sb_printf(&rw->report,
					  "%s:%d: query not recognised, left alone: %s\n",
					  fname, lines[sets[i].first].lineno, sets[i].value.data);
		else if (m->old != NULL)
		{
			repl[i] = m->new;
			sb_printf(&rw->report, "%s:%d: query rewritten: %s\n", fname,
					  lines[sets[i].first].lineno, m->what);
		}
	}
	if (queries == 0 && legacy)
		sb_printf(&rw->report,
				  "%s: uses table/select_field/where_field, not a query; left alone, write a vmm 0.6 query yourself\n",
				  fname);
	else if (queries == 0)
		sb_printf(&rw->report, "%s: no query setting, left alone\n", fname);
	if (strcmp(base, "pgsql-transport.cf") == 0)
		sb_printf(&rw->report,
				  "%s: vmm 0.6 names this file pgsql-transport_maps.cf; it keeps its name here (transport_maps in main.cf refers to it)\n",
				  fname);
	emit_with_replacements(lines, n, sets, repl, nsets,
						   cfg_default_eol(lines, n), 1, &rw->out);
	rw->changed = (rw->out.len != len ||
				   (len > 0 && memcmp(rw->out.data, buf, len) != 0));
	free(repl);
	free_settings(sets, nsets);
	free(lines);
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

/*
 * Rewrite password_query and user_query of a Dovecot SQL file held in
 * memory; quota selects dovecotquotauser() for the user query.  Returns
 * 0 or an exit code (malformed line).
 */
int
dovecot_rewrite(const char *fname, const char *buf, size_t len, int quota,
				Rewrite *rw, CfgError *err)
{
	SrcLine    *lines;
	size_t		n,
				nsets = 0,
				i;
	Setting    *sets = NULL;
	const char **repl;
	int			rc,
				seen_pw = 0,
				seen_user = 0;
	QueryMap	pw_map[3],
				user_map[4];

	rw->changed = 0;
	if (len > 0 && memchr(buf, '\0', len) != NULL)
	{
		cfg_set_error(err, CFG_EXIT_ERROR, fname, 0,
					  "binary data (NUL bytes), not a Dovecot SQL file");
		return err->code;
	}
	pw_map[0].old = DOVECOT_PASSWORD_OLD;
	pw_map[0].new = DOVECOT_PASSWORD_NEW;
	pw_map[0].what = "dovecot_password -> dovecotpassword()";
	pw_map[1].old = NULL;
	pw_map[1].new = DOVECOT_PASSWORD_NEW;
	pw_map[1].what = NULL;
	pw_map[2].old = pw_map[2].new = pw_map[2].what = NULL;
	user_map[0].old = DOVECOT_USER_OLD;
	user_map[0].new = quota ? DOVECOT_QUOTAUSER_NEW : DOVECOT_USER_NEW;
	user_map[0].what = quota ? "dovecot_user -> dovecotquotauser()" :
		"dovecot_user -> dovecotuser()";
	user_map[1].old = NULL;
	user_map[1].new = DOVECOT_USER_NEW;
	user_map[1].what = NULL;
	user_map[2].old = NULL;
	user_map[2].new = DOVECOT_QUOTAUSER_NEW;
	user_map[2].what = NULL;
	user_map[3].old = user_map[3].new = user_map[3].what = NULL;

	n = cfg_split_lines(buf, len, &lines);
	rc = dovecot_settings(fname, lines, n, &sets, &nsets, err);
	if (rc != 0)
	{
		free(lines);
		return rc;
	}
	repl = cfg_malloc((nsets + 1) * sizeof(char *));
	for (i = 0; i < nsets; i++)
	{
		const QueryMap *map,
				   *m;

		repl[i] = NULL;
		if (strcmp(sets[i].name, "password_query") == 0)
		{
			map = pw_map;
			seen_pw = 1;
		}
		else if (strcmp(sets[i].name, "user_query") == 0)
		{
			map = user_map;
			seen_user = 1;
		}
		else
			continue;
		m = lookup(map, sets[i].value.data, sets[i].value.len);
		if (m == NULL)
			sb_printf(&rw->report,
					  "%s:%d: %s not recognised, left alone: %s\n",
					  fname, lines[sets[i].first].lineno, sets[i].name,
					  sets[i].value.data);
		else if (m->old != NULL)
		{
			repl[i] = m->new;
			sb_printf(&rw->report, "%s:%d: %s rewritten: %s\n", fname,
					  lines[sets[i].first].lineno, sets[i].name, m->what);
		}
	}
	if (!seen_pw)
		sb_printf(&rw->report, "%s: no password_query setting\n", fname);
	if (!seen_user)
		sb_printf(&rw->report, "%s: no user_query setting\n", fname);
	emit_with_replacements(lines, n, sets, repl, nsets,
						   cfg_default_eol(lines, n), 0, &rw->out);
	rw->changed = (rw->out.len != len ||
				   (len > 0 && memcmp(rw->out.data, buf, len) != 0));
	free(repl);
	free_settings(sets, nsets);
	free(lines);
	return 0;
}
