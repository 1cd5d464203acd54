/*-------------------------------------------------------------------------
 *
 * fuzz.c
 *	  libFuzzer target for vmm-cfg-upgrade's parsers and rewriters.
 *
 * The first input byte picks the rewriter (vmm.cfg, Postfix table,
 * Dovecot SQL file) and its options; the rest is the file.  Besides the
 * sanitizers' own checks it asserts properties the tool relies on:
 * a rewrite is idempotent (rewriting the output changes nothing more),
 * an upgraded vmm.cfg is recognised as upgraded, and the unified diff
 * of input and output, applied to the input, gives the output.  Bit 0x10
 * of the first byte selects the way back (--revert, by the rules); without
 * it, every forward rewrite must come back byte for byte from its input
 * taken as the backup.  Built by "make cfg-test" with
 * clang -fsanitize=fuzzer,address,undefined.
 *
 * src/cfg/fuzz.c
 *
 *-------------------------------------------------------------------------
 */
#include "cfg_upgrade.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A stand-in for "dovecot --version" whose answer depends on the input. */
static int
fake_probe(void *ctx, char *buf, size_t bufsize, CfgError *err)
{
	int			mode = *(int *) ctx;

	if (mode == 0 || mode == 3)
		return 0;
	if (mode == 1)
	{
		snprintf(buf, bufsize, "2.0.21");
		return 1;
	}
	cfg_set_error(err, CFG_EXIT_ERROR, "dovecot", 0, "probe failed");
	return -1;
}

/* Stop with a message: libFuzzer records the crash and the input. */
static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz invariant violated: %s\n", what);
	abort();
}

/* Parse the number at *p (advancing it); -1 if there is none. */
static long
parse_num(const char **p, const char *end)
{
	long		v = 0;
	int			any = 0;

	while (*p < end && **p >= '0' && **p <= '9')
	{
		v = v * 10 + (**p - '0');
		(*p)++;
		any = 1;
		if (v > 100000000)
			return -1;
	}
	return any ? v : -1;
}

/*
 * Apply a unified diff made by cfg_unified_diff to a and check that the
 * result is b: the strongest test of the diff printer we can make here.
 */
static void
check_diff(const char *a, size_t alen, const char *b, size_t blen,
		   const StrBuf *diff)
{
	SrcLine    *la;
	size_t		na = cfg_split_lines(a, alen, &la),
				ai = 0;
	const char *p = diff->len ? diff->data : "",
			   *end = p + diff->len;
	StrBuf		out;

	sb_init(&out);
	sb_append(&out, "", 0);
	/* skip the two header lines */
	if (diff->len > 0)
	{
		int			i;

		for (i = 0; i < 2; i++)
		{
			p = memchr(p, '\n', (size_t) (end - p));
			if (p == NULL)
				fuzz_fail("diff header");
			p++;
		}
	}
	while (p < end)
	{
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		const char *lend = nl ? nl : end;

		if (nl == NULL)
			fuzz_fail("diff line not terminated");
		if (p[0] == '@')
		{
			const char *q = p + 4;
			long		astart,
						acount = 1;

			if (lend - p < 4 || strncmp(p, "@@ -", 4) != 0)
				fuzz_fail("hunk header");
			astart = parse_num(&q, lend);
			if (q < lend && *q == ',')
			{
				q++;
				acount = parse_num(&q, lend);
			}
			if (astart < 0 || acount < 0)
				fuzz_fail("hunk header numbers");
			if (acount > 0)
				astart--;
			if ((size_t) astart < ai || (size_t) astart > na)
				fuzz_fail("hunk start out of order");
			for (; ai < (size_t) astart; ai++)
			{
				sb_append(&out, la[ai].text, la[ai].len);
				sb_puts(&out, la[ai].eol);
			}
		}
		else if (p[0] == ' ' || p[0] == '-')
		{
			if (ai >= na)
				fuzz_fail("diff runs past the old file");
			if ((size_t) (lend - p - 1) < la[ai].len ||
				memcmp(p + 1, la[ai].text, la[ai].len) != 0)
				fuzz_fail("context or removed line does not match");
			if (p[0] == ' ')
			{
				sb_append(&out, la[ai].text, la[ai].len);
				sb_puts(&out, la[ai].eol);
			}
			ai++;
		}
		else if (p[0] == '+')
		{
			int			no_nl = (lend + 1 < end && lend[1] == '\\');

			sb_append(&out, p + 1, (size_t) (lend - p - 1));
			if (!no_nl)
				sb_append(&out, "\n", 1);
		}
		else if (p[0] != '\\')
			fuzz_fail("unknown diff line");
		p = lend + 1;
	}
	for (; ai < na; ai++)
	{
		sb_append(&out, la[ai].text, la[ai].len);
		sb_puts(&out, la[ai].eol);
	}
	if (out.len != blen || (blen > 0 && memcmp(out.data, b, blen) != 0))
		fuzz_fail("applying the diff does not give the new file");
	sb_free(&out);
	free(la);
}

