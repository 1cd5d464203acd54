/*-------------------------------------------------------------------------
 *
 * fuzz.c
 *	  libFuzzer target for vmm-cfg-upgrade's parsers and rewriters.
 *
 * The first input byte picks the rewriter (vmm.cfg, Postfix table,
 * Dovecot SQL file) and its options; the rest is the file.  Besides the
 * sanitizers' own checks it asserts properties the tool relies on:
 * a rewrite is idempotent (rewriting the output changes nothing more),
 * an upgraded vmm.cfg is recognised as upgraded, and the diff of input
 * and output is produced without trouble.  Built by "make cfg-test" with
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

/* Run one rewriter selected by sel on (data, len). */
static int
run_one(int sel, const char *data, size_t len, Rewrite *rw, int *gen,
		CfgError *err)
{
	UpgradeOpts uo;
	int			probe_mode = (sel >> 2) & 3;

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
			return vmmcfg_upgrade("fuzz.cfg", data, len, &uo, rw, gen, err);
		case 1:
			return postfix_rewrite("pgsql-fuzz.cf", data, len, rw, err);
		default:
			return dovecot_rewrite("dovecot-sql.conf", data, len, sel & 0x80,
								   rw, err);
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
	rewrite_free(&rw);
	return 0;
}
