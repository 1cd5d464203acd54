/*-------------------------------------------------------------------------
 *
 * cfg_vmmcfg.c
 *	  Upgrade vmm.cfg from the vmm 0.5.2 layout to the vmm 0.6 layout in
 *	  memory, keeping the admin's comments, blank lines and order.
 *
 * The file is read the way vmm reads it (Python's ConfigParser: "[name]"
 * headers, "name = value" or "name: value" options, "#" and ";" comment
 * lines, indented continuation lines, option names case-insensitive,
 * section names not), and modelled as a list of sections, each a list of
 * chunks.  A chunk is either one loose line (blank line, free-standing
 * comment) or an option entry: the comment lines directly above the
 * option, the option line and its continuation lines.  Renaming an option
 * edits only the name in its line; moving an option moves its whole
 * entry, so its comments travel with it.  Untouched lines are copied byte
 * for byte, line ends included.
 *
 * The facts (rename table, obsolete sections, options new in 0.6 and
 * their vmm 0.6.2 defaults, the order of vmm 0.6's sample file) are
 * restated in the tables below; see doc/vmm-cfg-upgrade.1.
 *
 * src/cfg/cfg_vmmcfg.c
 *
 *-------------------------------------------------------------------------
 */
#include "cfg_upgrade.h"
#include "dovecot_version.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOLINE ((size_t) -1)

/* line kinds */
#define LK_BLANK	0
#define LK_COMMENT	1
#define LK_SECTION	2
#define LK_OPTION	3
#define LK_CONT		4

/* chunk kinds */
#define CH_LOOSE	0
#define CH_ENTRY	1
#define CH_NEW		2

typedef struct LineInfo
{
	int			kind;
	size_t		name_off;		/* section or option name */
	size_t		name_len;
	size_t		value_off;		/* option: first byte of the value */
} LineInfo;

typedef struct Chunk
{
	int			kind;
	size_t		first;			/* source lines [first, last) */
	size_t		last;
	size_t		optline;		/* CH_ENTRY: the option line */
	char	   *lname;			/* lower-cased option name (owned) */
	const char *newname;		/* rename to this */
	char	   *newvalue;		/* replace the value by this (owned) */
	const char *extra_comment;	/* line to put above the option line */
	int			commented;		/* superseded duplicate: comment it out */
	const char *gen_comment;	/* CH_NEW: comment line */
	char	   *gen_value;		/* CH_NEW: value (owned) */
} Chunk;

typedef struct Section
{
	char	   *name;			/* NULL for the lines before any header */
	size_t		hdr_first;		/* first comment line above the header */
	size_t		hdr_line;		/* the header line, NOLINE if none */
	Chunk	   *chunks;
	size_t		nchunks;
	size_t		cap;
	int			removed;
	int			is_new;
} Section;

typedef struct Ctx
{
	const char *fname;
	SrcLine    *lines;
	size_t		nlines;
	LineInfo   *info;
	Section   **secs;			/* in output order */
	size_t		nsecs;
	size_t		capsecs;
	const char *eol;
	char	  **items;			/* "R   sec.opt = value" report lines */
	size_t		nitems;
	size_t		capitems;
	StrBuf		notes;
	/* emission state */
	StrBuf	   *out;
	int			emitted_any;
	int			last_blank;
	int			unterminated;
	int			need_blank;
} Ctx;

/* ----------------------------------------------------------------------
 * The facts about the two generations
 * ---------------------------------------------------------------------- */

/* section order of vmm 0.6's sample vmm.cfg; new sections go there */
static const char *const sec_order[] = {
	"database", "mailbox", "domain", "account", "bin", "misc", NULL
};

/* option order inside each section of vmm 0.6's sample vmm.cfg */
static const char *const opt_database[] = {
	"module", "host", "port", "sslmode", "user", "pass", "name", NULL
};
static const char *const opt_mailbox[] = {
	"format", "folders", "root", "subscribe", NULL
};
static const char *const opt_domain[] = {
	"auto_postmaster", "delete_directory", "directory_mode",
	"force_deletion", "smtp", "pop3", "imap", "sieve", "quota_bytes",
	"quota_messages", "transport", NULL
};
static const char *const opt_account[] = {
	"delete_directory", "directory_mode", "disk_usage", "random_password",
	"password_length", NULL
};
static const char *const opt_bin[] = {
	"dovecotpw", "du", "postconf", NULL
};
static const char *const opt_misc[] = {
	"base_directory", "crypt_blowfish_rounds", "crypt_sha256_rounds",
	"crypt_sha512_rounds", "dovecot_version", "password_scheme", NULL
};
static const char *const *const opt_order[] = {
	opt_database, opt_mailbox, opt_domain, opt_account, opt_bin, opt_misc
};

/* titles for the banner comment of a section we have to create */
static const char *const sec_title[] = {
	"database settings", "mailbox settings (new in vmm 0.6)",
	"domain settings (new in vmm 0.6)", "account settings (new in vmm 0.6)",
	"external binaries", "misc settings"
};

typedef struct Rename
{
	const char *sec;
	const char *opt;
	const char *nsec;
	const char *nopt;
} Rename;

/* vmm 0.5.2 -> 0.6 renames, from vmm 0.6's upgrade notes */
static const Rename renames[] = {
	{"domdir", "mode", "domain", "directory_mode"},
	{"domdir", "delete", "domain", "delete_directory"},
	{"domdir", "base", "misc", "base_directory"},
	{"maildir", "mode", "account", "directory_mode"},
	{"maildir", "diskusage", "account", "disk_usage"},
	{"maildir", "delete", "account", "delete_directory"},
	{"maildir", "folders", "mailbox", "folders"},
	{"maildir", "name", "mailbox", "root"},
	{"misc", "forcedel", "domain", "force_deletion"},
	{"misc", "transport", "domain", "transport"},
	{"misc", "passwdscheme", "misc", "password_scheme"},
	{"services", "smtp", "domain", "smtp"},
	{"services", "pop3", "domain", "pop3"},
	{"services", "imap", "domain", "imap"},
	{"services", "sieve", "domain", "sieve"},
	{NULL, NULL, NULL, NULL}
};

