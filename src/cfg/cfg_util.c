/*-------------------------------------------------------------------------
 *
 * cfg_util.c
 *	  Small helpers shared by the vmm-cfg-upgrade rewriters: growable
 *	  buffers, checked allocation, splitting a buffer into lines while
 *	  keeping each line's own line end, error formatting.
 *
 * src/cfg/cfg_util.c
 *
 *-------------------------------------------------------------------------
 */
#include "cfg_upgrade.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Allocate or die.  A configuration rewriter that runs out of memory
 * cannot do anything sensible, and nothing has been written yet when
 * the rewriters run, so stopping is safe.
 */
void *
cfg_malloc(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	if (p == NULL)
	{
		fputs("vmm-cfg-upgrade: out of memory\n", stderr);
		exit(CFG_EXIT_ERROR);
	}
	return p;
}

/* Like cfg_malloc, for growing arrays. */
void *
cfg_realloc(void *p, size_t n)
{
	void	   *q = realloc(p, n ? n : 1);

	if (q == NULL)
	{
		fputs("vmm-cfg-upgrade: out of memory\n", stderr);
		exit(CFG_EXIT_ERROR);
	}
	return q;
}

/* Copy n bytes into a new NUL-terminated string (strndup is not C99). */
char *
cfg_strndup(const char *s, size_t n)
{
	char	   *p = cfg_malloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* Start an empty buffer; data stays NULL until the first append. */
void
sb_init(StrBuf *sb)
{
	sb->data = NULL;
	sb->len = 0;
	sb->cap = 0;
}

/* Release a buffer and make it empty again, so a double free is harmless. */
void
sb_free(StrBuf *sb)
{
	free(sb->data);
	sb_init(sb);
}

/* Append n bytes; the buffer is kept NUL-terminated for convenience. */
void
sb_append(StrBuf *sb, const char *s, size_t n)
{
	if (sb->len + n + 1 > sb->cap)
	{
		size_t		ncap = sb->cap ? sb->cap : 64;

		while (ncap < sb->len + n + 1)
			ncap *= 2;
		sb->data = cfg_realloc(sb->data, ncap);
		sb->cap = ncap;
	}
	if (n > 0)
		memcpy(sb->data + sb->len, s, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

/* Append a C string. */
void
sb_puts(StrBuf *sb, const char *s)
{
	sb_append(sb, s, strlen(s));
}

/* Append printf-style formatted text of any length. */
void
sb_printf(StrBuf *sb, const char *fmt,...)
{
	va_list		ap;
	int			n;
	char		small[256];

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t) n < sizeof(small))
	{
		sb_append(sb, small, (size_t) n);
		return;
	}
	{
		char	   *big = cfg_malloc((size_t) n + 1);

		va_start(ap, fmt);
		vsnprintf(big, (size_t) n + 1, fmt, ap);
		va_end(ap);
		sb_append(sb, big, (size_t) n);
		free(big);
	}
}

/*
 * Split buf into physical lines.  Each line remembers its own line end
 * ("\r\n", "\n", or "" for an unterminated last line) so that a rewrite
 * can reproduce untouched lines byte for byte, CRLF files included.
 * Returns the number of lines; *lines must be freed by the caller.
 */
size_t
cfg_split_lines(const char *buf, size_t len, SrcLine **lines)
{
	size_t		n = 0,
				cap = 16,
				pos = 0;
	SrcLine    *arr = cfg_malloc(cap * sizeof(SrcLine));

	while (pos < len)
	{
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t		end = nl ? (size_t) (nl - buf) : len;
		SrcLine    *l;

		if (n == cap)
		{
			cap *= 2;
			arr = cfg_realloc(arr, cap * sizeof(SrcLine));
		}
		l = &arr[n];
		l->text = buf + pos;
		l->lineno = (int) (n + 1);
		if (nl == NULL)
		{
			l->len = end - pos;
			l->eol = "";
			pos = len;
		}
		else if (end > pos && buf[end - 1] == '\r')
		{
			l->len = end - 1 - pos;
			l->eol = "\r\n";
			pos = end + 1;
		}
		else
		{
			l->len = end - pos;
			l->eol = "\n";
			pos = end + 1;
		}
		n++;
	}
	*lines = arr;
	return n;
}

/*
 * The line end for lines we generate: that of the first terminated line,
 * so a CRLF file stays CRLF throughout.
 */
const char *
cfg_default_eol(const SrcLine *lines, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
		if (lines[i].eol[0] != '\0')
			return lines[i].eol;
	return "\n";
}

/* Record an error as "file:line: reason" (line 0 means no line). */
void
cfg_set_error(CfgError *err, int code, const char *fname, int lineno,
			  const char *fmt,...)
{
	va_list		ap;
	char		reason[1536];

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	err->code = code;
	if (lineno > 0)
		snprintf(err->msg, sizeof(err->msg), "%s:%d: %s", fname, lineno,
				 reason);
	else
		snprintf(err->msg, sizeof(err->msg), "%s: %s", fname, reason);
}

/* Start an empty rewrite result. */
void
rewrite_init(Rewrite *rw)
{
	sb_init(&rw->out);
	sb_init(&rw->report);
	rw->changed = 0;
}

/* Free a rewrite result. */
void
rewrite_free(Rewrite *rw)
{
	sb_free(&rw->out);
	sb_free(&rw->report);
}
