/*-------------------------------------------------------------------------
 *
 * dovecot_version.c
 *	  Read a Dovecot version as "dovecot --version" prints it.
 *
 * Dovecot prints its version and, since 2.2, a build id after it
 * ("2.3.19.1 (9b53102964)"), so only the first word counts.  The
 * extension needs to know whether that version is 1.2 or later (which
 * Dovecot variant of vmm's layout it reads); vmm-cfg-upgrade needs the word
 * itself (for vmm.cfg's misc.dovecot_version) and whether it is 2 or later
 * (doveadm instead of dovecotpw).  Both get it from here.  The comparisons
 * work on the digits, never on a converted integer, so no version is too
 * large for them.
 *
 * Standalone C99 without PostgreSQL headers: the module (Makefile, OBJS)
 * and the helper (src/cfg/cfg.mk) compile this same file.
 *
 * src/dovecot_version.c
 *
 *-------------------------------------------------------------------------
 */
#include "dovecot_version.h"

#include <ctype.h>

/* The blanks around the first word: what a line of output is made of. */
static int
version_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Is the decimal number at s (ending at end or at its first non-digit)
 * at least the one-digit number d?  Leading zeros do not count, so
 * "010" is ten; no digits at all is less than anything.
 */
static int
number_at_least(const char *s, const char *end, char d)
{
	size_t		n = 0;

	while (s + 1 < end && s[0] == '0' && isdigit((unsigned char) s[1]))
		s++;
	while (s + n < end && isdigit((unsigned char) s[n]))
		n++;
	return n > 1 || (n == 1 && s[0] >= d);
}

/*
 * dovecot_version_parse
 *		Read the first word of text as a Dovecot version.
 *
 * Fills *v: the first word (blanks before it skipped), whether it is a
 * dotted number, and whether its leading numbers say 1.2 or later and 2 or
 * later.  Those two are read from the leading digits even when the word
 * goes on with something else (2.1.rc3 is 2 or later), for the helper,
 * which writes such versions too; the extension takes only dotted
 * numbers.  Returns v->dotted.
 */
int
dovecot_version_parse(const char *text, DovecotVersion *v)
{
	const char *p = text;
	const char *end;
	const char *q;
	int			want_digit = 1;

	while (version_blank(*p))
		p++;
	for (end = p; *end != '\0' && !version_blank(*end); end++)
		;
	v->word = p;
	v->len = (size_t) (end - p);

	v->dotted = 1;
	for (q = p; q < end && v->dotted; q++)
	{
		if (isdigit((unsigned char) *q))
			want_digit = 0;
		else if (*q == '.' && !want_digit)
			want_digit = 1;
		else
			v->dotted = 0;
	}
	if (want_digit)
		v->dotted = 0;			/* empty, or ends with a dot */

	v->at_least_2 = number_at_least(p, end, '2');
	if (v->at_least_2)
		v->at_least_1_2 = 1;
	else if (number_at_least(p, end, '1'))
	{
		/* major version 1: the minor decides */
		while (p < end && isdigit((unsigned char) *p))
			p++;
		v->at_least_1_2 = p < end && *p == '.' &&
			number_at_least(p + 1, end, '2');
	}
	else
		v->at_least_1_2 = 0;
	return v->dotted;
}