typedef struct NewOpt
{
	const char *sec;
	const char *opt;
	const char *value;
	const char *comment;
} NewOpt;

/* options new in vmm 0.6, with vmm 0.6.2's defaults */
static const NewOpt newopts[] = {
	{"database", "module", "psycopg2",
	"; Python database adapter: psycopg2 or pyPgSQL (String, new in vmm 0.6)"},
	{"database", "port", "5432",
	"; TCP port of the database server (Int, new in vmm 0.6)"},
	{"database", "sslmode", "prefer",
	"; SSL mode: disabled, allow, prefer, require, verify-ca or verify-full (String, new in vmm 0.6)"},
	{"mailbox", "format", "maildir",
	"; mailbox format: maildir, mdbox or sdbox (String, new in vmm 0.6)"},
	{"mailbox", "subscribe", "true",
	"; list the created folders in the subscriptions file (Boolean, new in vmm 0.6)"},
	{"domain", "auto_postmaster", "true",
	"; create postmaster@ with each new domain (Boolean, new in vmm 0.6)"},
	{"domain", "quota_bytes", "0",
	"; quota limit of new domains in bytes (suffix b, k, M or G), 0 = none (String, new in vmm 0.6)"},
	{"domain", "quota_messages", "0",
	"; quota limit of new domains in messages, 0 = none (Int, new in vmm 0.6)"},
	{"account", "random_password", "false",
	"; make up a password when useradd is given none (Boolean, new in vmm 0.6)"},
	{"account", "password_length", "8",
	"; length of made-up passwords (Int, new in vmm 0.6)"},
	{"misc", "crypt_blowfish_rounds", "5",
	"; rounds for the password scheme BLF-CRYPT (Int, new in vmm 0.6)"},
	{"misc", "crypt_sha256_rounds", "5000",
	"; rounds for the password scheme SHA256-CRYPT (Int, new in vmm 0.6)"},
	{"misc", "crypt_sha512_rounds", "5000",
	"; rounds for the password scheme SHA512-CRYPT (Int, new in vmm 0.6)"},
	{NULL, NULL, NULL, NULL}
};

/* sections vmm 0.6 no longer has */
static const char *const obsolete_sections[] = {
	"domdir", "maildir", "services", "config", NULL
};

#define STOCK_DOVECOTPW "/usr/sbin/dovecotpw"
#define FALLBACK_VERSION "1.2.11"

/* ----------------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------------- */

/* Python's str.isspace() for ASCII: what ConfigParser strips. */
static int
py_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
		c == '\f';
}

/* Index of s in a NULL-terminated list, or -1; used for all the tables. */
static int
list_index(const char *const *list, const char *s)
{
	int			i;

	for (i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], s) == 0)
			return i;
	return -1;
}

/*
 * Position of option opt in vmm 0.6's order for section sec, or -1.  The
 * two misc options renamed in place count under their new names, so that
 * options moved into misc before the renames land in the right place.
 */
static int
opt_index(const char *sec, const char *opt)
{
	int			s = list_index(sec_order, sec);

	if (s < 0 || opt == NULL)
		return -1;
	if (strcmp(sec, "misc") == 0 && strcmp(opt, "dovecotvers") == 0)
		opt = "dovecot_version";
	else if (strcmp(sec, "misc") == 0 && strcmp(opt, "passwdscheme") == 0)
		opt = "password_scheme";
	return list_index(opt_order[s], opt);
}

/* The name a chunk will carry in the output. */
static const char *
chunk_name(const Chunk *ch)
{
	return ch->newname ? ch->newname : ch->lname;
}

/*
 * The value of an option entry as ConfigParser sees it: the first line's
 * value and each continuation line, stripped, joined by newlines.  Used
 * to compare an old option with an already present new one.
 */
static void
entry_value(const Ctx *c, const Chunk *ch, StrBuf *out)
{
	size_t		l;

	out->len = 0;
	sb_append(out, "", 0);
	if (ch->kind == CH_NEW)
	{
		sb_puts(out, ch->gen_value);
		return;
	}
	if (ch->newvalue)
	{
		sb_puts(out, ch->newvalue);
		return;
	}
	for (l = ch->optline; l < ch->last; l++)
	{
		const char *t = c->lines[l].text;
		size_t		a,
					b = c->lines[l].len;

		if (l == ch->optline)
			a = c->info[l].value_off;
		else if (c->info[l].kind == LK_CONT)
		{
			a = 0;
			sb_append(out, "\n", 1);
		}
		else
			continue;
		while (a < b && py_space(t[a]))
			a++;
		while (b > a && py_space(t[b - 1]))
			b--;
		sb_append(out, t + a, b - a);
	}
}

/* Queue one "R|M|N   section.option = value" report line. */
static void
add_item(Ctx *c, char status, const char *sec, const char *opt,
		 const char *value)
{
	StrBuf		sb;
	const char *nl;

	sb_init(&sb);
	nl = strchr(value, '\n');
	sb_printf(&sb, "%c   %s.%s = ", status, sec, opt);
	if (nl)
	{
		sb_append(&sb, value, (size_t) (nl - value));
		sb_puts(&sb, " ...");
	}
	else
		sb_puts(&sb, value);
	if (c->nitems == c->capitems)
	{
		c->capitems = c->capitems ? c->capitems * 2 : 16;
		c->items = cfg_realloc(c->items, c->capitems * sizeof(char *));
	}
	c->items[c->nitems++] = sb.data;
}

/* qsort comparator: report lines sorted by "section.option", as vmm did */
static int
item_cmp(const void *a, const void *b)
{
	const char *x = *(char *const *) a;
	const char *y = *(char *const *) b;

	return strcmp(x + 4, y + 4);
}

/* ----------------------------------------------------------------------
 * Parsing
 * ---------------------------------------------------------------------- */

/*
 * Classify every line as ConfigParser would, and reject what it would
 * reject (or read differently from what the text suggests), so that we
 * never rewrite a file we misunderstand.  Returns 0 or an exit code.
 */
