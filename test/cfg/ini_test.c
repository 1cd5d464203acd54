/*-------------------------------------------------------------------------
 *
 * ini_test.c
 *	  Unit test of src/cfg/cfg_ini.c, vmm-cfg-upgrade's INI model, on its
 *	  own: linked with cfg_util.c only, without vmm's rules
 *	  (cfg_vmmcfg.c), so it also proves the model needs nothing of vmm.
 *
 * Each case parses a small INI file that is not a vmm.cfg, makes edits
 * through the model's API and compares the written file byte for byte:
 * an untouched file comes back as it was (CRLF, no final newline,
 * continuation lines, ':' separators), renames keep separator and
 * spacing, a new value drops the old continuation lines, moved options
 * take their comments along, added sections and options go where the
 * rank says, repeated sections and options are merged and commented out
 * as ConfigParser reads them, and what ConfigParser refuses is refused.
 * Built and run by "make cfg-test" (src/cfg/cfg.mk, through
 * test/cfg/run.sh).
 *
 * test/cfg/ini_test.c
 *
 *-------------------------------------------------------------------------
 */
#include "cfg_ini.h"

#include <stdio.h>
#include <string.h>

static int	ncases = 0;
static int	nfailed = 0;

/* Record one case: print it when got is not want. */
static void
check(const char *name, const char *got, const char *want)
{
	ncases++;
	if (strcmp(got, want) != 0)
	{
		nfailed++;
		printf("FAIL ini %s:\n--- want\n%s\n--- got\n%s\n---\n", name, want, got);
	}
}

/* An order for the test: sections a < b < c, options x < y < z. */
static int
test_section_rank(const char *sec)
{
	static const char *const order[] = {"a", "b", "c", NULL};
	int			i;

	for (i = 0; order[i] != NULL; i++)
		if (strcmp(order[i], sec) == 0)
			return i;
	return -1;
}

/* The option order of the test, the same in every section. */
static int
test_option_rank(const char *sec, const char *opt)
{
	static const char *const order[] = {"x", "y", "z", NULL};
	int			i;

	(void) sec;
	for (i = 0; order[i] != NULL; i++)
		if (strcmp(order[i], opt) == 0)
			return i;
	return -1;
}

/* Parse text, expecting success; the caller frees f. */
static void
parse(IniFile *f, const char *text)
{
	CfgError	err;

	memset(&err, 0, sizeof(err));
	if (ini_parse(f, "t.ini", text, strlen(text), &err) != 0)
	{
		nfailed++;
		printf("FAIL ini: cannot parse: %s\n", err.msg);
	}
}

/* Write f out and compare with want; frees f. */
static void
written(const char *name, IniFile *f, const char *want)
{
	StrBuf		out;

	sb_init(&out);
	sb_append(&out, "", 0);
	ini_write(f, &out);
	check(name, out.data, want);
	sb_free(&out);
	ini_free(f);
}

/* Nothing edited: every byte comes back. */
static void
test_round_trip(void)
{
	static const char *const files[] = {
		"",
		"# only a comment\n",
		"[a]\nx = 1\n",
		"[a]\r\nx = 1\r\n; comment\r\n\r\n[b]\r\ny: 2\r\n",
		"[a]\nx=1\n  continued\n\n  after a blank\ny :\n[b]\nz = no final newline",
		"; head\n\n# about a\n[a]\n\n; about x\nX = 1\n[a]\nx = 2\n",
		NULL
	};
	int			i;

	for (i = 0; files[i] != NULL; i++)
	{
		IniFile		f;
		char		name[32];

		snprintf(name, sizeof(name), "round trip %d", i);
		parse(&f, files[i]);
		written(name, &f, files[i]);
	}
}

/* What ConfigParser refuses or misreads is refused, with file:line. */
static void
test_refused(void)
{
	static const char *const bad[][2] = {
		{"[a\nx = 1\n", "t.ini:1: malformed section header"},
		{"[]\n", "t.ini:1: malformed section header"},
		{"[a]]\n", "t.ini:1: ambiguous section header (more than one ']')"},
		{"x = 1\n", "t.ini:1: option before the first [section] header"},
		{"[a]\n  indented\n", "t.ini:2: indented line outside of an option value"},
		{"[a]\nno separator\n", "t.ini:2: expected \"[section]\", \"name = value\" or a comment"},
		{"[a]\n= 1\n", "t.ini:2: option without a name"},
		{NULL, NULL}
	};
	int			i;

	for (i = 0; bad[i][0] != NULL; i++)
	{
		IniFile		f;
		CfgError	err;
		char		name[32];
		int			rc;

		memset(&err, 0, sizeof(err));
		rc = ini_parse(&f, "t.ini", bad[i][0], strlen(bad[i][0]), &err);
		snprintf(name, sizeof(name), "refused %d", i);
		check(name, rc == CFG_EXIT_ERROR ? err.msg : "(accepted)", bad[i][1]);
		ini_free(&f);
	}
}

