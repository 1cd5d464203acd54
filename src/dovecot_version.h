/*-------------------------------------------------------------------------
 *
 * dovecot_version.h
 *	  Read a Dovecot version as "dovecot --version" prints it.
 *
 * The one parser of Dovecot versions, compiled into the extension's module
 * (src/vmm_upgrade.c: the setting vmm_upgrade.dovecot_version and
 * vmm_upgrade._dovecot_variant) and into vmm-cfg-upgrade (src/cfg: the
 * probe of the installed Dovecot and the Dovecot 2 switch of vmm.cfg), so
 * that both read a version the same way.  Standalone C99: no PostgreSQL
 * header, no allocation, nothing but <stddef.h> here.
 *
 * src/dovecot_version.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef DOVECOT_VERSION_H
#define DOVECOT_VERSION_H

#include <stddef.h>

/* What the first word of a "dovecot --version" output says. */
typedef struct DovecotVersion
{
	const char *word;			/* the first word, inside the text given */
	size_t		len;			/* its length; 0 when the text is blank */
	int			dotted;			/* the word is a dotted number: digits with
								 * single dots between (1.2.17, 2.3.19.1) */
	int			at_least_1_2;	/* its major.minor is 1.2 or later */
	int			at_least_2;		/* its major is 2 or later */
} DovecotVersion;

extern int	dovecot_version_parse(const char *text, DovecotVersion *v);

#endif							/* DOVECOT_VERSION_H */