static int
classify(Ctx *c, CfgError *err)
{
	size_t		i;
	int			in_section = 0,
				have_option = 0;

	for (i = 0; i < c->nlines; i++)
	{
		const char *t = c->lines[i].text;
		size_t		n = c->lines[i].len,
					k;
		LineInfo   *li = &c->info[i];
		int			ln = c->lines[i].lineno;

		memset(li, 0, sizeof(*li));
		for (k = 0; k < n && py_space(t[k]); k++)
			;
		if (k == n)
		{
			li->kind = LK_BLANK;
			continue;
		}
		if (t[k] == '#' || t[k] == ';')
		{
			li->kind = LK_COMMENT;
			continue;
		}
		if (k > 0)
		{
			if (!have_option)
			{
				cfg_set_error(err, CFG_EXIT_ERROR, c->fname, ln,
							  "indented line outside of an option value");
				return err->code;
			}
			li->kind = LK_CONT;
			continue;
		}
		if (t[0] == '[')
		{
			const char *close = memchr(t + 1, ']', n - 1);

			if (close == NULL || close == t + 1)
			{
				cfg_set_error(err, CFG_EXIT_ERROR, c->fname, ln,
							  "malformed section header");
				return err->code;
			}
			if (memchr(close + 1, ']', (size_t) (t + n - close - 1)) != NULL)
			{
				cfg_set_error(err, CFG_EXIT_ERROR, c->fname, ln,
							  "ambiguous section header (more than one ']')");
				return err->code;
			}
			li->kind = LK_SECTION;
			li->name_off = 1;
			li->name_len = (size_t) (close - t) - 1;
			in_section = 1;
			have_option = 0;
			continue;
		}
		for (k = 0; k < n && t[k] != '=' && t[k] != ':'; k++)
			;
		if (k == n)
		{
			cfg_set_error(err, CFG_EXIT_ERROR, c->fname, ln,
						  "expected \"[section]\", \"name = value\" or a comment");
			return err->code;
		}
		if (k == 0)
		{
			cfg_set_error(err, CFG_EXIT_ERROR, c->fname, ln,
						  "option without a name");
			return err->code;
		}
		if (!in_section)
		{
			cfg_set_error(err, CFG_EXIT_ERROR, c->fname, ln,
						  "option before the first [section] header");
			return err->code;
		}
		li->kind = LK_OPTION;
		li->name_off = 0;
		li->name_len = k;
		while (li->name_len > 0 && py_space(t[li->name_len - 1]))
			li->name_len--;
		li->value_off = k + 1;
		while (li->value_off < n && py_space(t[li->value_off]))
			li->value_off++;
		have_option = 1;
	}
	return 0;
}

/* Append a new empty section to the output order (or at position pos). */
static Section *
new_section(Ctx *c, const char *name, size_t namelen, size_t pos)
{
	Section    *s = cfg_malloc(sizeof(Section));

	memset(s, 0, sizeof(*s));
	s->name = name ? cfg_strndup(name, namelen) : NULL;
	s->hdr_first = NOLINE;
	s->hdr_line = NOLINE;
	if (c->nsecs == c->capsecs)
	{
		c->capsecs = c->capsecs ? c->capsecs * 2 : 16;
		c->secs = cfg_realloc(c->secs, c->capsecs * sizeof(Section *));
	}
	if (pos > c->nsecs)
		pos = c->nsecs;
	memmove(&c->secs[pos + 1], &c->secs[pos],
			(c->nsecs - pos) * sizeof(Section *));
	c->secs[pos] = s;
	c->nsecs++;
	return s;
}

/* Insert a chunk into a section at position pos. */
static void
insert_chunk(Section *s, size_t pos, const Chunk *ch)
{
	if (s->nchunks == s->cap)
	{
		s->cap = s->cap ? s->cap * 2 : 8;
		s->chunks = cfg_realloc(s->chunks, s->cap * sizeof(Chunk));
	}
	if (pos > s->nchunks)
		pos = s->nchunks;
	memmove(&s->chunks[pos + 1], &s->chunks[pos],
			(s->nchunks - pos) * sizeof(Chunk));
	s->chunks[pos] = *ch;
	s->nchunks++;
}

/* Take the chunk at pos out of a section (ownership passes to caller). */
static Chunk
take_chunk(Section *s, size_t pos)
{
	Chunk		ch = s->chunks[pos];

	memmove(&s->chunks[pos], &s->chunks[pos + 1],
			(s->nchunks - pos - 1) * sizeof(Chunk));
	s->nchunks--;
	return ch;
}

/* Free what a chunk owns. */
static void
free_chunk(Chunk *ch)
{
	free(ch->lname);
	free(ch->newvalue);
	free(ch->gen_value);
}

/* Add loose lines [a, b) to a section. */
static void
add_loose(Section *s, size_t a, size_t b)
{
	size_t		i;

	for (i = a; i < b; i++)
	{
		Chunk		ch;

		memset(&ch, 0, sizeof(ch));
		ch.kind = CH_LOOSE;
		ch.first = i;
		ch.last = i + 1;
		ch.optline = NOLINE;
		insert_chunk(s, s->nchunks, &ch);
	}
}

/*
 * Cut the body lines [a, b) of a section into chunks: an option entry
 * takes the comment lines directly above it and its continuation lines
 * (with any blank or comment lines between them); everything else is
 * loose.
 */
static void
build_chunks(Ctx *c, Section *s, size_t a, size_t b)
{
	size_t		i = a;

	while (i < b)
	{
		size_t		k = i,
					j,
					lastcont;
		Chunk		ch;

		while (k < b && c->info[k].kind == LK_COMMENT)
			k++;
		if (k == b || c->info[k].kind != LK_OPTION)
		{
			/* comments not followed by an option, or a blank line */
			if (k == i)
				k++;
			add_loose(s, i, k);
			i = k;
			continue;
		}
		lastcont = k;
		for (j = k + 1; j < b; j++)
		{
			int			kind = c->info[j].kind;

			if (kind == LK_CONT)
				lastcont = j;
			else if (kind != LK_BLANK && kind != LK_COMMENT)
				break;
		}
		memset(&ch, 0, sizeof(ch));
		ch.kind = CH_ENTRY;
		ch.first = i;
		ch.optline = k;
		ch.last = lastcont + 1;
		ch.lname = cfg_strndup(c->lines[k].text + c->info[k].name_off,
							   c->info[k].name_len);
		for (j = 0; ch.lname[j]; j++)
			ch.lname[j] = (char) tolower((unsigned char) ch.lname[j]);
		insert_chunk(s, s->nchunks, &ch);
		i = ch.last;
	}
}