/* Reading: names lower-cased, values stripped, continuations joined. */
static void
test_lookup(void)
{
	IniFile		f;
	StrBuf		v;
	IniSection *a;
	long		i;
	char		num[16];

	sb_init(&v);
	parse(&f, "[a]\nX =  one  \n  two\n\n  three\ny: 2\ny: 3\n");
	a = ini_find_section(&f, "a");
	i = ini_find_option(a, "x");
	ini_value(&f, &a->chunks[i], &v);
	check("value with continuations", v.data, "one\ntwo\nthree");
	i = ini_find_option(a, "y");
	ini_value(&f, &a->chunks[i], &v);
	check("the last of repeated options", v.data, "3");
	snprintf(num, sizeof(num), "%d", ini_lineno(&f, &a->chunks[i]));
	check("line number", num, "7");
	check("section names keep their case",
		  ini_find_section(&f, "A") == NULL ? "none" : "found", "none");
	check("has option", ini_has_option(&f, "a", "z") ? "yes" : "no", "no");
	sb_free(&v);
	ini_free(&f);
}

/* Edits: rename, new value, move, add, merge, comment out. */
static void
test_edits(void)
{
	IniFile		f;
	IniSection *a,
			   *b;
	IniChunk	ch;
	StrBuf		notes;

	/* a rename keeps separator and spacing; a value drops continuations */
	parse(&f, "[a]\nOld :  1\nz = 2\n  more\n");
	a = ini_find_section(&f, "a");
	a->chunks[ini_find_option(a, "old")].newname = "x";
	ini_set_value(&a->chunks[ini_find_option(a, "z")], "3");
	written("rename and new value", &f, "[a]\nx :  1\nz = 3\n");

	/* a moved option takes its comment; it goes where the rank says */
	parse(&f, "[a]\n; about y\ny = 1\n\n[b]\nx = 0\nz = 2\n\n");
	a = ini_find_section(&f, "a");
	ch = ini_take(a, (size_t) ini_find_option(a, "y"));
	b = ini_find_section(&f, "b");
	ini_place(&f, b, &ch, test_option_rank);
	written("move with its comment", &f,
			"[a]\n\n[b]\nx = 0\n; about y\ny = 1\nz = 2\n\n");

	/* an added section goes by rank, with its banner; added options too */
	parse(&f, "[a]\nx = 1\n[c]\nz = 3\n");
	b = ini_get_section(&f, "b", test_section_rank, "the b settings");
	ini_add_option(&f, b, "y", "2", "; why y", test_option_rank);
	a = ini_find_section(&f, "a");
	ini_add_option(&f, a, "z", "9", "; why z", test_option_rank);
	written("added section and options", &f,
			"[a]\nx = 1\n; why z\nz = 9\n\n#\n# the b settings\n#\n[b]\n; why y\ny = 2\n\n[c]\nz = 3\n");

	/* ConfigParser merges repeated sections and keeps the last option */
	sb_init(&notes);
	parse(&f, "[a]\nx = 1\n  cont\n[b]\ny = 2\n[a]\nx = 3\n");
	ini_merge_sections(&f, &notes);
	ini_comment_repeats(&f, &notes);
	written("repeats merged and commented out", &f,
			"[a]\n; x = 1\n;  cont\nx = 3\n[b]\ny = 2\n");
	check("notes on repeats", notes.data,
		  "Merged the repeated section [a] at line 6 into the one at line 1\n"
		  "Commented out a.x at line 2: line 7 sets it again, and vmm used that one\n");
	sb_free(&notes);

	/* a dropped option goes with its comment lines */
	parse(&f, "[a]\n; about x\nx = 1\ny = 2\n");
	a = ini_find_section(&f, "a");
	ini_drop(a, (size_t) ini_find_option(a, "x"));
	written("drop", &f, "[a]\ny = 2\n");

	/* lines added to a CRLF file without a final newline are CRLF */
	parse(&f, "[a]\r\nx = 1");
	a = ini_find_section(&f, "a");
	ini_add_option(&f, a, "y", "2", "; why y", test_option_rank);
	written("CRLF kept for added lines", &f, "[a]\r\nx = 1\r\n; why y\r\ny = 2\r\n");
}

/* Run every case; exit 1 if any failed. */
int
main(void)
{
	test_round_trip();
	test_refused();
	test_lookup();
	test_edits();
	printf("ini: %d cases, %d failed\n", ncases, nfailed);
	return nfailed > 0;
}
