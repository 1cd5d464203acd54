/*-------------------------------------------------------------------------
 *
 * vmm-cfg-upgrade.c
 *	  Command line front end of vmm-cfg-upgrade: upgrades vmm.cfg from
 *	  vmm 0.5.2 to 0.6 and rewrites the Postfix and Dovecot SQL queries
 *	  from vmm 0.5.2's views to vmm 0.6's functions; with --revert, back.
 *
 * This file does everything that touches the system: option parsing,
 * finding vmm.cfg like vmm does, asking "dovecot --version", and writing
 * files safely.  All files are read and rewritten in memory first; only
 * when every one of them is fine are they written, each through a
 * temporary file in its own directory (fsync, keep mode and owner,
 * rename), after a backup copy FILE.bak.<UTC timestamp>.  Any error
 * before the renames leaves every file as it was.
 *
 * Paths are resolved once, one component at a time (walk), refusing
 * symbolic links other users could have planted (link_allowed); after
 * that every file is read, created, renamed and removed relative to the
 * descriptor of the directory it was found in, so that a directory
 * swapped later cannot send a write somewhere else.
 *
 * src/cfg/vmm-cfg-upgrade.c
 *
 *-------------------------------------------------------------------------
 */
#define _XOPEN_SOURCE 700

#include "cfg_upgrade.h"
#include "dovecot_version.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROG "vmm-cfg-upgrade"

#ifndef VMM_RELEASE
#error "VMM_RELEASE must be defined: -DVMM_RELEASE='\"x.y.z\"', the file VERSION (src/cfg/cfg.mk)"
#endif

/* one file we read and may write */
typedef struct Job
{
	char	   *path;			/* as the user named it (for messages) */
	int			dirfd;			/* the directory holding the file we replace */
	char	   *dir;			/* that directory's path, links resolved */
	char	   *name;			/* the file's name in dirfd */
	char	   *real;			/* dir/name, for messages */
	char	   *old;			/* its content */
	size_t		oldlen;
	struct stat st;
	Rewrite		rw;
	const char *kind;			/* "vmm.cfg", "postfix", "dovecot" */
	int			generation;
	char	   *tmp;			/* temporary file's name in dirfd, while
								 * committing */
	char	   *bakname;		/* backup file's name in dirfd, once written */
	char	   *bak;			/* dir/bakname, for messages */
	char	   *restored;		/* --revert: the backup vmm.cfg came back from */
	int			renamed;
} Job;

typedef struct Options
{
	const char *config;
	const char *dovecot_version;
	const char *doveadm;
	const char *postfix_dir;
	const char *dovecot_sql;
	int			quota;
	int			no_vmm_cfg;
	int			no_backup;
	int			dry_run;
	int			check;
	int			quiet;
	int			revert;
} Options;

/* what the Dovecot probe found, for the report */
typedef struct ProbeInfo
{
	char		path[PATH_MAX];
	char		said[64];		/* its first word, when we shortened it */
	int			used;
} ProbeInfo;

static Job *jobs = NULL;
static size_t njobs = 0;

/* Print the --help text. */
static void
usage(FILE *f)
{
	fprintf(f,
			"Usage: " PROG " [OPTION]... [VMM.CFG]\n"
			"Upgrade vmm.cfg from vmm 0.5.2 to 0.6 and the Postfix/Dovecot SQL queries\n"
			"from vmm 0.5.2's views to vmm 0.6's functions, or (--revert) back.\n"
			"\n"
			"  -c, --config FILE          vmm.cfg to upgrade (default: the first of\n"
			"                             /root/vmm.cfg, /usr/local/etc/vmm.cfg, /etc/vmm.cfg)\n"
			"      --no-vmm-cfg           leave vmm.cfg alone, only rewrite queries\n"
			"      --dovecot-version VER  Dovecot version for misc.dovecot_version\n"
			"                             (default: \"dovecot --version\", else dovecotvers)\n"
			"      --doveadm PATH         doveadm for bin.dovecotpw with Dovecot 2\n"
			"                             (default /usr/bin/doveadm)\n"
			"      --postfix-dir DIR      rewrite the query of DIR/pgsql-*.cf\n"
			"      --dovecot-sql FILE     rewrite password_query and user_query of FILE\n"
			"      --quota                user_query with quota_rule (dovecotquotauser)\n"
			"      --revert               back to vmm 0.5.2: vmm.cfg from the backup this\n"
			"                             tool made (if it still matches) or by the rules,\n"
			"                             the queries to vmm 0.5.2's views\n"
			"  -n, --dry-run              print a unified diff, change nothing\n"
			"      --check                exit 1 if something needs changing, else 0\n"
			"      --no-backup            do not keep FILE.bak.<timestamp> copies\n"
			"  -q, --quiet                print errors only\n"
			"  -h, --help                 show this help and exit\n"
			"  -V, --version              show the version and exit\n"
			"\n"
			"Exit status: 0 done or nothing to do; 1 error (malformed line: FILE:LINE:\n"
			"reason), or with --check: something needs changing; 2 a file or directory\n"
			"is missing; 3 not a vmm.cfg of a known generation; 64 bad usage.\n"
			"See vmm-cfg-upgrade(1).\n");
}

/* Report a usage error and exit. */
static void
usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, PROG ": %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	fprintf(stderr, "Try '" PROG " --help'.\n");
	exit(CFG_EXIT_USAGE);
}

/*
 * Parse a run of decimal digits no larger than 255 (vmm 0.6 packs each
 * version part into one byte and rejects larger ones).  Returns the
 * number of bytes consumed, 0 when there is no valid number.
 */
static size_t
small_number(const char *s, size_t n)
{
	size_t		i = 0;
	unsigned	val = 0;

	while (i < n && isdigit((unsigned char) s[i]))
	{
		val = val * 10 + (unsigned) (s[i] - '0');
		if (val > 255 || i >= 3)
			return 0;
		i++;
	}
	return i;
}

/*
 * Does v look like a Dovecot version vmm 0.6 accepts: MAJOR.MINOR.PATCH
 * or MAJOR.MINOR.(alpha|beta|rc)N, each number at most 255?  vmm 0.6
 * refuses to start with anything else in misc.dovecot_version, so we
 * never write anything else there.  This is vmm's rule for what it
 * stores, on top of the reading of "dovecot --version" that the helper
 * shares with the extension (src/dovecot_version.c).
 */
static int
vmm_version_ok(const char *v, size_t n)
{
	size_t		pos = 0,
				k;
	int			part;

	for (part = 0; part < 2; part++)
	{
		k = small_number(v + pos, n - pos);
		if (k == 0 || pos + k >= n || v[pos + k] != '.')
			return 0;
		pos += k + 1;
	}
	{
		const char *rest = v + pos;
		size_t		restlen = n - pos;

		if (restlen > 0 && isdigit((unsigned char) rest[0]))
		{
			k = small_number(rest, restlen);
			return k > 0 && k == restlen;
		}
		if (restlen > 5 && strncmp(rest, "alpha", 5) == 0)
			pos += 5;
		else if (restlen > 4 && strncmp(rest, "beta", 4) == 0)
			pos += 4;
		else if (restlen > 2 && strncmp(rest, "rc", 2) == 0)
			pos += 2;
		else
			return 0;
	}
	k = small_number(v + pos, n - pos);
	return k > 0 && pos + k == n;
}

/*
 * Match a long option with its argument, as "--name VALUE" or
 * "--name=VALUE".  Returns 1 and sets *val when argv[*i] is that option.
 */