/* Build the section list from the classified lines. */
static void
build_sections(Ctx *c)
{
	size_t		i,
				body_start = 0;
	Section    *cur = new_section(c, NULL, 0, 0);

	cur->hdr_first = 0;
	for (i = 0; i <= c->nlines; i++)
	{
		size_t		h;
		Section    *s;

		if (i < c->nlines && c->info[i].kind != LK_SECTION)
			continue;
		/* the comment lines directly above a header belong to it */
		h = i;
		while (i < c->nlines && h > body_start &&
			   c->info[h - 1].kind == LK_COMMENT)
			h--;
		if (cur->name == NULL)
			add_loose(cur, body_start, h);
		else
			build_chunks(c, cur, body_start, h);
		if (i == c->nlines)
			break;
		s = new_section(c, c->lines[i].text + c->info[i].name_off,
						c->info[i].name_len, c->nsecs);
		s->hdr_first = h;
		s->hdr_line = i;
		cur = s;
		body_start = i + 1;
	}
}

/* ----------------------------------------------------------------------
 * Looking things up
 * ---------------------------------------------------------------------- */

/* The first live section with this exact name, or NULL. */
static Section *
find_section(Ctx *c, const char *name)
{
	size_t		i;

	for (i = 0; i < c->nsecs; i++)
		if (!c->secs[i]->removed && c->secs[i]->name &&
			strcmp(c->secs[i]->name, name) == 0)
			return c->secs[i];
	return NULL;
}

/* Index of the live (not commented out) option entry named opt, or -1. */
static long
find_opt(Section *s, const char *opt)
{
	size_t		i;
	long		found = -1;

	if (s == NULL)
		return -1;
	for (i = 0; i < s->nchunks; i++)
	{
		Chunk	   *ch = &s->chunks[i];

		if (ch->kind != CH_LOOSE && !ch->commented &&
			strcmp(chunk_name(ch), opt) == 0)
			found = (long) i;
	}
	return found;
}

/* Does the named section hold the named live option? */
static int
has_opt(Ctx *c, const char *sec, const char *opt)
{
	return find_opt(find_section(c, sec), opt) >= 0;
}

/*
 * Which generation is this file?  Any 0.5.2-only section or option makes
 * it a 0.5.2 file (perhaps partly edited by hand already); otherwise any
 * 0.6-only one makes it 0.6; a file with neither is not a vmm.cfg we know.
 */
static int
detect_generation(Ctx *c)
{
	static const char *const old_misc[] = {
		"passwdscheme", "gid_mail", "forcedel", "transport", "dovecotvers",
		NULL
	};
	static const char *const new_misc[] = {
		"dovecot_version", "password_scheme", "base_directory",
		"crypt_blowfish_rounds", "crypt_sha256_rounds", "crypt_sha512_rounds",
		NULL
	};
	static const char *const new_secs[] = {
		"domain", "account", "mailbox", NULL
	};
	int			old = 0,
				new = 0;
	size_t		i,
				j;

	for (i = 0; i < c->nsecs; i++)
	{
		Section    *s = c->secs[i];

		if (s->name == NULL)
			continue;
		if (list_index(obsolete_sections, s->name) >= 0)
			old = 1;
		if (list_index(new_secs, s->name) >= 0)
			new = 1;
		if (strcmp(s->name, "misc") != 0)
			continue;
		for (j = 0; j < s->nchunks; j++)
		{
			if (s->chunks[j].kind != CH_ENTRY)
				continue;
			if (list_index(old_misc, s->chunks[j].lname) >= 0)
				old = 1;
			if (list_index(new_misc, s->chunks[j].lname) >= 0)
				new = 1;
		}
	}
	if (old)
		return CFG_GEN_052;
	if (new)
		return CFG_GEN_06;
	return CFG_GEN_UNKNOWN;
}

/* ----------------------------------------------------------------------
 * Transformations
 * ---------------------------------------------------------------------- */

/*
 * ConfigParser merges sections of the same name, and Python 3's strict
 * reader (and vmm 0.6's own check) rejects them, so a repeated section's
 * body is appended to the first one and its header line dropped.
 */
static void
merge_duplicate_sections(Ctx *c)
{
	size_t		i,
				j,
				k;

	for (i = 0; i < c->nsecs; i++)
	{
		Section    *first = c->secs[i];

		if (first->name == NULL || first->removed)
			continue;
		for (j = i + 1; j < c->nsecs; j++)
		{
			Section    *dup = c->secs[j];

			if (dup->name == NULL || dup->removed ||
				strcmp(dup->name, first->name) != 0)
				continue;
			add_loose(first, dup->hdr_first, dup->hdr_line);
			for (k = 0; k < dup->nchunks; k++)
				insert_chunk(first, first->nchunks, &dup->chunks[k]);
			dup->nchunks = 0;
			dup->removed = 1;
			sb_printf(&c->notes,
					  "Merged the repeated section [%s] at line %d into the one at line %d\n",
					  first->name, c->lines[dup->hdr_line].lineno,
					  c->lines[first->hdr_line].lineno);
		}
	}
}

/*
 * Within a section, ConfigParser keeps the last of several same-named
 * options; we keep that one and comment out the earlier ones, so the file
 * means what it meant to vmm and still loads in a strict reader.
 */
static void
comment_duplicate_options(Ctx *c)
{
	size_t		i,
				j,
				k;

	for (i = 0; i < c->nsecs; i++)
	{
		Section    *s = c->secs[i];

		if (s->removed)
			continue;
		for (j = 0; j < s->nchunks; j++)
		{
			Chunk	   *a = &s->chunks[j];

			if (a->kind != CH_ENTRY || a->commented)
				continue;
			for (k = j + 1; k < s->nchunks; k++)
			{
				Chunk	   *b = &s->chunks[k];

				if (b->kind == CH_ENTRY && strcmp(a->lname, b->lname) == 0)
				{
					a->commented = 1;
					sb_printf(&c->notes,
							  "Commented out %s.%s at line %d: line %d sets it again, and vmm used that one\n",
							  s->name, a->lname, c->lines[a->optline].lineno,
							  c->lines[b->optline].lineno);
					break;
				}
			}
		}
	}
}

