/*-------------------------------------------------------------------------
 *
 * dovecot_version_test.c
 *	  Unit test of src/dovecot_version.c, the one Dovecot version parser
 *	  of the extension and of vmm-cfg-upgrade.
 *
 * The extension accepts a version when it is a dotted number and picks
 * the Dovecot variant from at_least_1_2; the helper takes the word for
 * misc.dovecot_version and switches bin.dovecotpw to doveadm on
 * at_least_2.  Each case states all of it, so a change of the parser that
 * one side would notice fails here, before either is built.  Built and run
 * by "make cfg-test" (src/cfg/cfg.mk, through test/cfg/run.sh).
 *
 * test/cfg/dovecot_version_test.c
 *
 *-------------------------------------------------------------------------
 */
#include "dovecot_version.h"

#include <stdio.h>
#include <string.h>

typedef struct Case
{
	const char *text;			/* what "dovecot --version" printed */
	const char *word;			/* the first word */
	int			dotted;
	int			at_least_1_2;
	int			at_least_2;
} Case;

static const Case cases[] = {
	/* what Debian 12's Dovecot prints: the build id does not count */
	{"2.3.19.1 (9b53102964)", "2.3.19.1", 1, 1, 1},
	{"2.3.19.1 (9b53102964)\n", "2.3.19.1", 1, 1, 1},
	{"1.1.20", "1.1.20", 1, 0, 0},
	{"1.2", "1.2", 1, 1, 0},
	{"1.2.17", "1.2.17", 1, 1, 0},
	/* the minor is a number, not a digit: 1.10 is after 1.2 */
	{"1.10.0", "1.10.0", 1, 1, 0},
	{"0.99", "0.99", 1, 0, 0},
	/* digits, never an integer: nothing is too large */
	{"99999999999999.1", "99999999999999.1", 1, 1, 1},
	{"1.99999999999999999999", "1.99999999999999999999", 1, 1, 0},
	/* leading zeros do not count */
	{"01.02", "01.02", 1, 1, 0},
	{"1.00", "1.00", 1, 0, 0},
	{"010.0", "010.0", 1, 1, 1},
	{"1", "1", 1, 0, 0},
	{"2", "2", 1, 1, 1},
	/* blanks around the word, CRLF */
	{"  \t2.0.21\n", "2.0.21", 1, 1, 1},
	{"2.3.19\r\n", "2.3.19", 1, 1, 1},
	{"1.2 beta", "1.2", 1, 1, 0},
	/* not a dotted number */
	{"latest", "latest", 0, 0, 0},
	{"", "", 0, 0, 0},
	{"   ", "", 0, 0, 0},
	{"1.", "1.", 0, 0, 0},
	{".1", ".1", 0, 0, 0},
	{"1..2", "1..2", 0, 0, 0},
	{"v2.0", "v2.0", 0, 0, 0},
	{"-2", "-2", 0, 0, 0},
	/* release candidates: not for the extension, 2 or later for doveadm */
	{"2.1.rc3", "2.1.rc3", 0, 1, 1},
	{"1.2.rc1", "1.2.rc1", 0, 1, 0},
	{"1.rc1", "1.rc1", 0, 0, 0},
	{NULL, NULL, 0, 0, 0}
};

/* Run every case; print the ones that fail; exit 1 if any did. */
int
main(void)
{
	int			i,
				failed = 0;

	for (i = 0; cases[i].text != NULL; i++)
	{
		const Case *c = &cases[i];
		DovecotVersion v;
		int			r = dovecot_version_parse(c->text, &v);

		if (r != c->dotted || v.dotted != c->dotted ||
			v.at_least_1_2 != c->at_least_1_2 ||
			v.at_least_2 != c->at_least_2 ||
			v.len != strlen(c->word) ||
			strncmp(v.word, c->word, v.len) != 0)
		{
			printf("FAIL dovecot_version_parse(\"%s\"): word \"%.*s\" dotted %d "
				   ">= 1.2 %d >= 2 %d; expected \"%s\" %d %d %d\n",
				   c->text, (int) v.len, v.word, v.dotted, v.at_least_1_2,
				   v.at_least_2, c->word, c->dotted, c->at_least_1_2,
				   c->at_least_2);
			failed++;
		}
	}
	printf("dovecot_version: %d cases, %d failed\n", i, failed);
	return failed > 0;
}