static int
opt_arg(int argc, char **argv, int *i, const char *name, const char **val)
{
	const char *a = argv[*i];
	size_t		n = strlen(name);

	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=')
	{
		*val = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		usage_error("option needs an argument", name);
	*val = argv[++*i];
	return 1;
}

/* Parse the command line (getopt_long is not in C99 or POSIX). */
static void
parse_args(int argc, char **argv, Options *o)
{
	int			i;
	int			no_more_opts = 0;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++)
	{
		const char *a = argv[i];
		const char *v;

		if (no_more_opts || a[0] != '-' || a[1] == '\0')
		{
			if (o->config)
				usage_error("more than one vmm.cfg given", a);
			o->config = a;
		}
		else if (strcmp(a, "--") == 0)
			no_more_opts = 1;
		else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
		{
			usage(stdout);
			exit(CFG_EXIT_OK);
		}
		else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0)
		{
			printf(PROG " " CFG_UPGRADE_VERSION "\n");
			exit(CFG_EXIT_OK);
		}
		else if (strcmp(a, "-c") == 0)
		{
			if (i + 1 >= argc)
				usage_error("option needs an argument", a);
			if (o->config)
				usage_error("more than one vmm.cfg given", argv[i + 1]);
			o->config = argv[++i];
		}
		else if (opt_arg(argc, argv, &i, "--config", &v))
		{
			if (o->config)
				usage_error("more than one vmm.cfg given", v);
			o->config = v;
		}
		else if (opt_arg(argc, argv, &i, "--dovecot-version", &v))
			o->dovecot_version = v;
		else if (opt_arg(argc, argv, &i, "--doveadm", &v))
			o->doveadm = v;
		else if (opt_arg(argc, argv, &i, "--postfix-dir", &v))
			o->postfix_dir = v;
		else if (opt_arg(argc, argv, &i, "--dovecot-sql", &v))
			o->dovecot_sql = v;
		else if (strcmp(a, "--quota") == 0)
			o->quota = 1;
		else if (strcmp(a, "--revert") == 0)
			o->revert = 1;
		else if (strcmp(a, "--no-vmm-cfg") == 0)
			o->no_vmm_cfg = 1;
		else if (strcmp(a, "--no-backup") == 0)
			o->no_backup = 1;
		else if (strcmp(a, "-n") == 0 || strcmp(a, "--dry-run") == 0)
			o->dry_run = 1;
		else if (strcmp(a, "--check") == 0)
			o->check = 1;
		else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
			o->quiet = 1;
		else
			usage_error("unknown option", a);
	}
	if (o->dovecot_version &&
		!vmm_version_ok(o->dovecot_version, strlen(o->dovecot_version)))
		usage_error("not a Dovecot version vmm 0.6 understands (like 1.2.11, 2.0.21, 2.1.rc3)",
					o->dovecot_version);
	if (o->doveadm && o->doveadm[0] != '/')
		usage_error("--doveadm needs an absolute path", o->doveadm);
	if (o->revert && (o->quota || o->dovecot_version || o->doveadm))
		usage_error("--revert takes none of --quota, --dovecot-version, --doveadm",
					o->quota ? "--quota" : o->dovecot_version ? "--dovecot-version" : "--doveadm");
	if (o->no_vmm_cfg && o->config)
		usage_error("--no-vmm-cfg and a vmm.cfg exclude each other", o->config);
	if (o->no_vmm_cfg && !o->postfix_dir && !o->dovecot_sql)
		usage_error("nothing to do", "--no-vmm-cfg without --postfix-dir or --dovecot-sql");
}

/* Join a directory and a file name into a new string. */
static char *
path_join(const char *dir, const char *name)
{
	StrBuf		sb;

	sb_init(&sb);
	sb_puts(&sb, dir);
	if (sb.len == 0 || sb.data[sb.len - 1] != '/')
		sb_puts(&sb, "/");
	sb_puts(&sb, name);
	return sb.data;
}

/*
 * Find vmm.cfg the way vmm does: the first regular file vmm.cfg in
 * /root, /usr/local/etc, /etc.  VMM_CFG_SEARCH_DIRS (colon-separated)
 * replaces that list, for tests.
 */
static char *
find_vmm_cfg(CfgError *err)
{
	const char *dirs = getenv("VMM_CFG_SEARCH_DIRS");
	char	   *copy,
			   *p,
			   *save = NULL;

	if (dirs == NULL)
		dirs = "/root:/usr/local/etc:/etc";
	copy = cfg_strndup(dirs, strlen(dirs));
	for (p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save))
	{
		char	   *cand = path_join(p, "vmm.cfg");
		struct stat st;

		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode))
		{
			free(copy);
			return cand;
		}
		free(cand);
	}
	free(copy);
	cfg_set_error(err, CFG_EXIT_MISSING, "vmm.cfg", 0,
				  "not found in %s", dirs);
	return NULL;
}

/* most symbolic links followed for one path (Linux's limit too) */
#define CFG_MAX_LINKS 40

/*
 * Where a path led: an open directory and the name of the path's last
 * entry in it.  Everything after the walk works relative to dirfd, so a
 * directory on the way that is renamed, or replaced by a symbolic link,
 * later cannot redirect what we read or write.
 */
typedef struct Loc
{
	int			dirfd;			/* the directory holding the entry */
	char	   *dir;			/* its path, links resolved (for messages) */
	char	   *name;			/* the entry's name; "." for dirfd itself */
	struct stat st;				/* the entry; never a symbolic link */
} Loc;

/* Release what a Loc holds. */
static void
loc_free(Loc *loc)
{
	if (loc->dirfd >= 0)
		close(loc->dirfd);
	free(loc->dir);
	free(loc->name);
	loc->dirfd = -1;
	loc->dir = NULL;
	loc->name = NULL;
}

/* The path of a Loc's entry, for messages (a new string). */
static char *
loc_path(const Loc *loc)
{
	if (strcmp(loc->name, ".") == 0)
		return cfg_strndup(loc->dir, strlen(loc->dir));
	return path_join(loc->dir, loc->name);
}

/*
 * The current directory's path, for messages only (getcwd's answer has
 * no symbolic links, like realpath's had); "." if it cannot be told.
 */
static char *
cwd_path(void)
{
	char		buf[PATH_MAX];

	if (getcwd(buf, sizeof(buf)) == NULL)
		return cfg_strndup(".", 1);
	return cfg_strndup(buf, strlen(buf));
}

/* The parent of a directory path the walk built (a new string). */
static char *
parent_path(const char *dir)
{
	const char *slash = strrchr(dir, '/');

	if (dir[0] != '/' || slash == NULL)
		return path_join(dir, "..");
	if (slash == dir)
		return cfg_strndup("/", 1);
	return cfg_strndup(dir, (size_t) (slash - dir));
}

/*
 * Open the entry name of dirfd as a directory, never through a symbolic
 * link.  When st is given, the directory must be the one fstatat saw: an
 * entry swapped in between is reported (-2), not entered.  A directory
 * we may search but not read is opened with POSIX's O_SEARCH where the C
 * library has it.  Returns the descriptor, or -1 with errno set.
 */