/*
 * Find or create a section that vmm 0.6 has.  A new one goes where vmm
 * 0.6's sample file has it: after the nearest earlier section of the
 * sample that the file has, else before the first such later one, else
 * at the end.
 */
static Section *
get_section(Ctx *c, const char *name)
{
	Section    *s = find_section(c, name);
	int			want = list_index(sec_order, name);
	size_t		i,
				pos;
	int			best = -1;

	if (s != NULL)
		return s;
	pos = c->nsecs;
	for (i = 0; i < c->nsecs; i++)
	{
		Section    *t = c->secs[i];
		int			k;

		if (t->removed || t->name == NULL)
			continue;
		k = list_index(sec_order, t->name);
		if (k >= 0 && k < want && k >= best)
		{
			best = k;
			pos = i + 1;
		}
	}
	if (best < 0)
	{
		for (i = 0; i < c->nsecs; i++)
		{
			Section    *t = c->secs[i];
			int			k;

			if (t->removed || t->name == NULL)
				continue;
			k = list_index(sec_order, t->name);
			if (k > want)
			{
				pos = i;
				break;
			}
		}
	}
	s = new_section(c, name, strlen(name), pos);
	s->is_new = 1;
	return s;
}

/*
 * Put an option chunk into a section at the place vmm 0.6's sample would
 * have it: after the live option that comes last before it in the
 * sample order, else before the first option we know, else after the
 * last option (ahead of the trailing blank lines).
 */
static void
place_chunk(Ctx *c, Section *s, Chunk *ch)
{
	int			want = opt_index(s->name, chunk_name(ch));
	long		best = -1,
				first_known = -1,
				last_opt = -1;
	int			bestk = -1;
	size_t		i,
				pos;

	(void) c;
	for (i = 0; i < s->nchunks; i++)
	{
		Chunk	   *t = &s->chunks[i];
		int			k;

		if (t->kind == CH_LOOSE || t->commented)
			continue;
		last_opt = (long) i;
		k = opt_index(s->name, chunk_name(t));
		if (k < 0)
			continue;
		if (first_known < 0)
			first_known = (long) i;
		if (want >= 0 && k < want && k >= bestk)
		{
			bestk = k;
			best = (long) i;
		}
	}
	if (best >= 0)
		pos = (size_t) best + 1;
	else if (want >= 0 && first_known >= 0)
		pos = (size_t) first_known;
	else if (last_opt >= 0)
		pos = (size_t) last_opt + 1;
	else
	{
		pos = s->nchunks;
		while (pos > 0 && s->chunks[pos - 1].kind == CH_LOOSE &&
			   c->info[s->chunks[pos - 1].first].kind == LK_BLANK)
			pos--;
	}
	insert_chunk(s, pos, ch);
}

/*
 * Carry out one rename of the table.  If the new name is already set
 * (a file partly upgraded by hand) and agrees, the old option just goes;
 * if it disagrees we stop rather than guess which one the admin meant.
 */
static int
apply_rename(Ctx *c, const Rename *r, CfgError *err)
{
	Section    *src = find_section(c, r->sec);
	long		si = find_opt(src, r->opt);
	Section    *dst;
	long		di;
	Chunk		ch;
	StrBuf		v;

	if (si < 0)
		return 0;
	dst = find_section(c, r->nsec);
	di = find_opt(dst, r->nopt);
	sb_init(&v);
	entry_value(c, &src->chunks[si], &v);
	if (di >= 0)
	{
		StrBuf		w;
		int			same;

		sb_init(&w);
		entry_value(c, &dst->chunks[di], &w);
		same = strcmp(v.data, w.data) == 0;
		if (!same)
		{
			cfg_set_error(err, CFG_EXIT_ERROR, c->fname,
						  c->lines[src->chunks[si].optline].lineno,
						  "%s.%s = %s conflicts with %s.%s = %s at line %d; remove one of them",
						  r->sec, r->opt, v.data, r->nsec, r->nopt, w.data,
						  c->lines[dst->chunks[di].optline].lineno);
			sb_free(&v);
			sb_free(&w);
			return err->code;
		}
		sb_free(&w);
		sb_printf(&c->notes,
				  "Removed option \"%s\" from section \"%s\" (%s.%s already has its value)\n",
				  r->opt, r->sec, r->nsec, r->nopt);
		ch = take_chunk(src, (size_t) si);
		free_chunk(&ch);
		sb_free(&v);
		return 0;
	}
	src->chunks[si].newname = r->nopt;
	add_item(c, 'R', r->nsec, r->nopt, v.data);
	sb_free(&v);
	if (strcmp(r->sec, r->nsec) == 0)
		return 0;				/* renamed in place */
	ch = take_chunk(src, (size_t) si);
	dst = get_section(c, r->nsec);
	place_chunk(c, dst, &ch);
	return 0;
}

/* Add a generated "name = value" option with a comment line above it. */
static void
add_generated(Ctx *c, const char *sec, const char *opt, const char *value,
			  const char *comment, char status)
{
	Chunk		ch;

	memset(&ch, 0, sizeof(ch));
	ch.kind = CH_NEW;
	ch.optline = NOLINE;
	ch.lname = cfg_strndup(opt, strlen(opt));
	ch.gen_value = cfg_strndup(value, strlen(value));
	ch.gen_comment = comment;
	place_chunk(c, get_section(c, sec), &ch);
	add_item(c, status, sec, opt, value);
}

/* Drop a live option, for the ones vmm 0.6 has no use for. */
static void
drop_option(Ctx *c, const char *sec, const char *opt)
{
	Section    *s = find_section(c, sec);
	long		i = find_opt(s, opt);
	Chunk		ch;

	if (i < 0)
		return;
	ch = take_chunk(s, (size_t) i);
	free_chunk(&ch);
	sb_printf(&c->notes, "Removed option \"%s\" from section \"%s\" (obsolete)\n",
			  opt, sec);
}

