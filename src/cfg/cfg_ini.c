/*-------------------------------------------------------------------------
 *
 * cfg_ini.c
 *	  The INI model of vmm-cfg-upgrade: parse an INI file the way Python's
 *	  ConfigParser reads it, keep its comments and layout, edit it, and
 *	  write it out again.
 *
 * ConfigParser's rules, which vmm relies on: "[name]" headers, "name =
 * value" or "name: value" options, "#" and ";" comment lines, indented
 * continuation lines, option names case-insensitive, section names not.
 * What ConfigParser would reject, or read otherwise than the text
 * suggests, is refused, so that nothing is rewritten that we
 * misunderstood.  The model (sections of chunks, see cfg_ini.h) keeps
 * every source line, so that what is not edited is written back byte for
 * byte.  Nothing here knows vmm: cfg_vmmcfg.c says what to change, and
 * where vmm 0.6 wants new things (the rank functions).
 *
 * src/cfg/cfg_ini.c
 *
 *-------------------------------------------------------------------------
 */
#include "cfg_ini.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------------------
 * The model's pieces
 * ---------------------------------------------------------------------- */

/* Python's str.isspace() for ASCII: what ConfigParser strips. */
static int
py_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
		c == '\f';
}

/* Insert a new empty section into the output order at position pos. */
static IniSection *
new_section(IniFile *f, const char *name, size_t namelen, size_t pos)
{
	IniSection *s = cfg_malloc(sizeof(IniSection));

	memset(s, 0, sizeof(*s));
	s->name = name ? cfg_strndup(name, namelen) : NULL;
	s->hdr_first = INI_NOLINE;
	s->hdr_line = INI_NOLINE;
	if (f->nsecs == f->capsecs)
	{
		f->capsecs = f->capsecs ? f->capsecs * 2 : 16;
		f->secs = cfg_realloc(f->secs, f->capsecs * sizeof(IniSection *));
	}
	if (pos > f->nsecs)
		pos = f->nsecs;
	memmove(&f->secs[pos + 1], &f->secs[pos],
			(f->nsecs - pos) * sizeof(IniSection *));
	f->secs[pos] = s;
	f->nsecs++;
	return s;
}

/* Insert a chunk into a section at position pos (it takes ownership). */
static void
insert_chunk(IniSection *s, size_t pos, const IniChunk *ch)
{
	if (s->nchunks == s->cap)
	{
		s->cap = s->cap ? s->cap * 2 : 8;
		s->chunks = cfg_realloc(s->chunks, s->cap * sizeof(IniChunk));
	}
	if (pos > s->nchunks)
		pos = s->nchunks;
	memmove(&s->chunks[pos + 1], &s->chunks[pos],
			(s->nchunks - pos) * sizeof(IniChunk));
	s->chunks[pos] = *ch;
	s->nchunks++;
}

/*
 * Take the chunk at pos out of a section, to move it elsewhere; ownership
 * passes to the caller.
 */
IniChunk
ini_take(IniSection *s, size_t pos)
{
	IniChunk	ch = s->chunks[pos];

	memmove(&s->chunks[pos], &s->chunks[pos + 1],
			(s->nchunks - pos - 1) * sizeof(IniChunk));
	s->nchunks--;
	return ch;
}

/* Free what a chunk owns. */
static void
free_chunk(IniChunk *ch)
{
	free(ch->lname);
	free(ch->newvalue);
	free(ch->gen_value);
}

/* Remove the chunk at pos from the file for good (an option that goes). */
void
ini_drop(IniSection *s, size_t pos)
{
	IniChunk	ch = ini_take(s, pos);

	free_chunk(&ch);
}