static int
open_dir_at(int dirfd, const char *name, const struct stat *st)
{
	int			fd;
	struct stat now;

	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
#ifdef O_SEARCH
	if (fd < 0 && errno == EACCES)
		fd = openat(dirfd, name, O_SEARCH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
#endif
	if (fd < 0)
		return (st != NULL && (errno == ELOOP || errno == ENOTDIR)) ? -2 : -1;
	if (st != NULL && (fstat(fd, &now) != 0 || now.st_dev != st->st_dev ||
					   now.st_ino != st->st_ino))
	{
		close(fd);
		return -2;
	}
	return fd;
}

/* Report a failed open_dir_at of path (shown: the path the user gave). */
static void
open_dir_error(CfgError *err, const char *shown, const char *path, int rc)
{
	if (rc == -2)
		cfg_set_error(err, CFG_EXIT_ERROR, shown, 0,
					  "%s was replaced while we looked at it; nothing written, run again",
					  path);
	else
		cfg_set_error(err, errno == ENOENT ? CFG_EXIT_MISSING : CFG_EXIT_ERROR,
					  shown, 0, "cannot open directory %s: %s", path,
					  strerror(errno));
}

/*
 * May the walk follow the symbolic link lst (its lstat) found in dirfd?
 * Root following a link another user planted would read, print or
 * replace a file that user cannot touch.  So a link is followed if it
 * belongs to root or to whoever runs us; a link that belongs to the
 * owner of its directory (the kernel's fs.protected_symlinks rule) only
 * if it leads to that owner's own file or directory (*check_owner is
 * set; the caller checks where it led), so that it gives its owner
 * nothing he did not have; any other link is refused.  Returns 0 when
 * it may be followed, -1 with err set.
 */
static int
link_allowed(int dirfd, const char *linkpath, const struct stat *lst,
			 const char *shown, int *check_owner, CfgError *err)
{
	struct stat dst;
	uid_t		me = geteuid();

	*check_owner = 0;
	if (lst->st_uid == 0 || lst->st_uid == me)
		return 0;
	if (fstat(dirfd, &dst) != 0)
	{
		cfg_set_error(err, CFG_EXIT_ERROR, shown, 0, "%s: %s", linkpath,
					  strerror(errno));
		return -1;
	}
	if (dst.st_uid == lst->st_uid)
	{
		*check_owner = 1;
		return 0;
	}
	cfg_set_error(err, CFG_EXIT_ERROR, shown, 0,
				  "refusing to follow symbolic link %s: it belongs to uid %ld, not to root%s or to the owner of its directory (uid %ld); another user may have planted it",
				  linkpath, (long) lst->st_uid, me == 0 ? "" : ", to you",
				  (long) dst.st_uid);
	return -1;
}

/* Read the target of the symbolic link name in dirfd (a new string). */
static char *
read_link(int dirfd, const char *name, const struct stat *lst,
		  const char *linkpath, const char *shown, CfgError *err)
{
	size_t		size = lst->st_size > 0 ? (size_t) lst->st_size + 1 : 256;

	for (;;)
	{
		char	   *buf = cfg_malloc(size);
		ssize_t		n = readlinkat(dirfd, name, buf, size);

		if (n < 0)
		{
			cfg_set_error(err, CFG_EXIT_ERROR, shown, 0,
						  "cannot read symbolic link %s: %s", linkpath,
						  strerror(errno));
			free(buf);
			return NULL;
		}
		if ((size_t) n < size)
		{
			buf[n] = '\0';
			return buf;
		}
		free(buf);
		if (size > 65536)
		{
			cfg_set_error(err, CFG_EXIT_ERROR, shown, 0,
						  "cannot read symbolic link %s: %s", linkpath,
						  strerror(ENAMETOOLONG));
			return NULL;
		}
		size *= 2;
	}
}

static int	walk(int basefd, const char *basedir, const char *path,
				 const char *shown, int *links, Loc *out, CfgError *err);

/*
 * Follow the symbolic link name in dirfd (whose path is dir) if
 * link_allowed says so: walk its target from that directory, with the
 * same rules for every link on the way.  *out is where it led.
 */
static int
follow_link(int dirfd, const char *dir, const char *name,
			const struct stat *lst, const char *shown, int *links,
			Loc *out, CfgError *err)
{
	char	   *linkpath = path_join(dir, name);
	char	   *target = NULL;
	int			check_owner = 0;
	int			rc = -1;

	if (++*links > CFG_MAX_LINKS)
		cfg_set_error(err, CFG_EXIT_ERROR, shown, 0, "%s", strerror(ELOOP));
	else if (link_allowed(dirfd, linkpath, lst, shown, &check_owner, err) == 0 &&
			 (target = read_link(dirfd, name, lst, linkpath, shown, err)) != NULL &&
			 walk(dirfd, dir, target, shown, links, out, err) == 0)
	{
		if (check_owner && out->st.st_uid != lst->st_uid)
		{
			char	   *to = loc_path(out);

			cfg_set_error(err, CFG_EXIT_ERROR, shown, 0,
						  "refusing to follow symbolic link %s: it belongs to uid %ld, the owner of its directory, but leads to %s of uid %ld; such a link is followed only to its owner's own files",
						  linkpath, (long) lst->st_uid, to,
						  (long) out->st.st_uid);
			free(to);
			loc_free(out);
		}
		else
			rc = 0;
	}
	free(target);
	free(linkpath);
	return rc;
}

/*
 * One step of walk() into a directory, down (name in dfd, which must still
 * be what st says) or up ("..", st NULL): it becomes the current one,
 * *cur and *curdir, whose path dpath it takes over.  Returns 0, or -1 with
 * err set and the walk's current directory unchanged.
 */
static int
step_into(int *cur, char **curdir, int dfd, const char *name,
		  const struct stat *st, char *dpath, const char *shown,
		  CfgError *err)
{
	int			fd = open_dir_at(dfd, name, st);

	if (fd < 0)
	{
		open_dir_error(err, shown, dpath, fd);
		free(dpath);
		return -1;
	}
	close(*cur);
	*cur = fd;
	free(*curdir);
	*curdir = dpath;
	return 0;
}

/*
 * Resolve path one component at a time, the kernel's way but with our
 * own rule for symbolic links (link_allowed), holding each directory
 * open (O_DIRECTORY | O_NOFOLLOW) and looking the next name up in it.
 * O_NOFOLLOW alone would guard only the last component.  A relative
 * path starts at basefd (AT_FDCWD: the current directory), whose path
 * is basedir (ignored for AT_FDCWD).  shown is the path the user gave,
 * for messages; *links counts the links followed.  On success *out
 * holds the directory that holds the last entry (which must exist) and
 * its name; that entry is not a symbolic link.
 */
static int
walk(int basefd, const char *basedir, const char *path, const char *shown,
	 int *links, Loc *out, CfgError *err)
{
	int			cur,
				rc;
	char	   *curdir;
	const char *p = path;

	out->dirfd = -1;
	out->dir = NULL;
	out->name = NULL;
	if (path[0] == '\0')
	{
		cfg_set_error(err, CFG_EXIT_MISSING, shown, 0, "%s", strerror(ENOENT));
		return -1;
	}
	if (path[0] == '/')
	{
		curdir = cfg_strndup("/", 1);
		cur = open_dir_at(AT_FDCWD, "/", NULL);
	}
	else if (basefd == AT_FDCWD)
	{
		curdir = cwd_path();
		cur = open_dir_at(AT_FDCWD, ".", NULL);
	}
	else
	{
		curdir = cfg_strndup(basedir, strlen(basedir));
		cur = fcntl(basefd, F_DUPFD_CLOEXEC, 0);
	}
	if (cur < 0)
	{
		open_dir_error(err, shown, curdir, -1);
		free(curdir);
		return -1;
	}
	for (;;)
	{
		const char *end;
		char	   *comp;
		int			last,
					want_dir;
		struct stat st;
		Loc			next;

		while (*p == '/')
			p++;
		if (*p == '\0')
		{
			/* the path ends with a directory itself: "/", "dir/.", ".." */
			if (fstat(cur, &out->st) != 0)
			{
				cfg_set_error(err, CFG_EXIT_ERROR, shown, 0, "%s: %s", curdir,
							  strerror(errno));
				break;
			}
			out->dirfd = cur;
			out->dir = curdir;
			out->name = cfg_strndup(".", 1);
			return 0;
		}
		end = strchr(p, '/');
		if (end == NULL)
			end = p + strlen(p);
		comp = cfg_strndup(p, (size_t) (end - p));
		p = end;
		want_dir = (*p == '/');
		while (*end == '/')
			end++;
		last = (*end == '\0');
		if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0)
		{
			rc = strcmp(comp, "..") == 0 ?
				step_into(&cur, &curdir, cur, "..", NULL, parent_path(curdir),
						  shown, err) : 0;
			free(comp);
			if (rc != 0)
				break;
			continue;
		}
		if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) != 0)
		{
			cfg_set_error(err, errno == ENOENT ? CFG_EXIT_MISSING : CFG_EXIT_ERROR,
						  shown, 0, "%s", strerror(errno));
			free(comp);
			break;
		}
		if (S_ISLNK(st.st_mode))
		{
			rc = follow_link(cur, curdir, comp, &st, shown, links, &next, err);
			free(comp);
			if (rc != 0)
				break;
		}
		else
		{
			next.dirfd = -1;
			next.dir = NULL;
			next.name = comp;
			next.st = st;
		}
		if (want_dir && !S_ISDIR(next.st.st_mode))
		{
			cfg_set_error(err, CFG_EXIT_ERROR, shown, 0, "%s", strerror(ENOTDIR));
			loc_free(&next);
			break;
		}
		if (last)
		{
			if (next.dirfd < 0)
			{
				next.dirfd = cur;
				next.dir = curdir;
			}
			else
			{
				close(cur);
				free(curdir);
			}
			*out = next;
			return 0;
		}
		/* go on inside the directory this component named */
		rc = step_into(&cur, &curdir, next.dirfd >= 0 ? next.dirfd : cur,
					   next.name, &next.st,
					   next.dir ? loc_path(&next) : path_join(curdir, next.name),
					   shown, err);
		loc_free(&next);
		if (rc != 0)
			break;
	}
	close(cur);
	free(curdir);
	return -1;
}