/*
 * Map vmm 0.5.2's misc.dovecotvers (major and minor digits) to a full
 * version: 12 is 1.2.11 as vmm's upgrade notes say; 10 and 11 become the
 * last releases of those series (1.0.15, 1.1.20), 2N becomes 2.N.0 (the
 * first release; everything vmm 0.6 switches on by version is older).
 */
static int
map_dovecotvers(const char *v, char *out, size_t outsize)
{
	if (strcmp(v, "10") == 0)
		snprintf(out, outsize, "1.0.15");
	else if (strcmp(v, "11") == 0)
		snprintf(out, outsize, "1.1.20");
	else if (strcmp(v, "12") == 0)
		snprintf(out, outsize, "1.2.11");
	else if (v[0] == '2' && isdigit((unsigned char) v[1]) && v[2] == '\0')
		snprintf(out, outsize, "2.%c.0", v[1]);
	else
		return 0;
	return 1;
}

/*
 * Work out misc.dovecot_version and set it; also point bin.dovecotpw at
 * doveadm for Dovecot 2.  Order: --dovecot-version, then the installed
 * Dovecot, then an existing misc.dovecot_version, then dovecotvers.
 */
static int
set_dovecot_version(Ctx *c, const UpgradeOpts *opts, CfgError *err)
{
	char		ver[128];
	int			from_system = 0;
	Section    *misc = find_section(c, "misc");
	long		oi = find_opt(misc, "dovecotvers");
	long		ni = find_opt(misc, "dovecot_version");
	StrBuf		v;
	DovecotVersion dv;

	sb_init(&v);
	ver[0] = '\0';
	if (opts->version)
	{
		snprintf(ver, sizeof(ver), "%s", opts->version);
		from_system = 1;
	}
	else if (opts->probe)
	{
		int			r = opts->probe(opts->probe_ctx, ver, sizeof(ver), err);

		if (r < 0)
			return err->code;
		from_system = (r > 0);
		if (!from_system)
			ver[0] = '\0';
	}
	if (!from_system && ni >= 0)
	{
		entry_value(c, &misc->chunks[ni], &v);
		snprintf(ver, sizeof(ver), "%s", v.data);
	}
	else if (!from_system && oi >= 0)
	{
		entry_value(c, &misc->chunks[oi], &v);
		if (!map_dovecotvers(v.data, ver, sizeof(ver)))
		{
			cfg_set_error(err, CFG_EXIT_ERROR, c->fname,
						  c->lines[misc->chunks[oi].optline].lineno,
						  "cannot tell the Dovecot version from dovecotvers = %s; give --dovecot-version",
						  v.data);
			sb_free(&v);
			return err->code;
		}
		sb_printf(&c->notes,
				  "Dovecot version %s derived from dovecotvers = %s; give --dovecot-version if it is not right\n",
				  ver, v.data);
	}
	else if (!from_system)
	{
		snprintf(ver, sizeof(ver), "%s", FALLBACK_VERSION);
		sb_printf(&c->notes,
				  "Dovecot version %s assumed (no dovecotvers, no Dovecot found); give --dovecot-version if it is not right\n",
				  ver);
	}
	sb_free(&v);

	if (ni >= 0)
	{
		/* already there (hand-edited file): update it only if we know */
		if (oi >= 0)
		{
			Chunk		ch = take_chunk(misc, (size_t) oi);

			free_chunk(&ch);
			sb_printf(&c->notes,
					  "Removed option \"dovecotvers\" from section \"misc\" (misc.dovecot_version is set)\n");
			ni = find_opt(misc, "dovecot_version");
		}
		sb_init(&v);
		entry_value(c, &misc->chunks[ni], &v);
		if (from_system && strcmp(v.data, ver) != 0)
		{
			Chunk	   *ch = &misc->chunks[ni];

			if (ch->kind == CH_NEW)
			{
				free(ch->gen_value);
				ch->gen_value = cfg_strndup(ver, strlen(ver));
			}
			else
			{
				free(ch->newvalue);
				ch->newvalue = cfg_strndup(ver, strlen(ver));
			}
			add_item(c, 'M', "misc", "dovecot_version", ver);
		}
		sb_free(&v);
	}
	else if (oi >= 0)
	{
		Chunk	   *ch = &misc->chunks[oi];

		ch->newname = "dovecot_version";
		ch->newvalue = cfg_strndup(ver, strlen(ver));
		ch->extra_comment = "; the version printed by \"dovecot --version\", e.g. 1.2.11 or 2.0.21 (String, vmm 0.6)";
		add_item(c, 'M', "misc", "dovecot_version", ver);
	}
	else
		add_generated(c, "misc", "dovecot_version", ver,
					  "; the version printed by \"dovecot --version\", e.g. 1.2.11 or 2.0.21 (String, new in vmm 0.6)",
					  'N');

	/* Dovecot 2 has doveadm instead of dovecotpw */
	dovecot_version_parse(ver, &dv);
	if (dv.at_least_2)
	{
		Section    *bin = find_section(c, "bin");
		long		bi = find_opt(bin, "dovecotpw");
		const char *doveadm = opts->doveadm ? opts->doveadm : "/usr/bin/doveadm";

		if (bi < 0)
			add_generated(c, "bin", "dovecotpw", doveadm,
						  "; location of doveadm, which Dovecot 2 has instead of dovecotpw (String)",
						  'N');
		else
		{
			sb_init(&v);
			entry_value(c, &bin->chunks[bi], &v);
			if (strcmp(v.data, STOCK_DOVECOTPW) == 0)
			{
				Chunk	   *ch = &bin->chunks[bi];

				if (ch->kind == CH_NEW)
				{
					free(ch->gen_value);
					ch->gen_value = cfg_strndup(doveadm, strlen(doveadm));
				}
				else
				{
					free(ch->newvalue);
					ch->newvalue = cfg_strndup(doveadm, strlen(doveadm));
				}
				add_item(c, 'M', "bin", "dovecotpw", doveadm);
			}
			else if (strstr(v.data, "doveadm") == NULL)
				sb_printf(&c->notes,
						  "Warning: bin.dovecotpw = %s, but Dovecot %s has no dovecotpw; point it at doveadm\n",
						  v.data, ver);
			sb_free(&v);
		}
	}
	return 0;
}

