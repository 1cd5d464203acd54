/*-------------------------------------------------------------------------
 *
 * cfg_ini.h
 *	  The INI model of vmm-cfg-upgrade: a vmm.cfg read the way vmm reads
 *	  it, kept with its comments and layout, edited, and written out.
 *
 * cfg_ini.c knows INI files as Python's ConfigParser reads them and
 * nothing of vmm; cfg_vmmcfg.c knows vmm's rules (what vmm 0.6 renamed,
 * added and dropped, where its sample file puts things) and applies them
 * through this model.
 *
 * A file is a list of sections, each a list of chunks.  A chunk is either
 * one loose line (blank line, free-standing comment) or an option entry:
 * the comment lines directly above the option, the option line and its
 * continuation lines.  Renaming an option edits only the name in its
 * line; moving an option moves its whole entry, so its comments travel
 * with it.  Untouched lines are written byte for byte, line ends
 * included.
 *
 * src/cfg/cfg_ini.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CFG_INI_H
#define CFG_INI_H

#include "cfg_upgrade.h"

#define INI_NOLINE ((size_t) -1)

/* line kinds */
#define LK_BLANK	0
#define LK_COMMENT	1
#define LK_SECTION	2
#define LK_OPTION	3
#define LK_CONT		4

/* chunk kinds */
#define CH_LOOSE	0			/* one blank or free-standing comment line */
#define CH_ENTRY	1			/* an option of the file, comments above it */
#define CH_NEW		2			/* an option added: comment and "name = value" */

/* what a source line is, and where its name and value start */
typedef struct IniLine
{
	int			kind;
	size_t		name_off;		/* section or option name */
	size_t		name_len;
	size_t		value_off;		/* option: first byte of the value */
} IniLine;

typedef struct IniChunk
{
	int			kind;
	size_t		first;			/* source lines [first, last) */
	size_t		last;
	size_t		optline;		/* CH_ENTRY: the option line */
	char	   *lname;			/* lower-cased option name (owned) */
	const char *newname;		/* rename to this */
	char	   *newvalue;		/* replace the value by this (owned) */
	const char *extra_comment;	/* line to put above the option line */
	const char *drop_comment;	/* the comment line directly above the
								 * option line, if it is exactly this,
								 * goes (undoes an extra_comment) */
	int			commented;		/* superseded duplicate: comment it out */
	const char *gen_comment;	/* CH_NEW: comment line */
	char	   *gen_value;		/* CH_NEW: value (owned) */
} IniChunk;

typedef struct IniSection
{
	char	   *name;			/* NULL for the lines before any header */
	size_t		hdr_first;		/* first comment line above the header */
	size_t		hdr_line;		/* the header line, INI_NOLINE if none */
	IniChunk   *chunks;
	size_t		nchunks;
	size_t		cap;
	int			removed;
	const char *title;			/* a section added: its banner comment */
} IniSection;

typedef struct IniFile
{
	const char *fname;			/* for messages */
	SrcLine    *lines;
	size_t		nlines;
	IniLine    *info;			/* one per line */
	IniSection **secs;			/* in output order */
	size_t		nsecs;
	size_t		capsecs;
	const char *eol;			/* line end of the lines we add */
} IniFile;

/*
 * Where a section, or an option of a section, belongs in some order
 * (vmm 0.6's sample file): its position there, -1 if it has none.
 */
typedef int (*IniSectionRank) (const char *sec);
typedef int (*IniOptionRank) (const char *sec, const char *opt);

extern int	ini_parse(IniFile *f, const char *fname, const char *buf,
					  size_t len, CfgError *err);
extern void ini_write(const IniFile *f, StrBuf *out);
extern void ini_free(IniFile *f);

extern IniSection *ini_find_section(const IniFile *f, const char *name);
extern long ini_find_option(const IniSection *s, const char *opt);
extern int	ini_has_option(const IniFile *f, const char *sec, const char *opt);
extern const char *ini_chunk_name(const IniChunk *ch);
extern void ini_value(const IniFile *f, const IniChunk *ch, StrBuf *out);
extern int	ini_lineno(const IniFile *f, const IniChunk *ch);

extern void ini_merge_sections(IniFile *f, StrBuf *notes);
extern void ini_comment_repeats(IniFile *f, StrBuf *notes);
extern IniSection *ini_get_section(IniFile *f, const char *name,
								   IniSectionRank rank, const char *title);
extern void ini_place(const IniFile *f, IniSection *s, IniChunk *ch,
					  IniOptionRank rank);
extern void ini_add_option(IniFile *f, IniSection *s, const char *opt,
						   const char *value, const char *comment,
						   IniOptionRank rank);
extern IniChunk ini_take(IniSection *s, size_t pos);
extern void ini_drop(IniSection *s, size_t pos);
extern void ini_set_value(IniChunk *ch, const char *value);

#endif							/* CFG_INI_H */
