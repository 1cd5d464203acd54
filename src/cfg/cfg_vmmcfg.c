/*-------------------------------------------------------------------------
 *
 * cfg_vmmcfg.c
 *	  vmm's rules for vmm.cfg: what vmm 0.6 renamed, added and dropped,
 *	  and how misc.dovecot_version is found, applied to a vmm.cfg held in
 *	  memory through the INI model of cfg_ini.c; and the way back to vmm
 *	  0.5.2 (vmmcfg_revert), from the forward run's backup or by the same
 *	  rules read backwards.
 *
 * The file itself (ConfigParser's syntax, the admin's comments, blank
 * lines, order and line ends) is cfg_ini.c's business; this file knows
 * which file it is (vmm 0.5.2 or 0.6), the renames of vmm 0.6's upgrade
 * notes, the options new in 0.6 with vmm 0.6.2's defaults, the sections
 * and options 0.6 no longer has, where vmm 0.6's sample file puts
 * things, and the report of what changed.  The facts are restated in the
 * tables below; see doc/vmm-cfg-upgrade.1.
 *
 * src/cfg/cfg_vmmcfg.c
 *
 *-------------------------------------------------------------------------
 */
#include "cfg_ini.h"
#include "dovecot_version.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* an upgrade under way: the file, and the report of what was done */
typedef struct Ctx
{
	IniFile		ini;
	char	  **items;			/* "R   sec.opt = value" report lines */
	size_t		nitems;
	size_t		capitems;
	StrBuf		notes;			/* what else the report says */
	int			gen04;			/* a vmm 0.4 file */
	int			revert;			/* going back to vmm 0.5.2 */
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

/* the same for vmm 0.5.2's sample vmm.cfg, for the way back */
static const char *const sec_order_052[] = {
	"database", "maildir", "services", "domdir", "bin", "misc", "config", NULL
};
static const char *const opt_database_052[] = {
	"host", "user", "pass", "name", NULL
};
static const char *const opt_maildir_052[] = {
	"name", "folders", "mode", "diskusage", "delete", NULL
};
static const char *const opt_services_052[] = {
	"smtp", "pop3", "imap", "sieve", NULL
};
static const char *const opt_domdir_052[] = {
	"base", "mode", "delete", NULL
};
static const char *const opt_misc_052[] = {
	"passwdscheme", "gid_mail", "forcedel", "transport", "dovecotvers", NULL
};
static const char *const opt_config_052[] = {
	"done", NULL
};
static const char *const *const opt_order_052[] = {
	opt_database_052, opt_maildir_052, opt_services_052, opt_domdir_052,
	opt_bin, opt_misc_052, opt_config_052
};
static const char *const sec_title_052[] = {
	"database settings", "mail directory settings (vmm 0.5.2)",
	"services of new accounts (vmm 0.5.2)", "domain directory settings (vmm 0.5.2)",
	"external binaries", "misc settings", "configuration state (vmm 0.5.2)"
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

/* sections vmm 0.5.2 does not have, for the way back */
static const char *const new_sections[] = {
	"mailbox", "domain", "account", NULL
};

/*
 * vmm 0.5.2's values for the two options vmm 0.6 dropped, put back on the
 * way back without a backup: the sample's GID of the mail group, and
 * config.done = true (the file was configured; vmm 0.5.2 will not run on
 * a file it thinks is not).
 */
#define V052_GID_MAIL "8"
#define V052_DONE "true"

/*
 * vmm 0.4 -> 0.5 (vmm's update_config_0.4.x-0.5.py): maildir.folder
 * became maildir.name; these two were added when missing.  A 0.4 file
 * has no misc.dovecotvers: vmm 0.5's default applies.
 */
#define V05_FOLDERS "Drafts:Sent:Templates:Trash"
#define V05_POSTCONF "/usr/sbin/postconf"
#define V05_DOVECOTVERS "11"

/* vmm 0.5.2's bin.dovecotpw, which Dovecot 2 has as doveadm */
#define STOCK_DOVECOTPW "/usr/sbin/dovecotpw"
/* vmm's own default when nothing tells the Dovecot version */
#define FALLBACK_VERSION "1.2.11"

/*
 * The comment above misc.dovecot_version, one text for both ways it comes
 * about: it goes on "vmm 0.6)" (dovecotvers renamed) or "new in vmm 0.6)".
 */
#define VERSION_COMMENT \
	"; the version printed by \"dovecot --version\", e.g. 1.2.11 or 2.0.21 (String, "

/* ----------------------------------------------------------------------
 * Where things go, and what the report says
 * ---------------------------------------------------------------------- */

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

/* IniSectionRank: the position of a section in vmm 0.6's sample, or -1. */
static int
section_rank(const char *sec)
{
	return list_index(sec_order, sec);
}

/* IniSectionRank for the way back: in vmm 0.5.2's sample. */
static int
section_rank_052(const char *sec)
{
	return list_index(sec_order_052, sec);
}

/*
 * The two misc options vmm 0.6 renamed in place, as {0.5.2 name, 0.6 name}.
 * An option counts under the name it has in the order it is ranked in, so
 * that options moved into misc before the renames land in the right place.
 */
static const char *const misc_renamed[][2] = {
	{"dovecotvers", "dovecot_version"},
	{"passwdscheme", "password_scheme"},
};

/*
 * The position of option opt of section sec in one generation's order
 * (secs, opts; to06: the 0.6 order, whose names are the second of
 * misc_renamed), or -1.  Both ways, upgrade and revert, rank through it.
 */
static int
rank_in(const char *const *secs, const char *const *const *opts, int to06,
		const char *sec, const char *opt)
{
	int			s = list_index(secs, sec);
	size_t		i;

	if (s < 0 || opt == NULL)
		return -1;
	if (strcmp(sec, "misc") == 0)
		for (i = 0; i < sizeof(misc_renamed) / sizeof(misc_renamed[0]); i++)
			if (strcmp(opt, misc_renamed[i][!to06]) == 0)
			{
				opt = misc_renamed[i][to06];
				break;
			}
	return list_index(opts[s], opt);
}

/* IniOptionRank: vmm 0.6's order. */
static int
option_rank(const char *sec, const char *opt)
{
	return rank_in(sec_order, opt_order, 1, sec, opt);
}

/* IniOptionRank for the way back: vmm 0.5.2's order. */
static int
option_rank_052(const char *sec, const char *opt)
{
	return rank_in(sec_order_052, opt_order_052, 0, sec, opt);
}

/* The option order of the generation we are going to. */
static IniOptionRank
opt_rank(const Ctx *c)
{
	return c->revert ? option_rank_052 : option_rank;
}

/*
 * A section vmm 0.6 has (revert: vmm 0.5.2), created where that
 * version's sample file has it (with the
 * sample's banner) if the file lacks it.
 */
static IniSection *
vmm_section(Ctx *c, const char *name)
{
	int			k = list_index(c->revert ? sec_order_052 : sec_order, name);
	const char *const *titles = c->revert ? sec_title_052 : sec_title;

	return ini_get_section(&c->ini, name,
						   c->revert ? section_rank_052 : section_rank,
						   k >= 0 ? titles[k] : NULL);
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

/* Add an option new in vmm 0.6 (or one we set) and report it as status. */
static void
add_generated(Ctx *c, const char *sec, const char *opt, const char *value,
			  const char *comment, char status)
{
	ini_add_option(&c->ini, vmm_section(c, sec), opt, value, comment,
				   opt_rank(c));
	add_item(c, status, sec, opt, value);
}

/* Give an option a value of ours and report it as modified. */
static void
modify_option(Ctx *c, IniChunk *ch, const char *sec, const char *value)
{
	ini_set_value(ch, value);
	add_item(c, 'M', sec, ini_chunk_name(ch), value);
}

/* ----------------------------------------------------------------------
 * Which file this is
 * ---------------------------------------------------------------------- */

/*
 * Which generation is this file?  Any 0.5.2-only section or option makes
 * it a 0.5.2 file (perhaps partly edited by hand already); otherwise any
 * 0.6-only one makes it 0.6; a file with neither is not a vmm.cfg we know.
 * *mixed (if given) tells a 0.5.2 file that has 0.6-only ones too.
 */
static int
detect_generation(const IniFile *f, int *mixed)
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

	for (i = 0; i < f->nsecs; i++)
	{
		const IniSection *s = f->secs[i];

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
	if (mixed != NULL)
		*mixed = old && new;
	if (old)
	{
		/* vmm 0.4's maildir.folder (in any [maildir], before merging) */
		for (i = 0; i < f->nsecs; i++)
			if (f->secs[i]->name != NULL &&
				strcmp(f->secs[i]->name, "maildir") == 0 &&
				ini_find_option(f->secs[i], "folder") >= 0)
				return CFG_GEN_04;
		return CFG_GEN_052;
	}
	if (new)
		return CFG_GEN_06;
	return CFG_GEN_UNKNOWN;
}

/* ----------------------------------------------------------------------
 * The changes of vmm 0.6
 * ---------------------------------------------------------------------- */

/*
 * Carry out one rename of the table.  If the new name is already set
 * (a file partly upgraded by hand) and agrees, the old option just goes;
 * if it disagrees we stop rather than guess which one the admin meant.
 */
static int
apply_rename(Ctx *c, const Rename *r, CfgError *err)
{
	IniSection *src = ini_find_section(&c->ini, r->sec);
	long		si = ini_find_option(src, r->opt);
	IniSection *dst;
	long		di;
	IniChunk	ch;
	StrBuf		v;

	if (si < 0)
		return 0;
	dst = ini_find_section(&c->ini, r->nsec);
	di = ini_find_option(dst, r->nopt);
	sb_init(&v);
	ini_value(&c->ini, &src->chunks[si], &v);
	if (di >= 0)
	{
		StrBuf		w;
		int			same;

		sb_init(&w);
		ini_value(&c->ini, &dst->chunks[di], &w);
		same = strcmp(v.data, w.data) == 0;
		if (!same)
		{
			cfg_set_error(err, CFG_EXIT_ERROR, c->ini.fname,
						  ini_lineno(&c->ini, &src->chunks[si]),
						  "%s.%s = %s conflicts with %s.%s = %s at line %d; remove one of them",
						  r->sec, r->opt, v.data, r->nsec, r->nopt, w.data,
						  ini_lineno(&c->ini, &dst->chunks[di]));
			sb_free(&v);
			sb_free(&w);
			return err->code;
		}
		sb_free(&w);
		sb_printf(&c->notes,
				  "Removed option \"%s\" from section \"%s\" (%s.%s already has its value)\n",
				  r->opt, r->sec, r->nsec, r->nopt);
		ini_drop(src, (size_t) si);
		sb_free(&v);
		return 0;
	}
	src->chunks[si].newname = r->nopt;
	add_item(c, 'R', r->nsec, r->nopt, v.data);
	sb_free(&v);
	if (strcmp(r->sec, r->nsec) == 0)
		return 0;				/* renamed in place */
	ch = ini_take(src, (size_t) si);
	dst = vmm_section(c, r->nsec);
	ini_place(&c->ini, dst, &ch, opt_rank(c));
	return 0;
}

/*
 * vmm 0.4 -> 0.5: maildir.folder becomes maildir.name (in place; the
 * 0.6 rename then takes it on to mailbox.root, and the report shows it
 * there), with the same conflict rule as apply_rename; maildir.folders
 * and bin.postconf get vmm 0.5's defaults when missing (maildir.folders
 * goes in under its 0.6 name, mailbox.folders).
 */
static int
upgrade_04(Ctx *c, CfgError *err)
{
	IniSection *m = ini_find_section(&c->ini, "maildir");
	long		fi = ini_find_option(m, "folder");
	long		ni = ini_find_option(m, "name");

	if (fi >= 0 && ni >= 0)
	{
		StrBuf		v,
					w;
		int			same;

		sb_init(&v);
		sb_init(&w);
		ini_value(&c->ini, &m->chunks[fi], &v);
		ini_value(&c->ini, &m->chunks[ni], &w);
		same = strcmp(v.data, w.data) == 0;
		if (!same)
			cfg_set_error(err, CFG_EXIT_ERROR, c->ini.fname,
						  ini_lineno(&c->ini, &m->chunks[fi]),
						  "maildir.folder = %s conflicts with maildir.name = %s at line %d; remove one of them",
						  v.data, w.data, ini_lineno(&c->ini, &m->chunks[ni]));
		sb_free(&v);
		sb_free(&w);
		if (!same)
			return err->code;
		ini_drop(m, (size_t) fi);
		sb_printf(&c->notes,
				  "Removed option \"folder\" from section \"maildir\" (maildir.name already has its value)\n");
	}
	else if (fi >= 0)
		m->chunks[fi].newname = "name";
	sb_puts(&c->notes,
			"vmm 0.4 file: taken through vmm 0.5's changes (maildir.folder -> maildir.name, maildir.folders, bin.postconf) to vmm 0.6\n");
	if (!ini_has_option(&c->ini, "maildir", "folders") &&
		!ini_has_option(&c->ini, "mailbox", "folders"))
		add_generated(c, "mailbox", "folders", V05_FOLDERS,
					  "; folders created in each new mailbox, separated by colons (String, vmm 0.5's default)",
					  'N');
	if (!ini_has_option(&c->ini, "bin", "postconf"))
		add_generated(c, "bin", "postconf", V05_POSTCONF,
					  "; location of postconf (String, vmm 0.5's default)", 'N');
	return 0;
}

/* Drop a live option, for the ones vmm 0.6 has no use for. */
static void
drop_option(Ctx *c, const char *sec, const char *opt)
{
	IniSection *s = ini_find_section(&c->ini, sec);
	long		i = ini_find_option(s, opt);

	if (i < 0)
		return;
	ini_drop(s, (size_t) i);
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
 * Work out the Dovecot version for misc.dovecot_version, in this order:
 * --dovecot-version, the installed Dovecot, an existing
 * misc.dovecot_version, vmm 0.5.2's dovecotvers, vmm's own fallback.
 * *from_system says whether it came from the first two (and so is to
 * replace what the file says).  Returns 0 or an exit code.
 */
static int
find_dovecot_version(Ctx *c, const UpgradeOpts *opts, char *ver,
					 size_t versize, int *from_system, CfgError *err)
{
	IniSection *misc = ini_find_section(&c->ini, "misc");
	long		oi = ini_find_option(misc, "dovecotvers");
	long		ni = ini_find_option(misc, "dovecot_version");
	StrBuf		v;

	*from_system = 0;
	ver[0] = '\0';
	if (opts->version)
	{
		snprintf(ver, versize, "%s", opts->version);
		*from_system = 1;
		return 0;
	}
	if (opts->probe)
	{
		int			r = opts->probe(opts->probe_ctx, ver, versize, err);

		if (r < 0)
			return err->code;
		if (r > 0)
		{
			*from_system = 1;
			return 0;
		}
		ver[0] = '\0';
	}
	sb_init(&v);
	if (ni >= 0)
	{
		ini_value(&c->ini, &misc->chunks[ni], &v);
		snprintf(ver, versize, "%s", v.data);
	}
	else if (oi >= 0)
	{
		ini_value(&c->ini, &misc->chunks[oi], &v);
		if (!map_dovecotvers(v.data, ver, versize))
		{
			cfg_set_error(err, CFG_EXIT_ERROR, c->ini.fname,
						  ini_lineno(&c->ini, &misc->chunks[oi]),
						  "cannot tell the Dovecot version from dovecotvers = %s; give --dovecot-version",
						  v.data);
			sb_free(&v);
			return err->code;
		}
		sb_printf(&c->notes,
				  "Dovecot version %s derived from dovecotvers = %s; give --dovecot-version if it is not right\n",
				  ver, v.data);
	}
	else if (c->gen04)
	{
		map_dovecotvers(V05_DOVECOTVERS, ver, versize);
		sb_printf(&c->notes,
				  "Dovecot version %s derived from vmm 0.5's default dovecotvers = %s (a vmm 0.4 file has none); give --dovecot-version if it is not right\n",
				  ver, V05_DOVECOTVERS);
	}
	else
	{
		snprintf(ver, versize, "%s", FALLBACK_VERSION);
		sb_printf(&c->notes,
				  "Dovecot version %s assumed (no dovecotvers, no Dovecot found); give --dovecot-version if it is not right\n",
				  ver);
	}
	sb_free(&v);
	return 0;
}

/*
 * Write ver into misc.dovecot_version: into an existing one (hand-edited
 * file; only when ver came from the system, dropping a leftover
 * dovecotvers), else into dovecotvers renamed, else as a new option.
 */
static void
put_dovecot_version(Ctx *c, const char *ver, int from_system)
{
	IniSection *misc = ini_find_section(&c->ini, "misc");
	long		oi = ini_find_option(misc, "dovecotvers");
	long		ni = ini_find_option(misc, "dovecot_version");

	if (ni >= 0)
	{
		StrBuf		v;

		if (oi >= 0)
		{
			ini_drop(misc, (size_t) oi);
			sb_printf(&c->notes,
					  "Removed option \"dovecotvers\" from section \"misc\" (misc.dovecot_version is set)\n");
			ni = ini_find_option(misc, "dovecot_version");
		}
		sb_init(&v);
		ini_value(&c->ini, &misc->chunks[ni], &v);
		if (from_system && strcmp(v.data, ver) != 0)
			modify_option(c, &misc->chunks[ni], "misc", ver);
		sb_free(&v);
	}
	else if (oi >= 0)
	{
		IniChunk   *ch = &misc->chunks[oi];

		ch->newname = "dovecot_version";
		ch->extra_comment = VERSION_COMMENT "vmm 0.6)";
		modify_option(c, ch, "misc", ver);
	}
	else
		add_generated(c, "misc", "dovecot_version", ver,
					  VERSION_COMMENT "new in vmm 0.6)", 'N');
}

/*
 * Dovecot 2 has doveadm instead of dovecotpw: point bin.dovecotpw at it
 * when it is unset or vmm's stock path, warn when it is something else.
 */
static void
point_dovecotpw_at_doveadm(Ctx *c, const UpgradeOpts *opts, const char *ver)
{
	IniSection *bin = ini_find_section(&c->ini, "bin");
	long		bi = ini_find_option(bin, "dovecotpw");
	const char *doveadm = opts->doveadm ? opts->doveadm : "/usr/bin/doveadm";
	StrBuf		v;

	if (bi < 0)
	{
		add_generated(c, "bin", "dovecotpw", doveadm,
					  "; location of doveadm, which Dovecot 2 has instead of dovecotpw (String)",
					  'N');
		return;
	}
	sb_init(&v);
	ini_value(&c->ini, &bin->chunks[bi], &v);
	if (strcmp(v.data, STOCK_DOVECOTPW) == 0)
		modify_option(c, &bin->chunks[bi], "bin", doveadm);
	else if (strstr(v.data, "doveadm") == NULL)
		sb_printf(&c->notes,
				  "Warning: bin.dovecotpw = %s, but Dovecot %s has no dovecotpw; point it at doveadm\n",
				  v.data, ver);
	sb_free(&v);
}

/*
 * Set misc.dovecot_version, and bin.dovecotpw for Dovecot 2 (read by the
 * Dovecot version parser the extension uses too).  Returns 0 or an exit
 * code.
 */
static int
set_dovecot_version(Ctx *c, const UpgradeOpts *opts, CfgError *err)
{
	char		ver[128];
	int			from_system;
	DovecotVersion dv;
	int			rc = find_dovecot_version(c, opts, ver, sizeof(ver),
										  &from_system, err);

	if (rc != 0)
		return rc;
	put_dovecot_version(c, ver, from_system);
	dovecot_version_parse(ver, &dv);
	if (dv.at_least_2)
		point_dovecotpw_at_doveadm(c, opts, ver);
	return 0;
}

/*
 * An obsolete section (of vmm 0.5.2; revert: of vmm 0.6) goes once
 * everything in it has moved; if it still holds options we do not know,
 * it stays (vmm ignores it) and we say so, rather than throw the admin's
 * settings away.
 */
static void
remove_obsolete_sections(Ctx *c)
{
	const char *const *obsolete = c->revert ? new_sections : obsolete_sections;

	size_t		i,
				j;

	for (i = 0; i < c->ini.nsecs; i++)
	{
		IniSection *s = c->ini.secs[i];
		int			live = 0;

		if (s->removed || s->name == NULL ||
			list_index(obsolete, s->name) < 0)
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
		sb_printf(&c->notes, "Removed section \"%s\" (%s)\n", s->name,
				  c->revert ? "not in vmm 0.5.2" : "obsolete");
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
	for (i = 0; i < c->ini.nsecs; i++)
	{
		IniSection *s = c->ini.secs[i];

		if (s->removed || s->name == NULL)
			continue;
		for (j = 0; j < s->nchunks; j++)
		{
			IniChunk   *ch = &s->chunks[j];

			if (ch->kind != CH_ENTRY || ch->commented)
				continue;
			ini_value(&c->ini, ch, &v);
			if (strstr(v.data, "%(") != NULL)
				sb_printf(&c->notes,
						  c->revert ?
						  "Warning: %s.%s (line %d) contains \"%%(\": vmm 0.6 read it as it is, vmm 0.5.2 expands it\n" :
						  "Warning: %s.%s (line %d) contains \"%%(\": vmm 0.5.2 expanded it, vmm 0.6 reads it as it is\n",
						  s->name, ini_chunk_name(ch), ini_lineno(&c->ini, ch));
		}
	}
	sb_free(&v);
}

/* Free the upgrade's model and report. */
static void
free_ctx(Ctx *c)
{
	size_t		i;

	ini_free(&c->ini);
	for (i = 0; i < c->nitems; i++)
		free(c->items[i]);
	free(c->items);
	sb_free(&c->notes);
}

/*
 * The end of both ways: obsolete sections go, warnings, then the file and
 * the report are written.
 */
static void
finish(Ctx *c, const char *buf, size_t len, Rewrite *rw)
{
	const char *ver = c->revert ? "vmm 0.5.2" : "vmm 0.6";
	size_t		i;

	remove_obsolete_sections(c);
	warn_interpolation(c);
	if (!ini_has_option(&c->ini, "database", "user"))
		sb_printf(&c->notes, "Warning: %s needs database.user, which is not set\n", ver);
	if (!ini_has_option(&c->ini, "database", "pass"))
		sb_printf(&c->notes, "Warning: %s needs database.pass, which is not set\n", ver);

	ini_write(&c->ini, &rw->out);
	rw->changed = (rw->out.len != len ||
				   (len > 0 && memcmp(rw->out.data, buf, len) != 0));
	if (c->nitems > 0)
		qsort(c->items, c->nitems, sizeof(char *), item_cmp);
	for (i = 0; i < c->nitems; i++)
	{
		sb_puts(&rw->report, c->items[i]);
		sb_puts(&rw->report, "\n");
	}
	if (c->notes.len > 0)
		sb_append(&rw->report, c->notes.data, c->notes.len);
}

/*
 * Read one vmm.cfg held in memory into c and tell its generation (*mixed,
 * when not NULL: whether it holds options of two generations).  Both ways,
 * upgrade and revert, start here, so they refuse the same files: binary
 * data, a malformed file, a file of no known generation.  Returns 0, or an
 * exit code with err set and c already freed.
 */
static int
load_vmmcfg(Ctx *c, const char *fname, const char *buf, size_t len,
			int *generation, int *mixed, CfgError *err)
{
	int			rc;

	*generation = CFG_GEN_UNKNOWN;
	memset(c, 0, sizeof(*c));
	sb_init(&c->notes);
	if (len > 0 && memchr(buf, '\0', len) != NULL)
	{
		cfg_set_error(err, CFG_EXIT_UNKNOWN, fname, 0,
					  "binary data (NUL bytes), not a vmm.cfg");
		free_ctx(c);
		return err->code;
	}
	rc = ini_parse(&c->ini, fname, buf, len, err);
	if (rc == 0)
	{
		*generation = detect_generation(&c->ini, mixed);
		if (*generation == CFG_GEN_UNKNOWN)
		{
			cfg_set_error(err, CFG_EXIT_UNKNOWN, fname, 0,
						  "not a vmm.cfg of vmm 0.5.2 or 0.6 (none of their own sections or options)");
			rc = err->code;
		}
	}
	if (rc != 0)
		free_ctx(c);
	return rc;
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

	rw->changed = 0;
	rc = load_vmmcfg(&c, fname, buf, len, generation, NULL, err);
	if (rc != 0)
		return rc;
	if (*generation == CFG_GEN_06)
	{
		sb_append(&rw->out, buf, len);
		goto done;
	}

	ini_merge_sections(&c.ini, &c.notes);
	ini_comment_repeats(&c.ini, &c.notes);
	if (*generation == CFG_GEN_04)
	{
		c.gen04 = 1;
		rc = upgrade_04(&c, err);
		if (rc != 0)
			goto done;
	}
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
		if (!ini_has_option(&c.ini, newopts[i].sec, newopts[i].opt))
			add_generated(&c, newopts[i].sec, newopts[i].opt,
						  newopts[i].value, newopts[i].comment, 'N');
	finish(&c, buf, len, rw);

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

/* ----------------------------------------------------------------------
 * The way back: vmm 0.6 -> 0.5.2
 * ---------------------------------------------------------------------- */

/*
 * vmm 0.5.2's misc.dovecotvers for a Dovecot version: its major and minor
 * digits ("1.2.11" -> "12", "2.0.21" -> "20"), the inverse of
 * map_dovecotvers.  Returns 0 when the version has no such form.
 */
static int
unmap_dovecot_version(const char *v, char *out, size_t outsize)
{
	if (!isdigit((unsigned char) v[0]) || v[1] != '.' ||
		!isdigit((unsigned char) v[2]) || (v[3] != '.' && v[3] != '\0') ||
		v[0] == '0')
		return 0;
	snprintf(out, outsize, "%c%c", v[0], v[2]);
	return 1;
}

/*
 * misc.dovecot_version goes back to misc.dovecotvers (renamed in place,
 * value in vmm 0.5.2's form); without one, dovecotvers = 12, the value
 * vmm's own fallback 1.2.11 came from.  Returns 0 or an exit code.
 */
static int
revert_dovecot_version(Ctx *c, CfgError *err)
{
	IniSection *misc = ini_find_section(&c->ini, "misc");
	long		ni = ini_find_option(misc, "dovecot_version");
	char		vers[8];
	StrBuf		v;

	if (ni < 0)
	{
		if (!ini_has_option(&c->ini, "misc", "dovecotvers"))
			add_generated(c, "misc", "dovecotvers", "12",
						  "; Dovecot's major and minor version, e.g. 11 or 12 (Int, vmm 0.5.2)",
						  'N');
		return 0;
	}
	sb_init(&v);
	ini_value(&c->ini, &misc->chunks[ni], &v);
	if (!unmap_dovecot_version(v.data, vers, sizeof(vers)))
	{
		cfg_set_error(err, CFG_EXIT_ERROR, c->ini.fname,
					  ini_lineno(&c->ini, &misc->chunks[ni]),
					  "misc.dovecot_version = %s has no vmm 0.5.2 dovecotvers (major and minor digit); set it to a version like 1.2.11 first",
					  v.data);
		sb_free(&v);
		return err->code;
	}
	sb_free(&v);
	if (ini_has_option(&c->ini, "misc", "dovecotvers"))
	{
		ini_drop(misc, (size_t) ni);
		sb_printf(&c->notes,
				  "Removed option \"dovecot_version\" from section \"misc\" (misc.dovecotvers is set)\n");
		return 0;
	}
	misc->chunks[ni].newname = "dovecotvers";
	misc->chunks[ni].drop_comment = VERSION_COMMENT "vmm 0.6)";
	modify_option(c, &misc->chunks[ni], "misc", vers);
	return 0;
}

/*
 * vmm.cfg back to vmm 0.5.2 by the rules: the renames backwards, the
 * options new in vmm 0.6 dropped (each reported with its value),
 * dovecotvers from misc.dovecot_version, misc.gid_mail and config.done
 * put back with vmm 0.5.2's values.  Returns 0 or an exit code.
 */
static int
revert_by_rules(Ctx *c, CfgError *err)
{
	size_t		i;
	int			rc;
	IniSection *bin;
	long		bi;

	c->revert = 1;
	ini_merge_sections(&c->ini, &c->notes);
	ini_comment_repeats(&c->ini, &c->notes);
	for (i = 0; renames[i].sec != NULL; i++)
	{
		Rename		back;

		back.sec = renames[i].nsec;
		back.opt = renames[i].nopt;
		back.nsec = renames[i].sec;
		back.nopt = renames[i].opt;
		rc = apply_rename(c, &back, err);
		if (rc != 0)
			return rc;
	}
	rc = revert_dovecot_version(c, err);
	if (rc != 0)
		return rc;
	for (i = 0; newopts[i].sec != NULL; i++)
	{
		IniSection *s = ini_find_section(&c->ini, newopts[i].sec);
		long		k = ini_find_option(s, newopts[i].opt);
		StrBuf		v;

		if (k < 0)
			continue;
		sb_init(&v);
		ini_value(&c->ini, &s->chunks[k], &v);
		sb_printf(&c->notes,
				  "Removed option \"%s\" from section \"%s\" (new in vmm 0.6; it was %s%s)\n",
				  newopts[i].opt, newopts[i].sec, v.data,
				  strcmp(v.data, newopts[i].value) == 0 ? ", the default" : "");
		sb_free(&v);
		ini_drop(s, (size_t) k);
	}
	if (!ini_has_option(&c->ini, "misc", "gid_mail"))
	{
		add_generated(c, "misc", "gid_mail", V052_GID_MAIL,
					  "; GID of the mail group (Int, vmm 0.5.2; vmm 0.6 had dropped it)",
					  'N');
		sb_puts(&c->notes,
				"Warning: misc.gid_mail is vmm 0.5.2's default " V052_GID_MAIL "; make it your mail group's GID\n");
	}
	if (!ini_has_option(&c->ini, "config", "done"))
		add_generated(c, "config", "done", V052_DONE,
					  "; the file has been configured (Boolean, vmm 0.5.2)", 'N');
	bin = ini_find_section(&c->ini, "bin");
	bi = ini_find_option(bin, "dovecotpw");
	if (bi >= 0)
	{
		StrBuf		v;

		sb_init(&v);
		ini_value(&c->ini, &bin->chunks[bi], &v);
		if (strstr(v.data, "doveadm") != NULL)
			sb_printf(&c->notes,
					  "Warning: bin.dovecotpw = %s, but vmm 0.5.2 runs dovecotpw (of Dovecot 1), not doveadm\n",
					  v.data);
		sb_free(&v);
	}
	return 0;
}

/*
 * Read the value of sec.opt of a parsed file into out ("" if unset);
 * returns whether it is set.
 */
static int
get_value(const IniFile *f, const char *sec, const char *opt, StrBuf *out)
{
	IniSection *s = ini_find_section(f, sec);
	long		k = ini_find_option(s, opt);

	out->len = 0;
	sb_append(out, "", 0);
	if (k < 0)
		return 0;
	ini_value(f, &s->chunks[k], out);
	return 1;
}

/*
 * Is buf exactly what the forward run made of the backup bak?  The run is
 * made again, without asking the system: once with the Dovecot version
 * and doveadm the file now names (what the forward run was told by
 * Dovecot or the command line), once with neither (what it took from the
 * file itself).
 */
static int
backup_matches(const CfgBackup *bak, const char *buf, size_t len,
			   const char *version, const char *doveadm)
{
	int			pass,
				ok = 0;

	for (pass = 0; pass < 2 && !ok; pass++)
	{
		UpgradeOpts uo;
		Rewrite		rw;
		CfgError	err;
		int			gen;

		memset(&uo, 0, sizeof(uo));
		uo.version = pass == 0 ? version : NULL;
		uo.doveadm = doveadm;
		rewrite_init(&rw);
		memset(&err, 0, sizeof(err));
		ok = vmmcfg_upgrade(bak->name, bak->data, bak->len, &uo, &rw, &gen, &err) == 0 &&
			(gen == CFG_GEN_052 || gen == CFG_GEN_04) && rw.changed &&
			rw.out.len == len && (len == 0 || memcmp(rw.out.data, buf, len) == 0);
		rewrite_free(&rw);
	}
	return ok;
}

/*
 * Take one vmm.cfg held in memory back to vmm 0.5.2.  baks are the
 * forward run's backups of it, newest first: the first one that the
 * forward rules turn into exactly buf is the result (byte for byte what
 * the file was; *used is its index); if none is, the file is rewritten by
 * the rules backwards (*used is -1), and the report says why each backup
 * was not taken.  A vmm 0.5.2 (or 0.4) file is left as it is.  Returns 0
 * or an exit code, as vmmcfg_upgrade.
 */
int
vmmcfg_revert(const char *fname, const char *buf, size_t len,
			  const CfgBackup *baks, size_t nbaks, Rewrite *rw,
			  int *generation, int *used, CfgError *err)
{
	Ctx			c;
	int			rc = 0,
				mixed = 0;
	size_t		i;

	*used = -1;
	rw->changed = 0;
	rc = load_vmmcfg(&c, fname, buf, len, generation, &mixed, err);
	if (rc != 0)
		return rc;
	/*
	 * Options of both: a forward run's result that kept an obsolete
	 * section (options we do not know), or a file half reverted by hand.
	 */
	if (*generation == CFG_GEN_052 && mixed)
		*generation = CFG_GEN_06;
	if (*generation != CFG_GEN_06)
	{
		sb_append(&rw->out, buf, len);
		goto done;
	}
	{
		StrBuf		ver,
					adm;
		int			have_ver;

		sb_init(&ver);
		sb_init(&adm);
		have_ver = get_value(&c.ini, "misc", "dovecot_version", &ver);
		get_value(&c.ini, "bin", "dovecotpw", &adm);
		for (i = 0; i < nbaks && *used < 0; i++)
		{
			if (backup_matches(&baks[i], buf, len, have_ver ? ver.data : NULL,
							   adm.data[0] == '/' ? adm.data : NULL))
				*used = (int) i;
			else
				sb_printf(&c.notes,
						  "Backup %s not used: this file is not what vmm-cfg-upgrade made of it (edited since?)\n",
						  baks[i].name);
		}
		sb_free(&ver);
		sb_free(&adm);
	}
	if (*used >= 0)
	{
		sb_append(&rw->out, baks[*used].data, baks[*used].len);
		rw->changed = 1;
		if (c.notes.len > 0)
			sb_append(&rw->report, c.notes.data, c.notes.len);
		sb_printf(&rw->report, "Restored from the backup %s, of which this file is what vmm-cfg-upgrade made\n",
				  baks[*used].name);
		goto done;
	}
	if (mixed)
		sb_puts(&c.notes,
				"Sections or options of both vmm 0.5.2 and 0.6 here: those of vmm 0.6 taken back\n");
	rc = revert_by_rules(&c, err);
	if (rc != 0)
		goto done;
	finish(&c, buf, len, rw);

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