/*
 * An obsolete section goes once everything in it has moved; if it still
 * holds options we do not know, it stays (vmm 0.6 ignores it) and we say
 * so, rather than throw the admin's settings away.
 */
static void
remove_obsolete_sections(Ctx *c)
{
	size_t		i,
				j;

	for (i = 0; i < c->nsecs; i++)
	{
		Section    *s = c->secs[i];
		int			live = 0;

		if (s->removed || s->name == NULL ||
			list_index(obsolete_sections, s->name) < 0)
			continue;
		for (j = 0; j < s->nchunks; j++)
			if (s->chunks[j].kind != CH_LOOSE && !s->chunks[j].commented)
				live = 1;
		if (live)
		{
			sb_printf(&c->notes,
					  "Kept section \"%s\": it still holds options vmm-cfg-upgrade does not know:",
					  s->name);
			for (j = 0; j < s->nchunks; j++)
				if (s->chunks[j].kind != CH_LOOSE && !s->chunks[j].commented)
					sb_printf(&c->notes, " %s", s->chunks[j].lname);
			sb_puts(&c->notes, "\n");
			continue;
		}
		s->removed = 1;
		sb_printf(&c->notes, "Removed section \"%s\" (obsolete)\n", s->name);
	}
}

/*
 * vmm 0.5.2 read vmm.cfg with ConfigParser, which expands "%(name)s" in a
 * value that contains "%("; vmm 0.6 reads it raw.  Such a value (a
 * password, most likely) would change meaning, so say so; it is not
 * rewritten, because we cannot know which of the two the admin wants.
 */
static void
warn_interpolation(Ctx *c)
{
	size_t		i,
				j;
	StrBuf		v;

	sb_init(&v);
	for (i = 0; i < c->nsecs; i++)
	{
		Section    *s = c->secs[i];

		if (s->removed || s->name == NULL)
			continue;
		for (j = 0; j < s->nchunks; j++)
		{
			Chunk	   *ch = &s->chunks[j];

			if (ch->kind != CH_ENTRY || ch->commented)
				continue;
			entry_value(c, ch, &v);
			if (strstr(v.data, "%(") != NULL)
				sb_printf(&c->notes,
						  "Warning: %s.%s (line %d) contains \"%%(\": vmm 0.5.2 expanded it, vmm 0.6 reads it as it is\n",
						  s->name, chunk_name(ch),
						  c->lines[ch->optline].lineno);
		}
	}
	sb_free(&v);
}

/* ----------------------------------------------------------------------
 * Output
 * ---------------------------------------------------------------------- */

/* Emit one line, terminating a previously unterminated last line first. */
static void
emit(Ctx *c, const char *text, size_t len, const char *eol)
{
	size_t		k;

	if (c->unterminated)
		sb_puts(c->out, c->eol);
	sb_append(c->out, text, len);
	if (eol[0] == '\0')
		c->unterminated = 1;
	else
	{
		sb_puts(c->out, eol);
		c->unterminated = 0;
	}
	for (k = 0; k < len && py_space(text[k]); k++)
		;
	c->last_blank = (k == len);
	c->emitted_any = 1;
}

/* Emit a generated line with the file's line end. */
static void
emit_gen(Ctx *c, const char *text)
{
	emit(c, text, strlen(text), c->eol);
}

/* Emit a source line unchanged. */
static void
emit_src(Ctx *c, size_t l)
{
	emit(c, c->lines[l].text, c->lines[l].len, c->lines[l].eol);
}

/* Keep a blank line between a new section and what follows it. */
static void
blank_if_needed(Ctx *c, int next_is_blank)
{
	if (c->need_blank && !next_is_blank && !c->last_blank)
		emit_gen(c, "");
	c->need_blank = 0;
}

/* Emit an option line with its name and/or value replaced. */
static void
emit_option_line(Ctx *c, const Chunk *ch)
{
	const SrcLine *l = &c->lines[ch->optline];
	const LineInfo *li = &c->info[ch->optline];
	StrBuf		sb;

	sb_init(&sb);
	if (ch->newname)
		sb_puts(&sb, ch->newname);
	else
		sb_append(&sb, l->text, li->name_len);
	if (ch->newvalue)
	{
		sb_append(&sb, l->text + li->name_len, li->value_off - li->name_len);
		sb_puts(&sb, ch->newvalue);
	}
	else
		sb_append(&sb, l->text + li->name_len, l->len - li->name_len);
	emit(c, sb.data, sb.len, l->eol);
	sb_free(&sb);
}

/* Emit one chunk. */
static void
emit_chunk(Ctx *c, const Chunk *ch)
{
	size_t		l;

	if (ch->kind == CH_NEW)
	{
		StrBuf		sb;

		blank_if_needed(c, 0);
		sb_init(&sb);
		sb_printf(&sb, "%s = %s", ch->lname, ch->gen_value);
		emit_gen(c, ch->gen_comment);
		emit(c, sb.data, sb.len, c->eol);
		sb_free(&sb);
		return;
	}
	blank_if_needed(c, c->info[ch->first].kind == LK_BLANK);
	for (l = ch->first; l < ch->last; l++)
	{
		if (ch->kind == CH_ENTRY && l == ch->optline)
		{
			if (ch->extra_comment && !ch->commented)
				emit_gen(c, ch->extra_comment);
			if (ch->commented)
			{
				StrBuf		sb;

				sb_init(&sb);
				sb_puts(&sb, "; ");
				sb_append(&sb, c->lines[l].text, c->lines[l].len);
				emit(c, sb.data, sb.len, c->lines[l].eol);
				sb_free(&sb);
			}
			else if (ch->newname || ch->newvalue)
				emit_option_line(c, ch);
			else
				emit_src(c, l);
		}
		else if (ch->kind == CH_ENTRY && c->info[l].kind == LK_CONT)
		{
			if (ch->commented)
			{
				StrBuf		sb;

				sb_init(&sb);
				sb_puts(&sb, ";");
				sb_append(&sb, c->lines[l].text, c->lines[l].len);
				emit(c, sb.data, sb.len, c->lines[l].eol);
				sb_free(&sb);
			}
			else if (!ch->newvalue)
				emit_src(c, l);
		}
		else
			emit_src(c, l);
	}
}