/* Add loose lines [a, b) to a section. */
static void
add_loose(IniSection *s, size_t a, size_t b)
{
	size_t		i;

	for (i = a; i < b; i++)
	{
		IniChunk	ch;

		memset(&ch, 0, sizeof(ch));
		ch.kind = CH_LOOSE;
		ch.first = i;
		ch.last = i + 1;
		ch.optline = INI_NOLINE;
		insert_chunk(s, s->nchunks, &ch);
	}
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
classify(IniFile *f, CfgError *err)
{
	size_t		i;
	int			in_section = 0,
				have_option = 0;

	for (i = 0; i < f->nlines; i++)
	{
		const char *t = f->lines[i].text;
		size_t		n = f->lines[i].len,
					k;
		IniLine    *li = &f->info[i];
		int			ln = f->lines[i].lineno;

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
				cfg_set_error(err, CFG_EXIT_ERROR, f->fname, ln,
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
				cfg_set_error(err, CFG_EXIT_ERROR, f->fname, ln,
							  "malformed section header");
				return err->code;
			}
			if (memchr(close + 1, ']', (size_t) (t + n - close - 1)) != NULL)
			{
				cfg_set_error(err, CFG_EXIT_ERROR, f->fname, ln,
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
			cfg_set_error(err, CFG_EXIT_ERROR, f->fname, ln,
						  "expected \"[section]\", \"name = value\" or a comment");
			return err->code;
		}
		if (k == 0)
		{
			cfg_set_error(err, CFG_EXIT_ERROR, f->fname, ln,
						  "option without a name");
			return err->code;
		}
		if (!in_section)
		{
			cfg_set_error(err, CFG_EXIT_ERROR, f->fname, ln,
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

/*
 * Cut the body lines [a, b) of a section into chunks: an option entry
 * takes the comment lines directly above it and its continuation lines
 * (with any blank or comment lines between them); everything else is
 * loose.
 */
static void
build_chunks(IniFile *f, IniSection *s, size_t a, size_t b)
{
	size_t		i = a;

	while (i < b)
	{
		size_t		k = i,
					j,
					lastcont;
		IniChunk	ch;

		while (k < b && f->info[k].kind == LK_COMMENT)
			k++;
		if (k == b || f->info[k].kind != LK_OPTION)
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
			int			kind = f->info[j].kind;

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
		ch.lname = cfg_strndup(f->lines[k].text + f->info[k].name_off,
							   f->info[k].name_len);
		for (j = 0; ch.lname[j]; j++)
			ch.lname[j] = (char) tolower((unsigned char) ch.lname[j]);
		insert_chunk(s, s->nchunks, &ch);
		i = ch.last;
	}
}

/* Build the section list from the classified lines. */
static void
build_sections(IniFile *f)
{
	size_t		i,
				body_start = 0;
	IniSection *cur = new_section(f, NULL, 0, 0);

	cur->hdr_first = 0;
	for (i = 0; i <= f->nlines; i++)
	{
		size_t		h;
		IniSection *s;

		if (i < f->nlines && f->info[i].kind != LK_SECTION)
			continue;
		/* the comment lines directly above a header belong to it */
		h = i;
		while (i < f->nlines && h > body_start &&
			   f->info[h - 1].kind == LK_COMMENT)
			h--;
		if (cur->name == NULL)
			add_loose(cur, body_start, h);
		else
			build_chunks(f, cur, body_start, h);
		if (i == f->nlines)
			break;
		s = new_section(f, f->lines[i].text + f->info[i].name_off,
						f->info[i].name_len, f->nsecs);
		s->hdr_first = h;
		s->hdr_line = i;
		cur = s;
		body_start = i + 1;
	}
}

/*
 * Read buf (len bytes, the file fname) into *f.  Returns 0 or an exit code
 * with err set (a line ConfigParser would refuse or misread).  *f is to
 * be freed with ini_free either way.
 */
int
ini_parse(IniFile *f, const char *fname, const char *buf, size_t len,
		  CfgError *err)
{
	int			rc;

	memset(f, 0, sizeof(*f));
	f->fname = fname;
	f->nlines = cfg_split_lines(buf, len, &f->lines);
	f->info = cfg_malloc((f->nlines + 1) * sizeof(IniLine));
	f->eol = cfg_default_eol(f->lines, f->nlines);
	rc = classify(f, err);
	if (rc == 0)
		build_sections(f);
	return rc;
}

/* ----------------------------------------------------------------------
 * Looking things up
 * ---------------------------------------------------------------------- */

/* The first live section with this exact name, or NULL. */
IniSection *
ini_find_section(const IniFile *f, const char *name)
{
	size_t		i;

	for (i = 0; i < f->nsecs; i++)
		if (!f->secs[i]->removed && f->secs[i]->name &&
			strcmp(f->secs[i]->name, name) == 0)
			return f->secs[i];
	return NULL;
}

/* The name a chunk will carry in the output. */
const char *
ini_chunk_name(const IniChunk *ch)
{
	return ch->newname ? ch->newname : ch->lname;
}

/*
 * Index of the live (not commented out) option entry named opt in s (NULL:
 * none), or -1; the last one, as ConfigParser uses the last.
 */
long
ini_find_option(const IniSection *s, const char *opt)
{
	size_t		i;
	long		found = -1;

	if (s == NULL)
		return -1;
	for (i = 0; i < s->nchunks; i++)
	{
		const IniChunk *ch = &s->chunks[i];

		if (ch->kind != CH_LOOSE && !ch->commented &&
			strcmp(ini_chunk_name(ch), opt) == 0)
			found = (long) i;
	}
	return found;
}

/* Does the named section hold the named live option? */
int
ini_has_option(const IniFile *f, const char *sec, const char *opt)
{
	return ini_find_option(ini_find_section(f, sec), opt) >= 0;
}

/*
 * The value of an option entry as ConfigParser sees it: the first line's
 * value and each continuation line, stripped, joined by newlines; or the
 * value it is to get.  Used to compare options and to report them.
 */
void
ini_value(const IniFile *f, const IniChunk *ch, StrBuf *out)
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
		const char *t = f->lines[l].text;
		size_t		a,
					b = f->lines[l].len;

		if (l == ch->optline)
			a = f->info[l].value_off;
		else if (f->info[l].kind == LK_CONT)
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

/* The line number of an option entry, for messages. */
int
ini_lineno(const IniFile *f, const IniChunk *ch)
{
	return f->lines[ch->optline].lineno;
}

/* ----------------------------------------------------------------------
 * Editing
 * ---------------------------------------------------------------------- */

/*
 * ConfigParser merges sections of the same name, and Python 3's strict
 * reader (and vmm 0.6's own check) rejects them, so a repeated section's
 * body is appended to the first one and its header line dropped; notes
 * get a line for each.
 */
void
ini_merge_sections(IniFile *f, StrBuf *notes)
{
	size_t		i,
				j,
				k;

	for (i = 0; i < f->nsecs; i++)
	{
		IniSection *first = f->secs[i];

		if (first->name == NULL || first->removed)
			continue;
		for (j = i + 1; j < f->nsecs; j++)
		{
			IniSection *dup = f->secs[j];

			if (dup->name == NULL || dup->removed ||
				strcmp(dup->name, first->name) != 0)
				continue;
			add_loose(first, dup->hdr_first, dup->hdr_line);
			for (k = 0; k < dup->nchunks; k++)
				insert_chunk(first, first->nchunks, &dup->chunks[k]);
			dup->nchunks = 0;
			dup->removed = 1;
			sb_printf(notes,
					  "Merged the repeated section [%s] at line %d into the one at line %d\n",
					  first->name, f->lines[dup->hdr_line].lineno,
					  f->lines[first->hdr_line].lineno);
		}
	}
}

/*
 * Within a section, ConfigParser keeps the last of several same-named
 * options; we keep that one and comment out the earlier ones, so the file
 * means what it meant to vmm and still loads in a strict reader; notes
 * get a line for each.
 */
void
ini_comment_repeats(IniFile *f, StrBuf *notes)
{
	size_t		i,
				j,
				k;

	for (i = 0; i < f->nsecs; i++)
	{
		IniSection *s = f->secs[i];

		if (s->removed)
			continue;
		for (j = 0; j < s->nchunks; j++)
		{
			IniChunk   *a = &s->chunks[j];

			if (a->kind != CH_ENTRY || a->commented)
				continue;
			for (k = j + 1; k < s->nchunks; k++)
			{
				IniChunk   *b = &s->chunks[k];

				if (b->kind == CH_ENTRY && strcmp(a->lname, b->lname) == 0)
				{
					a->commented = 1;
					sb_printf(notes,
							  "Commented out %s.%s at line %d: line %d sets it again, and vmm used that one\n",
							  s->name, a->lname, ini_lineno(f, a),
							  ini_lineno(f, b));
					break;
				}
			}
		}
	}
}

/*
 * Find or create a section.  A new one goes where rank puts it: after
 * the nearest earlier ranked section the file has, else before the first
 * later one, else at the end; its banner comment says title (or its
 * name).
 */
IniSection *
ini_get_section(IniFile *f, const char *name, IniSectionRank rank,
				const char *title)
{
	IniSection *s = ini_find_section(f, name);
	int			want = rank(name);
	size_t		i,
				pos;
	int			best = -1;

	if (s != NULL)
		return s;
	pos = f->nsecs;
	for (i = 0; i < f->nsecs; i++)
	{
		IniSection *t = f->secs[i];
		int			k;

		if (t->removed || t->name == NULL)
			continue;
		k = rank(t->name);
		if (k >= 0 && k < want && k >= best)
		{
			best = k;
			pos = i + 1;
		}
	}
	if (best < 0)
	{
		for (i = 0; i < f->nsecs; i++)
		{
			IniSection *t = f->secs[i];

			if (t->removed || t->name == NULL)
				continue;
			if (rank(t->name) > want)
			{
				pos = i;
				break;
			}
		}
	}
	s = new_section(f, name, strlen(name), pos);
	s->title = title ? title : s->name;
	return s;
}

/*
 * Put an option chunk into a section at the place rank gives it: after
 * the live option that comes last before it in that order, else before
 * the first ranked option, else after the last option (ahead of the
 * trailing blank lines).  The section takes ownership.
 */
void
ini_place(const IniFile *f, IniSection *s, IniChunk *ch, IniOptionRank rank)
{
	int			want = rank(s->name, ini_chunk_name(ch));
	long		best = -1,
				first_known = -1,
				last_opt = -1;
	int			bestk = -1;
	size_t		i,
				pos;

	for (i = 0; i < s->nchunks; i++)
	{
		IniChunk   *t = &s->chunks[i];
		int			k;

		if (t->kind == CH_LOOSE || t->commented)
			continue;
		last_opt = (long) i;
		k = rank(s->name, ini_chunk_name(t));
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
			   f->info[s->chunks[pos - 1].first].kind == LK_BLANK)
			pos--;
	}
	insert_chunk(s, pos, ch);
}

/*
 * Add an option the file does not have: "opt = value" with the comment
 * line above it, placed by rank.
 */
void
ini_add_option(IniFile *f, IniSection *s, const char *opt, const char *value,
			   const char *comment, IniOptionRank rank)
{
	IniChunk	ch;

	memset(&ch, 0, sizeof(ch));
	ch.kind = CH_NEW;
	ch.optline = INI_NOLINE;
	ch.lname = cfg_strndup(opt, strlen(opt));
	ch.gen_value = cfg_strndup(value, strlen(value));
	ch.gen_comment = comment;
	ini_place(f, s, &ch, rank);
}

/*
 * Give an option a new value: an option of the file gets it in its line
 * (name, separator and spacing kept), an added one in its generated line.
 */
void
ini_set_value(IniChunk *ch, const char *value)
{
	char	  **slot = ch->kind == CH_NEW ? &ch->gen_value : &ch->newvalue;

	free(*slot);
	*slot = cfg_strndup(value, strlen(value));
}

/* ----------------------------------------------------------------------
 * Output
 * ---------------------------------------------------------------------- */

/* Where the writer stands while it writes a file out. */
typedef struct Emitter
{
	const IniFile *f;
	StrBuf	   *out;
	int			emitted_any;
	int			last_blank;
	int			unterminated;
	int			need_blank;
} Emitter;

/* Emit one line, terminating a previously unterminated last line first. */
static void
emit(Emitter *e, const char *text, size_t len, const char *eol)
{
	size_t		k;

	if (e->unterminated)
		sb_puts(e->out, e->f->eol);
	sb_append(e->out, text, len);
	if (eol[0] == '\0')
		e->unterminated = 1;
	else
	{
		sb_puts(e->out, eol);
		e->unterminated = 0;
	}
	for (k = 0; k < len && py_space(text[k]); k++)
		;
	e->last_blank = (k == len);
	e->emitted_any = 1;
}

/* Emit a generated line with the file's line end. */
static void
emit_gen(Emitter *e, const char *text)
{
	emit(e, text, strlen(text), e->f->eol);
}

/* Emit a source line unchanged. */
static void
emit_src(Emitter *e, size_t l)
{
	emit(e, e->f->lines[l].text, e->f->lines[l].len, e->f->lines[l].eol);
}

/* Emit a source line commented out with prefix ("; " or ";"). */
static void
emit_commented(Emitter *e, size_t l, const char *prefix)
{
	StrBuf		sb;

	sb_init(&sb);
	sb_puts(&sb, prefix);
	sb_append(&sb, e->f->lines[l].text, e->f->lines[l].len);
	emit(e, sb.data, sb.len, e->f->lines[l].eol);
	sb_free(&sb);
}

/* Keep a blank line between a new section and what follows it. */
static void
blank_if_needed(Emitter *e, int next_is_blank)
{
	if (e->need_blank && !next_is_blank && !e->last_blank)
		emit_gen(e, "");
	e->need_blank = 0;
}

/* Emit an option line with its name and/or value replaced. */
static void
emit_option_line(Emitter *e, const IniChunk *ch)
{
	const SrcLine *l = &e->f->lines[ch->optline];
	const IniLine *li = &e->f->info[ch->optline];
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
	emit(e, sb.data, sb.len, l->eol);
	sb_free(&sb);
}

/* Emit one chunk. */
static void
emit_chunk(Emitter *e, const IniChunk *ch)
{
	size_t		l;

	if (ch->kind == CH_NEW)
	{
		StrBuf		sb;

		blank_if_needed(e, 0);
		sb_init(&sb);
		sb_printf(&sb, "%s = %s", ch->lname, ch->gen_value);
		emit_gen(e, ch->gen_comment);
		emit(e, sb.data, sb.len, e->f->eol);
		sb_free(&sb);
		return;
	}
	blank_if_needed(e, e->f->info[ch->first].kind == LK_BLANK);
	for (l = ch->first; l < ch->last; l++)
	{
		if (ch->kind == CH_ENTRY && l == ch->optline)
		{
			if (ch->extra_comment && !ch->commented)
				emit_gen(e, ch->extra_comment);
			if (ch->commented)
				emit_commented(e, l, "; ");
			else if (ch->newname || ch->newvalue)
				emit_option_line(e, ch);
			else
				emit_src(e, l);
		}
		else if (ch->kind == CH_ENTRY && ch->drop_comment && l + 1 == ch->optline &&
				 e->f->lines[l].len == strlen(ch->drop_comment) &&
				 memcmp(e->f->lines[l].text, ch->drop_comment,
						e->f->lines[l].len) == 0)
			continue;
		else if (ch->kind == CH_ENTRY && e->f->info[l].kind == LK_CONT)
		{
			if (ch->commented)
				emit_commented(e, l, ";");
			else if (!ch->newvalue)
				emit_src(e, l);
		}
		else
			emit_src(e, l);
	}
}

/*
 * Write the whole model to out: the source lines as they were except
 * where edited, added sections with a banner comment and a blank line
 * around them.
 */
void
ini_write(const IniFile *f, StrBuf *out)
{
	Emitter		e;
	size_t		i,
				j;

	memset(&e, 0, sizeof(e));
	e.f = f;
	e.out = out;
	for (i = 0; i < f->nsecs; i++)
	{
		IniSection *s = f->secs[i];

		if (s->removed)
			continue;
		if (s->title != NULL)
		{
			StrBuf		sb;

			e.need_blank = 0;
			if (e.emitted_any && !e.last_blank)
				emit_gen(&e, "");
			sb_init(&sb);
			emit_gen(&e, "#");
			sb_printf(&sb, "# %s", s->title);
			emit_gen(&e, sb.data);
			emit_gen(&e, "#");
			sb.len = 0;
			sb_printf(&sb, "[%s]", s->name);
			emit_gen(&e, sb.data);
			sb_free(&sb);
			for (j = 0; j < s->nchunks; j++)
				emit_chunk(&e, &s->chunks[j]);
			e.need_blank = 1;
			continue;
		}
		if (s->hdr_line != INI_NOLINE)
		{
			size_t		l;

			blank_if_needed(&e, s->hdr_first < s->hdr_line &&
							f->info[s->hdr_first].kind == LK_BLANK);
			for (l = s->hdr_first; l <= s->hdr_line; l++)
				emit_src(&e, l);
		}
		for (j = 0; j < s->nchunks; j++)
			emit_chunk(&e, &s->chunks[j]);
	}
}

/* Free the model. */
void
ini_free(IniFile *f)
{
	size_t		i,
				j;

	for (i = 0; i < f->nsecs; i++)
	{
		for (j = 0; j < f->secs[i]->nchunks; j++)
			free_chunk(&f->secs[i]->chunks[j]);
		free(f->secs[i]->chunks);
		free(f->secs[i]->name);
		free(f->secs[i]);
	}
	free(f->secs);
	free(f->lines);
	free(f->info);
}
