/*-------------------------------------------------------------------------
 *
 * cfg_upgrade.h
 *	  Shared declarations of vmm-cfg-upgrade: growable buffers, line
 *	  splitting, the in-memory rewriters for vmm.cfg, Postfix pgsql-*.cf
 *	  and Dovecot SQL files (both ways: to vmm 0.6 and, --revert, back to
 *	  0.5.2), and the unified diff printer.
 *
 * The rewriters work purely in memory (bytes in, bytes and a report
 * out) so that the fuzz target can drive them without touching files;
 * all file system work lives in vmm-cfg-upgrade.c.
 *
 * src/cfg/cfg_upgrade.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CFG_UPGRADE_H
#define CFG_UPGRADE_H

#include <stddef.h>

/* the release of vmm_upgrade (the file VERSION), given by the build (cfg.mk) */
#define CFG_UPGRADE_VERSION VMM_RELEASE

#if defined(__GNUC__) || defined(__clang__)
#define CFG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CFG_PRINTF(f, a)
#endif

/* exit codes, documented in doc/vmm-cfg-upgrade.1 */
#define CFG_EXIT_OK			0	/* done, or nothing to do */
#define CFG_EXIT_ERROR		1	/* malformed line, conflict, I/O error */
#define CFG_EXIT_CHANGES	1	/* --check: something needs changing */
#define CFG_EXIT_MISSING	2	/* a named file or directory is missing */
#define CFG_EXIT_UNKNOWN	3	/* not a vmm.cfg of a known generation */
#define CFG_EXIT_USAGE		64	/* bad command line */

/* largest file we are willing to rewrite */
#define CFG_MAX_FILE_SIZE	(256 * 1024)

/* a growable byte buffer, always NUL-terminated */
typedef struct StrBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} StrBuf;

extern void sb_init(StrBuf *sb);
extern void sb_free(StrBuf *sb);
extern void sb_append(StrBuf *sb, const char *s, size_t n);
extern void sb_puts(StrBuf *sb, const char *s);
extern void sb_printf(StrBuf *sb, const char *fmt,...) CFG_PRINTF(2, 3);

extern void *cfg_malloc(size_t n);
extern void *cfg_realloc(void *p, size_t n);
extern char *cfg_strndup(const char *s, size_t n);

/* one physical line of an input buffer; text excludes the line end */
typedef struct SrcLine
{
	const char *text;
	size_t		len;
	const char *eol;			/* "\n", "\r\n" or "" (last line) */
	int			lineno;			/* 1-based */
} SrcLine;

extern size_t cfg_split_lines(const char *buf, size_t len, SrcLine **lines);
extern const char *cfg_default_eol(const SrcLine *lines, size_t n);

/* an error found while rewriting: exit code and "file:line: reason" */
typedef struct CfgError
{
	int			code;
	char		msg[2048];	/* room for a few paths */
} CfgError;

extern void cfg_set_error(CfgError *err, int code, const char *fname,
						  int lineno, const char *fmt,...) CFG_PRINTF(5, 6);

/* the result of rewriting one file in memory */
typedef struct Rewrite
{
	StrBuf		out;			/* the new file content */
	int			changed;		/* out differs from the input */
	StrBuf		report;			/* human-readable report lines */
} Rewrite;

extern void rewrite_init(Rewrite *rw);
extern void rewrite_free(Rewrite *rw);

/*
 * How vmm.cfg's misc.dovecot_version is obtained.  "version" wins when
 * set (--dovecot-version); otherwise probe() is asked (it runs
 * "dovecot --version"); it returns 1 with a version in buf, 0 when
 * Dovecot is not installed, or -1 with err set.
 */
typedef struct UpgradeOpts
{
	const char *version;
	int			(*probe) (void *ctx, char *buf, size_t bufsize, CfgError *err);
	void	   *probe_ctx;
	const char *doveadm;		/* path to put into bin.dovecotpw */
} UpgradeOpts;

/* generations of vmm.cfg */
#define CFG_GEN_UNKNOWN 0
#define CFG_GEN_052		1
#define CFG_GEN_06		2
#define CFG_GEN_04		3	/* vmm 0.4: taken through 0.5 to 0.6 */

extern int	vmmcfg_upgrade(const char *fname, const char *buf, size_t len,
						   const UpgradeOpts *opts, Rewrite *rw,
						   int *generation, CfgError *err);

/* a backup of vmm.cfg, for the way back: its name (for the report), content */
typedef struct CfgBackup
{
	const char *name;
	const char *data;
	size_t		len;
} CfgBackup;

extern int	vmmcfg_revert(const char *fname, const char *buf, size_t len,
						  const CfgBackup *baks, size_t nbaks, Rewrite *rw,
						  int *generation, int *used, CfgError *err);

extern int	postfix_rewrite(const char *fname, const char *buf, size_t len,
							int revert, Rewrite *rw, CfgError *err);
extern int	dovecot_rewrite(const char *fname, const char *buf, size_t len,
							int quota, int revert, Rewrite *rw, CfgError *err);

extern int	queries_backup_matches(const char *client, const char *name,
								   const char *data, size_t dlen,
								   const char *buf, size_t len);

extern void cfg_unified_diff(const char *oldname, const char *newname,
							 const char *a, size_t alen,
							 const char *b, size_t blen, StrBuf *out);

#endif							/* CFG_UPGRADE_H */