/* Write the whole model out. */
static void
emit_all(Ctx *c)
{
	size_t		i,
				j;

	for (i = 0; i < c->nsecs; i++)
	{
		Section    *s = c->secs[i];

		if (s->removed)
			continue;
		if (s->is_new)
		{
			StrBuf		sb;
			int			k = list_index(sec_order, s->name);

			c->need_blank = 0;
			if (c->emitted_any && !c->last_blank)
				emit_gen(c, "");
			sb_init(&sb);
			emit_gen(c, "#");
			sb_printf(&sb, "# %s", k >= 0 ? sec_title[k] : s->name);
			emit_gen(c, sb.data);
			emit_gen(c, "#");
			sb.len = 0;
			sb_printf(&sb, "[%s]", s->name);
			emit_gen(c, sb.data);
			sb_free(&sb);
			for (j = 0; j < s->nchunks; j++)
				emit_chunk(c, &s->chunks[j]);
			c->need_blank = 1;
			continue;
		}
		if (s->hdr_line != NOLINE)
		{
			size_t		l;

			blank_if_needed(c, s->hdr_first < s->hdr_line &&
							c->info[s->hdr_first].kind == LK_BLANK);
			for (l = s->hdr_first; l <= s->hdr_line; l++)
				emit_src(c, l);
		}
		for (j = 0; j < s->nchunks; j++)
			emit_chunk(c, &s->chunks[j]);
	}
}

/* Free the model. */
static void
free_ctx(Ctx *c)
{
	size_t		i,
				j;

	for (i = 0; i < c->nsecs; i++)
	{
		for (j = 0; j < c->secs[i]->nchunks; j++)
			free_chunk(&c->secs[i]->chunks[j]);
		free(c->secs[i]->chunks);
		free(c->secs[i]->name);
		free(c->secs[i]);
	}
	free(c->secs);
	for (i = 0; i < c->nitems; i++)
		free(c->items[i]);
	free(c->items);
	free(c->lines);
	free(c->info);
	sb_free(&c->notes);
}

/*
 * Upgrade one vmm.cfg held in memory.  Returns 0 (rw->changed tells
 * whether anything changes; a 0.6 file is returned unchanged) or an exit
 * code with err set: CFG_EXIT_UNKNOWN for a file of no known generation,
 * CFG_EXIT_ERROR for a malformed line or a conflict.
 */
int
vmmcfg_upgrade(const char *fname, const char *buf, size_t len,
			   const UpgradeOpts *opts, Rewrite *rw, int *generation,
			   CfgError *err)
{
	Ctx			c;
	int			rc = 0;
	size_t		i;

	*generation = CFG_GEN_UNKNOWN;
	rw->changed = 0;
	if (len > 0 && memchr(buf, '\0', len) != NULL)
	{
		cfg_set_error(err, CFG_EXIT_UNKNOWN, fname, 0,
					  "binary data (NUL bytes), not a vmm.cfg");
		return err->code;
	}
	memset(&c, 0, sizeof(c));
	c.fname = fname;
	sb_init(&c.notes);
	c.nlines = cfg_split_lines(buf, len, &c.lines);
	c.info = cfg_malloc((c.nlines + 1) * sizeof(LineInfo));
	c.eol = cfg_default_eol(c.lines, c.nlines);
	c.out = &rw->out;

	rc = classify(&c, err);
	if (rc != 0)
		goto done;
	build_sections(&c);
	*generation = detect_generation(&c);
	if (*generation == CFG_GEN_UNKNOWN)
	{
		cfg_set_error(err, CFG_EXIT_UNKNOWN, fname, 0,
					  "not a vmm.cfg of vmm 0.5.2 or 0.6 (none of their own sections or options)");
		rc = err->code;
		goto done;
	}
	if (*generation == CFG_GEN_06)
	{
		sb_append(&rw->out, buf, len);
		goto done;
	}

	merge_duplicate_sections(&c);
	comment_duplicate_options(&c);
	for (i = 0; renames[i].sec != NULL; i++)
	{
		rc = apply_rename(&c, &renames[i], err);
		if (rc != 0)
			goto done;
	}
	rc = set_dovecot_version(&c, opts, err);
	if (rc != 0)
		goto done;
	drop_option(&c, "misc", "gid_mail");
	drop_option(&c, "config", "done");
	for (i = 0; newopts[i].sec != NULL; i++)
		if (!has_opt(&c, newopts[i].sec, newopts[i].opt))
			add_generated(&c, newopts[i].sec, newopts[i].opt,
						  newopts[i].value, newopts[i].comment, 'N');
	remove_obsolete_sections(&c);
	warn_interpolation(&c);
	if (!has_opt(&c, "database", "user"))
		sb_puts(&c.notes, "Warning: vmm 0.6 needs database.user, which is not set\n");
	if (!has_opt(&c, "database", "pass"))
		sb_puts(&c.notes, "Warning: vmm 0.6 needs database.pass, which is not set\n");

	emit_all(&c);
	rw->changed = (rw->out.len != len ||
				   (len > 0 && memcmp(rw->out.data, buf, len) != 0));
	if (c.nitems > 0)
		qsort(c.items, c.nitems, sizeof(char *), item_cmp);
	for (i = 0; i < c.nitems; i++)
	{
		sb_puts(&rw->report, c.items[i]);
		sb_puts(&rw->report, "\n");
	}
	if (c.notes.len > 0)
		sb_append(&rw->report, c.notes.data, c.notes.len);

done:
	if (rc != 0)
	{
		sb_free(&rw->out);
		sb_free(&rw->report);
		rw->changed = 0;
	}
	free_ctx(&c);
	return rc;
}