/* What a file that is not a regular file is, for the message refusing it. */
static const char *
file_type(mode_t mode)
{
	static const struct
	{
		mode_t		fmt;
		const char *what;
	}			types[] = {
		{S_IFDIR, "a directory"},
		{S_IFIFO, "a FIFO"},
		{S_IFCHR, "a character device"},
		{S_IFBLK, "a block device"},
		{S_IFSOCK, "a socket"},
		{S_IFLNK, "a symbolic link"},
	};
	size_t		i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if ((mode & S_IFMT) == types[i].fmt)
			return types[i].what;
	return "of an unknown type";
}

/*
 * Read the whole regular file open as fd (st: its fstat) into a new
 * buffer (*buf, *len).  Returns 0, or -1 with err set: too large, grew
 * while being read, I/O error.
 */
static int
read_contents(int fd, const struct stat *st, const char *shown, char **buf,
			  size_t *len, CfgError *err)
{
	size_t		got = 0;
	char	   *b;

	if (st->st_size > CFG_MAX_FILE_SIZE)
	{
		cfg_set_error(err, CFG_EXIT_ERROR, shown, 0,
					  "larger than %d bytes, surely not a configuration file",
					  CFG_MAX_FILE_SIZE);
		return -1;
	}
	b = cfg_malloc((size_t) st->st_size + 1);
	for (;;)
	{
		ssize_t		r;

		if (got == (size_t) st->st_size + 1)
		{
			cfg_set_error(err, CFG_EXIT_ERROR, shown, 0,
						  "grew while being read");
			free(b);
			return -1;
		}
		r = read(fd, b + got, (size_t) st->st_size + 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
		{
			cfg_set_error(err, CFG_EXIT_ERROR, shown, 0, "%s",
						  strerror(errno));
			free(b);
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t) r;
	}
	*buf = b;
	*len = got;
	return 0;
}

/*
 * Read a whole regular file into a new job.  path is resolved by walk
 * (relative to basefd, whose path is basedir); shown names it in
 * messages.  A missing file is exit 2; anything else that stops us
 * reading it is exit 1.  The file is opened with O_NONBLOCK, so that a
 * FIFO (which would wait for a writer forever) or a device does not
 * hang us before fstat can tell it is no regular file; for a regular
 * file O_NONBLOCK is then cleared again.
 */
static Job *
read_job(int basefd, const char *basedir, const char *path,
		 const char *shown, const char *kind, CfgError *err)
{
	Job		   *j;
	Loc			loc;
	int			fd,
				links = 0;
	struct stat st;
	char	   *buf;
	size_t		got = 0,
				i;

	if (walk(basefd, basedir, path, shown, &links, &loc, err) != 0)
		return NULL;
	fd = openat(loc.dirfd, loc.name,
				O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
	{
		/* a socket cannot be opened at all (ENXIO) */
		if (errno != ENOENT && !S_ISREG(loc.st.st_mode))
			cfg_set_error(err, CFG_EXIT_ERROR, shown, 0,
						  "not a regular file (%s); refused",
						  file_type(loc.st.st_mode));
		else
			cfg_set_error(err, errno == ENOENT ? CFG_EXIT_MISSING : CFG_EXIT_ERROR,
						  shown, 0, "%s", strerror(errno));
		loc_free(&loc);
		return NULL;
	}
	if (fstat(fd, &st) != 0)
	{
		cfg_set_error(err, CFG_EXIT_ERROR, shown, 0, "%s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode))
	{
		cfg_set_error(err, CFG_EXIT_ERROR, shown, 0,
					  "not a regular file (%s); refused", file_type(st.st_mode));
		goto fail;
	}
	{
		int			fl = fcntl(fd, F_GETFL);

		if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
		{
			cfg_set_error(err, CFG_EXIT_ERROR, shown, 0, "%s", strerror(errno));
			goto fail;
		}
	}
	if (st.st_dev != loc.st.st_dev || st.st_ino != loc.st.st_ino)
	{
		cfg_set_error(err, CFG_EXIT_ERROR, shown, 0,
					  "was replaced while we looked at it; nothing written, run again");
		goto fail;
	}
	for (i = 0; i < njobs; i++)
		if (jobs[i].st.st_dev == st.st_dev && jobs[i].st.st_ino == st.st_ino)
		{
			cfg_set_error(err, CFG_EXIT_ERROR, shown, 0,
						  "is the same file as %s; name each file once",
						  jobs[i].path);
			goto fail;
		}
	if (read_contents(fd, &st, shown, &buf, &got, err) != 0)
		goto fail;
	close(fd);
	jobs = cfg_realloc(jobs, (njobs + 1) * sizeof(Job));
	j = &jobs[njobs++];
	memset(j, 0, sizeof(*j));
	j->path = cfg_strndup(shown, strlen(shown));
	j->dirfd = loc.dirfd;
	j->dir = loc.dir;
	j->name = loc.name;
	j->real = path_join(loc.dir, loc.name);
	j->old = buf;
	j->oldlen = got;
	j->st = st;
	j->kind = kind;
	rewrite_init(&j->rw);
	return j;

fail:
	close(fd);
	loc_free(&loc);
	return NULL;
}

/*
 * Locate the dovecot binary: VMM_CFG_DOVECOT if set (empty: treat Dovecot
 * as not installed), else PATH and the usual sbin directories.
 */
static int
find_dovecot(char *out, size_t outsize)
{
	const char *env = getenv("VMM_CFG_DOVECOT");
	const char *path = getenv("PATH");
	StrBuf		dirs;
	char	   *p,
			   *save = NULL;
	int			found = 0;

	if (env != NULL)
	{
		if (env[0] == '\0' || access(env, X_OK) != 0)
			return 0;
		snprintf(out, outsize, "%s", env);
		return 1;
	}
	sb_init(&dirs);
	sb_puts(&dirs, path ? path : "/usr/bin:/bin");
	sb_puts(&dirs, ":/usr/sbin:/usr/local/sbin:/sbin");
	for (p = strtok_r(dirs.data, ":", &save); p && !found;
		 p = strtok_r(NULL, ":", &save))
	{
		struct stat st;

		if (p[0] == '\0')
			continue;
		snprintf(out, outsize, "%s/dovecot", p);
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
			access(out, X_OK) == 0)
			found = 1;
	}
	sb_free(&dirs);
	return found;
}

/*
 * UpgradeOpts.probe: run "dovecot --version" (no shell) and take its
 * first word.  Dovecot 2.3 prints four parts (2.3.19.1), which vmm 0.6
 * rejects, so a fourth part is cut off with a note.  Returns 1 with the
 * version, 0 when Dovecot is not installed, -1 on failure.
 */
static int
probe_dovecot(void *ctx, char *buf, size_t bufsize, CfgError *err)
{
	ProbeInfo  *pi = ctx;
	int			fds[2],
				status;
	pid_t		pid;
	char		outbuf[512];
	size_t		got = 0,
				a,
				b;
	DovecotVersion dv;

	if (!find_dovecot(pi->path, sizeof(pi->path)))
		return 0;
	if (pipe(fds) != 0)
	{
		cfg_set_error(err, CFG_EXIT_ERROR, pi->path, 0, "pipe: %s",
					  strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0)
	{
		cfg_set_error(err, CFG_EXIT_ERROR, pi->path, 0, "fork: %s",
					  strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0)
	{
		int			devnull = open("/dev/null", O_RDWR);
		char	   *args[3];

		args[0] = pi->path;
		args[1] = (char *) "--version";
		args[2] = NULL;
		dup2(fds[1], 1);
		if (devnull >= 0)
		{
			dup2(devnull, 0);
			dup2(devnull, 2);
		}
		close(fds[0]);
		close(fds[1]);
		execv(pi->path, args);
		_exit(127);
	}
	close(fds[1]);
	for (;;)
	{
		ssize_t		r = read(fds[0], outbuf + got, sizeof(outbuf) - 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t) r;
		if (got == sizeof(outbuf) - 1)
			break;
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
		{
			status = -1;
			break;
		}
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
	{
		cfg_set_error(err, CFG_EXIT_ERROR, pi->path, 0,
					  "\"dovecot --version\" failed; give --dovecot-version");
		return -1;
	}
	outbuf[got] = '\0';
	dovecot_version_parse(outbuf, &dv);
	a = (size_t) (dv.word - outbuf);
	b = a + dv.len;
	if (!vmm_version_ok(outbuf + a, b - a))
	{
		/* a.b.c.d: keep a.b.c if that is a version vmm understands */
		const char *dot = NULL;
		size_t		k,
					dots = 0;

		for (k = a; k < b; k++)
			if (outbuf[k] == '.' && ++dots == 3)
				dot = outbuf + k;
		if (dot == NULL || !vmm_version_ok(outbuf + a, (size_t) (dot - outbuf) - a))
		{
			cfg_set_error(err, CFG_EXIT_ERROR, pi->path, 0,
						  "\"dovecot --version\" printed \"%.*s\", not a version vmm 0.6 understands; give --dovecot-version",
						  (int) (b - a > 60 ? 60 : b - a), outbuf + a);
			return -1;
		}
		snprintf(pi->said, sizeof(pi->said), "%.*s", (int) (b - a),
				 outbuf + a);
		b = (size_t) (dot - outbuf);
	}
	if (b - a >= bufsize)
		b = a + bufsize - 1;
	memcpy(buf, outbuf + a, b - a);
	buf[b - a] = '\0';
	pi->used = 1;
	return 1;
}

/* Write all of buf to fd, retrying short writes. */
static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0)
	{
		ssize_t		w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		len -= (size_t) w;
	}
	return 0;
}

/*
 * Give fd the mode and owner of st.  fchown may be refused to a non-root
 * user; that is only an error if the owner would then differ.
 */
static int
keep_mode_owner(int fd, const struct stat *st)
{
	struct stat now;

	if (fchmod(fd, st->st_mode & 07777) != 0)
		return -1;
	if (fchown(fd, st->st_uid, st->st_gid) != 0)
	{
		if (fstat(fd, &now) != 0 || now.st_uid != st->st_uid ||
			now.st_gid != st->st_gid)
			return -1;
		/* chown may have dropped set-id bits; reapply the mode */
		if (fchmod(fd, st->st_mode & 07777) != 0)
			return -1;
	}
	else if (fchmod(fd, st->st_mode & 07777) != 0)
		return -1;
	return 0;
}

/*
 * Temporary files are named CFG_TMP_PREFIX and CFG_TMP_RANDOM letters
 * and digits, so that a later run can tell the leftovers of a killed
 * one from anybody else's files (see remove_leftovers).
 */
#define CFG_TMP_PREFIX ".vmm-cfg-upgrade-"
#define CFG_TMP_RANDOM 12
#define CFG_TMP_NAMELEN (sizeof(CFG_TMP_PREFIX) - 1 + CFG_TMP_RANDOM)

static const char tmp_alphabet[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/*
 * Make a fresh temporary file name in name (CFG_TMP_NAMELEN + 1 bytes).
 * The random part comes from /dev/urandom where there is one, else from
 * the clock and the process id: it need not be unpredictable, since the
 * file is created with O_EXCL | O_NOFOLLOW (a name someone planted is
 * just skipped), only unlikely to be taken.
 */
static void
temp_name(char *name)
{
	static unsigned long long state = 0;
	unsigned char rnd[CFG_TMP_RANDOM];
	size_t		got = 0,
				i;
	int			fd = open("/dev/urandom", O_RDONLY | O_NOCTTY | O_CLOEXEC);

	while (fd >= 0 && got < sizeof(rnd))
	{
		ssize_t		r = read(fd, rnd + got, sizeof(rnd) - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t) r;
	}
	if (fd >= 0)
		close(fd);
	if (got < sizeof(rnd))
	{
		struct timespec ts;

		if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		{
			ts.tv_sec = time(NULL);
			ts.tv_nsec = 0;
		}
		state ^= ((unsigned long long) ts.tv_nsec << 24) ^
			(unsigned long long) ts.tv_sec ^
			((unsigned long long) getpid() << 44);
		for (i = got; i < sizeof(rnd); i++)
		{
			state = state * 6364136223846793005ULL + 1442695040888963407ULL;
			rnd[i] = (unsigned char) (state >> 56);
		}
	}
	memcpy(name, CFG_TMP_PREFIX, sizeof(CFG_TMP_PREFIX) - 1);
	for (i = 0; i < CFG_TMP_RANDOM; i++)
		name[sizeof(CFG_TMP_PREFIX) - 1 + i] =
			tmp_alphabet[rnd[i] % (sizeof(tmp_alphabet) - 1)];
	name[CFG_TMP_NAMELEN] = '\0';
}

/*
 * Write the new content of a job into a temporary file next to it: in
 * the directory opened when the file was read, under a fresh name
 * created with O_EXCL | O_NOFOLLOW (mkstemp takes a path, not a
 * directory descriptor).
 */
static int
write_temp(Job *j, CfgError *err)
{
	char		name[CFG_TMP_NAMELEN + 1];
	char	   *shown;
	int			fd = -1,
				tries;

	for (tries = 0; tries < 100; tries++)
	{
		temp_name(name);
		fd = openat(j->dirfd, name,
					O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
					0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0)
	{
		cfg_set_error(err, CFG_EXIT_ERROR, j->path, 0,
					  "cannot create a temporary file in its directory: %s",
					  strerror(errno));
		return -1;
	}
	j->tmp = cfg_strndup(name, strlen(name));
	shown = path_join(j->dir, name);
	if (write_all(fd, j->rw.out.data ? j->rw.out.data : "", j->rw.out.len) != 0 ||
		keep_mode_owner(fd, &j->st) != 0 || fsync(fd) != 0)
	{
		cfg_set_error(err, CFG_EXIT_ERROR, j->path, 0,
					  "cannot write %s (or keep its mode and owner): %s",
					  shown, strerror(errno));
		close(fd);
		free(shown);
		return -1;
	}
	if (close(fd) != 0)
	{
		cfg_set_error(err, CFG_EXIT_ERROR, j->path, 0, "cannot write %s: %s",
					  shown, strerror(errno));
		free(shown);
		return -1;
	}
	free(shown);
	return 0;
}

/*
 * Save the original content as FILE.bak.<stamp> (FILE.bak.<stamp>.N if
 * that exists) in the file's directory, with the original's mode, owner
 * and times.
 */
static int
write_backup(Job *j, const char *stamp, CfgError *err)
{
	StrBuf		sb;
	int			fd = -1,
				n;
	struct timespec times[2];

	sb_init(&sb);
	for (n = 0; n < 100; n++)
	{
		sb.len = 0;
		if (n == 0)
			sb_printf(&sb, "%s.bak.%s", j->name, stamp);
		else
			sb_printf(&sb, "%s.bak.%s.%d", j->name, stamp, n);
		fd = openat(j->dirfd, sb.data,
					O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
					0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	j->bak = path_join(j->dir, sb.data);
	if (fd < 0)
	{
		cfg_set_error(err, CFG_EXIT_ERROR, j->path, 0,
					  "cannot create backup %s: %s", j->bak, strerror(errno));
		sb_free(&sb);
		free(j->bak);
		j->bak = NULL;
		return -1;
	}
	j->bakname = sb.data;
	times[0] = j->st.st_atim;
	times[1] = j->st.st_mtim;
	if (write_all(fd, j->old, j->oldlen) != 0 ||
		keep_mode_owner(fd, &j->st) != 0 || futimens(fd, times) != 0 ||
		fsync(fd) != 0)
	{
		cfg_set_error(err, CFG_EXIT_ERROR, j->path, 0,
					  "cannot write backup %s: %s", j->bak, strerror(errno));
		close(fd);
		return -1;
	}
	if (close(fd) != 0)
	{
		cfg_set_error(err, CFG_EXIT_ERROR, j->path, 0,
					  "cannot write backup %s: %s", j->bak, strerror(errno));
		return -1;
	}
	return 0;
}

/* Has the file changed since we read it (another writer)? */
static int
changed_since_read(const Job *j)
{
	struct stat st;

	if (fstatat(j->dirfd, j->name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return 1;
	return st.st_ino != j->st.st_ino || st.st_dev != j->st.st_dev ||
		st.st_size != j->st.st_size ||
		st.st_mtim.tv_sec != j->st.st_mtim.tv_sec ||
		st.st_mtim.tv_nsec != j->st.st_mtim.tv_nsec;
}

/*
 * Put an already replaced file back to its old content (best effort,
 * through a temporary file again), when a later rename fails.
 */
static void
restore_job(Job *j)
{
	Rewrite		save = j->rw;
	CfgError	err;

	rewrite_init(&j->rw);
	sb_append(&j->rw.out, j->old, j->oldlen);
	free(j->tmp);
	j->tmp = NULL;
	if (write_temp(j, &err) == 0 &&
		renameat(j->dirfd, j->tmp, j->dirfd, j->name) == 0)
	{
		j->renamed = 0;
		free(j->tmp);
		j->tmp = NULL;
	}
	else
		fprintf(stderr, PROG ": could not restore %s; its backup is %s\n",
				j->path, j->bak ? j->bak : "(none)");
	rewrite_free(&j->rw);
	j->rw = save;
}

/*
 * Write every changed file: temporary files and backups first, then the
 * renames, all in the directories opened when the files were read.  On
 * an error before the renames, temporary files and backups are removed
 * and no file has changed; a failed rename puts the files already
 * replaced back.
 */
static int
commit_all(int backup, CfgError *err)
{
	char		stamp[32];
	time_t		now = time(NULL);
	struct tm  *tm = gmtime(&now);
	size_t		i;
	int			failed = 0;

	if (tm == NULL || strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", tm) == 0)
		snprintf(stamp, sizeof(stamp), "%ld", (long) now);
	for (i = 0; i < njobs && !failed; i++)
	{
		Job		   *j = &jobs[i];

		if (!j->rw.changed)
			continue;
		if (write_temp(j, err) != 0 ||
			(backup && write_backup(j, stamp, err) != 0))
			failed = 1;
	}
	for (i = 0; i < njobs && !failed; i++)
		if (jobs[i].rw.changed && changed_since_read(&jobs[i]))
		{
			cfg_set_error(err, CFG_EXIT_ERROR, jobs[i].path, 0,
						  "changed by someone else while we worked; nothing written, run again");
			failed = 1;
		}
	for (i = 0; i < njobs && !failed; i++)
	{
		Job		   *j = &jobs[i];

		if (!j->rw.changed)
			continue;
		if (renameat(j->dirfd, j->tmp, j->dirfd, j->name) != 0)
		{
			size_t		k;

			cfg_set_error(err, CFG_EXIT_ERROR, j->path, 0,
						  "cannot replace it: %s", strerror(errno));
			failed = 1;
			for (k = 0; k < i; k++)
				if (jobs[k].renamed)
					restore_job(&jobs[k]);
			break;
		}
		j->renamed = 1;
		free(j->tmp);
		j->tmp = NULL;
	}
	for (i = 0; i < njobs; i++)
	{
		Job		   *j = &jobs[i];

		if (j->tmp)
		{
			unlinkat(j->dirfd, j->tmp, 0);
			free(j->tmp);
			j->tmp = NULL;
		}
		if (failed && j->bakname)
		{
			unlinkat(j->dirfd, j->bakname, 0);
			free(j->bakname);
			j->bakname = NULL;
			free(j->bak);
			j->bak = NULL;
		}
		/* make the rename itself durable */
		if (!failed && j->renamed)
			(void) fsync(j->dirfd);
	}
	return failed ? err->code : 0;
}

/* Print a report block, indented as vmm's own upgrade script did. */
static void
print_report(const Options *o, const Job *j)
{
	const char *verb = o->dry_run ? "would be" : "was";

	if (o->quiet)
		return;
	if (strcmp(j->kind, "vmm.cfg") == 0 && o->revert)
	{
		if (j->generation == CFG_GEN_052 || j->generation == CFG_GEN_04)
		{
			printf("%s: already in the vmm %s format, nothing to do\n", j->path,
				   j->generation == CFG_GEN_04 ? "0.4" : "0.5.2");
			return;
		}
		if (!j->rw.changed)
			printf("%s: nothing to do\n", j->path);
		else if (j->bak)
			printf("%s %s reverted to the vmm 0.5.2 format (backup: %s)\n",
				   j->path, verb, j->bak);
		else
			printf("%s %s reverted to the vmm 0.5.2 format\n", j->path, verb);
		if (j->rw.report.len > 0 && j->restored == NULL)
			printf("Modified (M), renamed (R) and new (N) settings:\n");
		if (j->rw.report.len > 0)
			fwrite(j->rw.report.data, 1, j->rw.report.len, stdout);
		return;
	}
	if (strcmp(j->kind, "vmm.cfg") == 0)
	{
		if (j->generation == CFG_GEN_06)
		{
			printf("%s: already in the vmm 0.6 format, nothing to do\n", j->path);
			return;
		}
		if (!j->rw.changed)
			printf("%s: nothing to do\n", j->path);
		else if (j->bak)
			printf("%s %s upgraded to the vmm 0.6 format (backup: %s)\n",
				   j->path, verb, j->bak);
		else
			printf("%s %s upgraded to the vmm 0.6 format\n", j->path, verb);
		if (j->rw.report.len > 0)
		{
			printf("Modified (M), renamed (R) and new (N) settings:\n");
			fwrite(j->rw.report.data, 1, j->rw.report.len, stdout);
		}
		return;
	}
	if (j->rw.report.len > 0)
		fwrite(j->rw.report.data, 1, j->rw.report.len, stdout);
	if (j->rw.changed && j->bak)
		printf("%s %s rewritten (backup: %s)\n", j->path, verb, j->bak);
	else if (j->rw.changed)
		printf("%s %s rewritten\n", j->path, verb);
}

/* qsort comparator for directory entry names */
static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * Is name a backup this tool makes of the file base: base.bak.<stamp>,
 * stamp YYYYMMDDThhmmssZ, perhaps followed by .N (write_backup)?
 */
static int
is_backup_name(const char *name, const char *base)
{
	static const char form[] = "ddddddddTddddddZ";
	size_t		blen = strlen(base),
				i;
	const char *p;

	if (strncmp(name, base, blen) != 0 || strncmp(name + blen, ".bak.", 5) != 0)
		return 0;
	p = name + blen + 5;
	for (i = 0; form[i] != '\0'; i++)
		if (form[i] == 'd' ? !isdigit((unsigned char) p[i]) : p[i] != form[i])
			return 0;
	p += i;
	if (*p == '\0')
		return 1;
	if (*p != '.' || !isdigit((unsigned char) p[1]))
		return 0;
	for (p++; isdigit((unsigned char) *p); p++)
		;
	return *p == '\0';
}

/* qsort comparator: backup names newest first (their stamps sort) */
static int
name_cmp_desc(const void *a, const void *b)
{
	return -name_cmp(a, b);
}

/*
 * --revert: collect the backups of job j's file that a forward run left
 * in its directory (newest first), read through the directory held open
 * like every file.  A backup is only read if it is a regular file (not a
 * symbolic link: opened O_NOFOLLOW, and non-blocking) belonging to root,
 * to us or to the file's owner: one planted by another user is not read,
 * and notes says so.  Returns 0 or an exit code.
 */
static int
collect_backups(Job *j, CfgBackup **out, size_t *nout, StrBuf *notes,
				CfgError *err)
{
	DIR		   *d;
	struct dirent *de;
	char	  **names = NULL;
	size_t		n = 0,
				nbaks = 0,
				i;
	CfgBackup  *baks;
	int			lfd;

	lfd = fcntl(j->dirfd, F_DUPFD_CLOEXEC, 0);
	d = lfd >= 0 ? fdopendir(lfd) : NULL;
	if (d == NULL)
	{
		cfg_set_error(err, CFG_EXIT_ERROR, j->path, 0,
					  "cannot list its directory %s: %s", j->dir, strerror(errno));
		if (lfd >= 0)
			close(lfd);
		return err->code;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL)
		if (is_backup_name(de->d_name, j->name))
		{
			names = cfg_realloc(names, (n + 1) * sizeof(char *));
			names[n++] = cfg_strndup(de->d_name, strlen(de->d_name));
		}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(char *), name_cmp_desc);
	baks = cfg_malloc((n + 1) * sizeof(CfgBackup));
	for (i = 0; i < n; i++)
	{
		char	   *shown = path_join(j->dir, names[i]);
		struct stat st;
		CfgError	e;
		char	   *buf = NULL;
		size_t		len = 0;
		int			fd = openat(j->dirfd, names[i],
								O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);

		if (fd < 0 || fstat(fd, &st) != 0)
			sb_printf(notes, "Backup %s not used: %s\n", shown,
					  errno == ELOOP ? "a symbolic link" : strerror(errno));
		else if (!S_ISREG(st.st_mode))
			sb_printf(notes, "Backup %s not used: not a regular file (%s)\n",
					  shown, file_type(st.st_mode));
		else if (st.st_uid != 0 && st.st_uid != geteuid() &&
				 st.st_uid != j->st.st_uid)
			sb_printf(notes, "Backup %s not used: it belongs to uid %ld, not to root, to you or to the owner of the file\n",
					  shown, (long) st.st_uid);
		else if (read_contents(fd, &st, shown, &buf, &len, &e) != 0)
			sb_printf(notes, "Backup %s not used: %s\n", shown, e.msg);
		else
		{
			baks[nbaks].name = shown;
			baks[nbaks].data = buf;
			baks[nbaks].len = len;
			nbaks++;
			shown = NULL;
		}
		if (fd >= 0)
			close(fd);
		free(shown);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	*out = baks;
	*nout = nbaks;
	return 0;
}

/* Free what collect_backups gave. */
static void
free_backups(CfgBackup *baks, size_t nbaks)
{
	size_t		i;

	for (i = 0; i < nbaks; i++)
	{
		free((char *) baks[i].name);
		free((char *) baks[i].data);
	}
	free(baks);
}

/*
 * --revert for vmm.cfg: vmmcfg_revert picks, among the backups, the one
 * the file came from, or takes the rules.  Returns 0 or an exit code.
 */
static int
revert_vmm_cfg(Job *j, CfgError *err)
{
	size_t		nbaks = 0;
	CfgBackup  *baks = NULL;
	StrBuf		notes;
	int			used = -1,
				rc;

	sb_init(&notes);
	if (collect_backups(j, &baks, &nbaks, &notes, err) != 0)
	{
		sb_free(&notes);
		return err->code;
	}
	rc = vmmcfg_revert(j->path, j->old, j->oldlen, baks, nbaks, &j->rw,
					   &j->generation, &used, err);
	if (rc == 0 && used >= 0)
		j->restored = cfg_strndup(baks[used].name, strlen(baks[used].name));
	/* what was not read is said after what the reverting said */
	if (rc == 0 && j->generation == CFG_GEN_06)
		sb_append(&j->rw.report, notes.data ? notes.data : "", notes.len);
	sb_free(&notes);
	free_backups(baks, nbaks);
	return rc;
}

/*
 * --revert for a Postfix or Dovecot file, after its queries were put back
 * by the rules: if a backup of it is what the forward run made the file
 * from (queries_backup_matches), that backup is the result, so that the
 * file comes back byte for byte (continuation lines, spacing) where the
 * rules would only give the same queries.  Returns 0 or an exit code.
 */
static int
revert_queries_from_backup(Job *j, const char *client, CfgError *err)
{
	size_t		nbaks = 0,
				i;
	CfgBackup  *baks = NULL;
	StrBuf		notes;

	sb_init(&notes);
	if (collect_backups(j, &baks, &nbaks, &notes, err) != 0)
	{
		sb_free(&notes);
		return err->code;
	}
	if (notes.len > 0)
		sb_append(&j->rw.report, notes.data, notes.len);
	for (i = 0; i < nbaks; i++)
	{
		const CfgBackup *b = &baks[i];

		if (!queries_backup_matches(client, b->name, b->data, b->len,
									j->old, j->oldlen))
			continue;
		if (b->len != j->rw.out.len ||
			(b->len > 0 && memcmp(b->data, j->rw.out.data, b->len) != 0))
		{
			j->rw.out.len = 0;
			sb_append(&j->rw.out, b->data, b->len);
			j->rw.changed = 1;
			sb_printf(&j->rw.report,
					  "%s: restored byte for byte from the backup %s, of which it is what vmm-cfg-upgrade made\n",
					  j->path, b->name);
		}
		break;
	}
	sb_free(&notes);
	free_backups(baks, nbaks);
	return 0;
}

/*
 * Read and rewrite every pgsql-*.cf in the Postfix directory.  The
 * directory is resolved once, by walk, and then read and worked in
 * through that one descriptor; each file in it is resolved from there.
 */
static int
do_postfix_dir(const char *dir, int revert, CfgError *err)
{
	Loc			loc;
	DIR		   *d;
	struct dirent *de;
	char	  **names = NULL;
	char	   *dpath;
	size_t		n = 0,
				i;
	int			rc = 0,
				links = 0,
				dfd,
				lfd;

	if (walk(AT_FDCWD, NULL, dir, dir, &links, &loc, err) != 0)
		return err->code;
	if (!S_ISDIR(loc.st.st_mode))
	{
		cfg_set_error(err, CFG_EXIT_ERROR, dir, 0, "%s", strerror(ENOTDIR));
		loc_free(&loc);
		return err->code;
	}
	dpath = loc_path(&loc);
	dfd = open_dir_at(loc.dirfd, loc.name, &loc.st);
	if (dfd < 0)
	{
		open_dir_error(err, dir, dpath, dfd);
		loc_free(&loc);
		free(dpath);
		return err->code;
	}
	loc_free(&loc);
	lfd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
	d = lfd >= 0 ? fdopendir(lfd) : NULL;
	if (d == NULL)
	{
		cfg_set_error(err, CFG_EXIT_ERROR, dir, 0, "%s", strerror(errno));
		if (lfd >= 0)
			close(lfd);
		close(dfd);
		free(dpath);
		return err->code;
	}
	while ((de = readdir(d)) != NULL)
	{
		size_t		len = strlen(de->d_name);

		if (len > 9 && strncmp(de->d_name, "pgsql-", 6) == 0 &&
			strcmp(de->d_name + len - 3, ".cf") == 0)
		{
			names = cfg_realloc(names, (n + 1) * sizeof(char *));
			names[n++] = cfg_strndup(de->d_name, len);
		}
	}
	closedir(d);
	if (n == 0)
		fprintf(stderr, PROG ": %s: no pgsql-*.cf files\n", dir);
	if (n > 0)
		qsort(names, n, sizeof(char *), name_cmp);
	for (i = 0; i < n && rc == 0; i++)
	{
		char	   *p = path_join(dir, names[i]);
		Job		   *j = read_job(dfd, dpath, names[i], p, "postfix", err);

		free(p);
		if (j == NULL)
			rc = err->code;
		else
			rc = postfix_rewrite(j->path, j->old, j->oldlen, revert, &j->rw,
								 err);
		if (rc == 0 && revert)
			rc = revert_queries_from_backup(j, "postfix", err);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	close(dfd);
	free(dpath);
	return rc;
}

/* Free everything we hold (keeps valgrind quiet). */
static void
free_jobs(void)
{
	size_t		i;

	for (i = 0; i < njobs; i++)
	{
		close(jobs[i].dirfd);
		free(jobs[i].path);
		free(jobs[i].dir);
		free(jobs[i].name);
		free(jobs[i].real);
		free(jobs[i].old);
		free(jobs[i].tmp);
		free(jobs[i].bakname);
		free(jobs[i].bak);
		free(jobs[i].restored);
		rewrite_free(&jobs[i].rw);
	}
	free(jobs);
	jobs = NULL;
	njobs = 0;
}

/*
 * A temporary file of ours older than this many seconds is a leftover of
 * a run that was killed: a live run creates its temporary files only
 * after all reading and rewriting, and renames them within moments.
 */
#define CFG_TMP_STALE (10 * 60)

/* Is name one of our temporary file names (CFG_TMP_PREFIX + random)? */
static int
is_temp_name(const char *name)
{
	size_t		i,
				plen = sizeof(CFG_TMP_PREFIX) - 1;

	if (strlen(name) != CFG_TMP_NAMELEN ||
		strncmp(name, CFG_TMP_PREFIX, plen) != 0)
		return 0;
	for (i = plen; i < CFG_TMP_NAMELEN; i++)
		if (strchr(tmp_alphabet, name[i]) == NULL)
			return 0;
	return 1;
}

/*
 * Remove the temporary files a killed run left in the directory of job
 * k (once per directory).  Removed are only files that bear our name
 * pattern, are regular files, belong to a uid a temporary file of ours
 * there would have (ours, or that of a file we rewrite there: it gets
 * the original's owner), and are older than CFG_TMP_STALE, so that a
 * run working there right now keeps its own.  Failing to remove one
 * is only a warning: it does not stop the upgrade.
 */
static void
remove_leftovers(size_t k, int quiet)
{
	Job		   *j = &jobs[k];
	struct stat dst,
				other,
				st;
	DIR		   *d;
	struct dirent *de;
	size_t		i;
	int			lfd;
	time_t		now = time(NULL);

	if (fstat(j->dirfd, &dst) != 0)
		return;
	for (i = 0; i < k; i++)
		if (fstat(jobs[i].dirfd, &other) == 0 && other.st_dev == dst.st_dev &&
			other.st_ino == dst.st_ino)
			return;				/* done with this directory already */
	lfd = fcntl(j->dirfd, F_DUPFD_CLOEXEC, 0);
	d = lfd >= 0 ? fdopendir(lfd) : NULL;
	if (d == NULL)
	{
		if (lfd >= 0)
			close(lfd);
		return;
	}
	/* the duplicate shares its offset with every other copy of dirfd */
	rewinddir(d);
	while ((de = readdir(d)) != NULL)
	{
		int			owner_ok = 0;
		char	   *shown;

		if (!is_temp_name(de->d_name) ||
			fstatat(j->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
			!S_ISREG(st.st_mode) || now - st.st_mtime < CFG_TMP_STALE)
			continue;
		owner_ok = st.st_uid == geteuid();
		for (i = k; i < njobs && !owner_ok; i++)
			if (fstat(jobs[i].dirfd, &other) == 0 &&
				other.st_dev == dst.st_dev && other.st_ino == dst.st_ino &&
				jobs[i].st.st_uid == st.st_uid)
				owner_ok = 1;
		if (!owner_ok)
			continue;
		shown = path_join(j->dir, de->d_name);
		if (unlinkat(j->dirfd, de->d_name, 0) != 0)
			fprintf(stderr, PROG ": cannot remove %s, left by an interrupted run: %s\n",
					shown, strerror(errno));
		else if (!quiet)
			printf("removed %s, a temporary file left by an interrupted run\n",
				   shown);
		free(shown);
	}
	closedir(d);
}

/* Print an error, free everything and return the exit code. */
static int
fail(const CfgError *err)
{
	fprintf(stderr, "%s\n", err->msg);
	free_jobs();
	return err->code;
}

/*
 * Read and rewrite everything in memory; then report (--check), show the
 * diff (--dry-run) or write the files.
 */
int
main(int argc, char **argv)
{
	Options		o;
	CfgError	err;
	size_t		i;
	int			any_change = 0;
	ProbeInfo	probe;

	memset(&err, 0, sizeof(err));
	memset(&probe, 0, sizeof(probe));
	parse_args(argc, argv, &o);

	if (!o.no_vmm_cfg)
	{
		char	   *path = o.config ? cfg_strndup(o.config, strlen(o.config))
			: find_vmm_cfg(&err);
		Job		   *j;
		UpgradeOpts uo;
		int			rc;

		if (path == NULL)
			return fail(&err);
		j = read_job(AT_FDCWD, NULL, path, path, "vmm.cfg", &err);
		free(path);
		if (j == NULL)
			return fail(&err);
		if (o.revert)
		{
			if (revert_vmm_cfg(j, &err) != 0)
				return fail(&err);
			goto queries;
		}
		uo.version = o.dovecot_version;
		uo.probe = probe_dovecot;
		uo.probe_ctx = &probe;
		uo.doveadm = o.doveadm;
		rc = vmmcfg_upgrade(j->path, j->old, j->oldlen, &uo, &j->rw,
							&j->generation, &err);
		if (rc != 0)
			return fail(&err);
		if (probe.used && j->rw.changed)
			sb_printf(&j->rw.report,
					  "Dovecot version taken from \"%s --version\"\n",
					  probe.path);
		if (probe.used && j->rw.changed && probe.said[0])
			sb_printf(&j->rw.report,
					  "Dovecot said %s; vmm 0.6 takes only the first three parts\n",
					  probe.said);
	}
queries:
	if (o.postfix_dir && do_postfix_dir(o.postfix_dir, o.revert, &err) != 0)
		return fail(&err);
	if (o.dovecot_sql)
	{
		Job		   *j = read_job(AT_FDCWD, NULL, o.dovecot_sql,
								 o.dovecot_sql, "dovecot", &err);

		if (j == NULL)
			return fail(&err);
		if (dovecot_rewrite(j->path, j->old, j->oldlen, o.quota, o.revert,
							&j->rw, &err) != 0)
			return fail(&err);
		if (o.revert && revert_queries_from_backup(j, "dovecot", &err) != 0)
			return fail(&err);
	}
	for (i = 0; i < njobs; i++)
		any_change |= jobs[i].rw.changed;

	if (o.check)
	{
		if (!o.quiet)
			for (i = 0; i < njobs; i++)
				if (jobs[i].rw.changed)
					printf("%s: needs changing\n", jobs[i].path);
		free_jobs();
		return any_change ? CFG_EXIT_CHANGES : CFG_EXIT_OK;
	}
	if (o.dry_run)
	{
		for (i = 0; i < njobs; i++)
		{
			StrBuf		d;

			sb_init(&d);
			if (jobs[i].rw.changed)
				cfg_unified_diff(jobs[i].path, jobs[i].path, jobs[i].old,
								 jobs[i].oldlen, jobs[i].rw.out.data,
								 jobs[i].rw.out.len, &d);
			if (d.len > 0)
				fwrite(d.data, 1, d.len, stdout);
			sb_free(&d);
		}
		for (i = 0; i < njobs; i++)
			print_report(&o, &jobs[i]);
		free_jobs();
		return CFG_EXIT_OK;
	}
	for (i = 0; i < njobs; i++)
		remove_leftovers(i, o.quiet);
	if (any_change && commit_all(!o.no_backup, &err) != 0)
		return fail(&err);
	for (i = 0; i < njobs; i++)
		print_report(&o, &jobs[i]);
	free_jobs();
	return CFG_EXIT_OK;
}