/* Run one rewriter selected by sel on (data, len). */
static int
run_one(int sel, const char *data, size_t len, Rewrite *rw, int *gen,
		CfgError *err)
{
	UpgradeOpts uo;
	int			probe_mode = (sel >> 2) & 3;
	int			revert = (sel & 0x10) != 0;
	int			used;

	memset(&uo, 0, sizeof(uo));
	uo.version = (sel & 0x20) ? "1.1.20" : NULL;
	uo.probe = fake_probe;
	uo.probe_ctx = &probe_mode;
	uo.doveadm = (sel & 0x40) ? "/usr/local/bin/doveadm" : NULL;
	*gen = CFG_GEN_UNKNOWN;
	switch (sel & 3)
	{
		case 0:
		case 3:
			if (revert)
				return vmmcfg_revert("fuzz.cfg", data, len, NULL, 0, rw, gen,
									 &used, err);
			return vmmcfg_upgrade("fuzz.cfg", data, len, &uo, rw, gen, err);
		case 1:
			return postfix_rewrite("pgsql-fuzz.cf", data, len, revert, rw, err);
		default:
			return dovecot_rewrite("dovecot-sql.conf", data, len, sel & 0x80,
								   revert, rw, err);
	}
}

/* libFuzzer entry point. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Rewrite		rw,
				rw2;
	CfgError	err;
	int			sel,
				rc,
				gen,
				gen2;
	const char *text;
	size_t		len;
	StrBuf		diff;

	if (size < 1)
		return 0;
	sel = data[0];
	text = (const char *) data + 1;
	len = size - 1;
	rewrite_init(&rw);
	memset(&err, 0, sizeof(err));
	rc = run_one(sel, text, len, &rw, &gen, &err);
	if (rc != 0)
	{
		if (rc != CFG_EXIT_ERROR && rc != CFG_EXIT_UNKNOWN)
			fuzz_fail("unexpected return code");
		if (err.msg[0] == '\0')
			fuzz_fail("error without a message");
		rewrite_free(&rw);
		return 0;
	}
	if (!rw.changed && (rw.out.len != len ||
						(len > 0 && memcmp(rw.out.data, text, len) != 0)))
		fuzz_fail("unchanged result differs from the input");

	/* the diff must be empty exactly when nothing changed */
	sb_init(&diff);
	cfg_unified_diff("a", "b", text, len, rw.out.data ? rw.out.data : "",
					 rw.out.len, &diff);
	if ((diff.len > 0) != (rw.changed != 0))
		fuzz_fail("diff and changed flag disagree");
	check_diff(text, len, rw.out.data ? rw.out.data : "", rw.out.len, &diff);
	sb_free(&diff);

	/* idempotence: the output needs no further change */
	if (rw.changed)
	{
		/*
		 * Second round without --dovecot-version and without Dovecot, so
		 * that the version already written is kept.
		 */
		int			sel2 = sel & ~0x2c;

		rewrite_init(&rw2);
		rc = run_one(sel2, rw.out.data, rw.out.len, &rw2, &gen2, &err);
		if (rc != 0)
		{
			fprintf(stderr, "%s\n", err.msg);
			fuzz_fail("rewritten output is rejected");
		}
		if (((sel & 3) == 0 || (sel & 3) == 3) && gen2 == CFG_GEN_UNKNOWN)
			fuzz_fail("upgraded vmm.cfg not recognised");
		if (rw2.changed)
			fuzz_fail("rewrite is not idempotent");
		rewrite_free(&rw2);
	}

	/* the way back from the backup gives the input again, byte for byte */
	if (rw.changed && !(sel & 0x10))
	{
		CfgBackup	bak;
		int			used;

		bak.name = "fuzz.bak";
		bak.data = text;
		bak.len = len;
		if ((sel & 3) == 1 || (sel & 3) == 2)
		{
			if (!queries_backup_matches((sel & 3) == 1 ? "postfix" : "dovecot",
										bak.name, text, len, rw.out.data,
										rw.out.len))
				fuzz_fail("the backup of a rewritten file is not recognised");
		}
		else
		{
			rewrite_init(&rw2);
			rc = vmmcfg_revert("fuzz.cfg", rw.out.data, rw.out.len, &bak, 1,
							   &rw2, &gen2, &used, &err);
			if (rc != 0 || used != 0 || rw2.out.len != len ||
				(len > 0 && memcmp(rw2.out.data, text, len) != 0))
				fuzz_fail("the way back from the backup does not give the input");
			rewrite_free(&rw2);
		}
	}
	rewrite_free(&rw);
	return 0;
}
