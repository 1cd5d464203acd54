/*-------------------------------------------------------------------------
 *
 * cfg_diff.c
 *	  A small unified diff ("diff -u" format, three lines of context) for
 *	  --dry-run, so that vmm-cfg-upgrade needs no external diff program.
 *
 * Lines are compared with their line ends, so a CRLF file shows as CRLF.
 * The common prefix and suffix are stripped first; the rest is aligned
 * with Myers' O(ND) algorithm.  A middle part needing more than
 * DIFF_MAX_D edits is shown as removed and re-added, which is still a
 * correct (if long) diff.
 *
 * src/cfg/cfg_diff.c
 *
 *-------------------------------------------------------------------------
 */
#include "cfg_upgrade.h"

#include <stdlib.h>
#include <string.h>

#define DIFF_CONTEXT	3
#define DIFF_MAX_D		1000

#define OP_EQ	0
#define OP_DEL	1
#define OP_INS	2

typedef struct DiffOp
{
	int			op;
	size_t		ai;				/* line in a (OP_EQ, OP_DEL) */
	size_t		bi;				/* line in b (OP_EQ, OP_INS) */
} DiffOp;

/* Are two lines the same, line end included? */
static int
same_line(const SrcLine *x, const SrcLine *y)
{
	return x->len == y->len && strcmp(x->eol, y->eol) == 0 &&
		memcmp(x->text, y->text, x->len) == 0;
}

/* Append an operation to the edit script. */
static void
push_op(DiffOp **ops, size_t *n, size_t *cap, int op, size_t ai, size_t bi)
{
	if (*n == *cap)
	{
		*cap = *cap ? *cap * 2 : 64;
		*ops = cfg_realloc(*ops, *cap * sizeof(DiffOp));
	}
	(*ops)[*n].op = op;
	(*ops)[*n].ai = ai;
	(*ops)[*n].bi = bi;
	(*n)++;
}

/*
 * Myers' O(ND) greedy algorithm on the middle parts a[ab..ab+n) and
 * b[bb..bb+m): find the furthest-reaching path for each number of edits
 * d, keeping each round's diagonals for the walk back.  Configuration
 * diffs are small, so D stays small; beyond DIFF_MAX_D edits we give up
 * (return 0) and the caller shows the part as replaced.
 */
static int
myers_script(const SrcLine *a, size_t ab, size_t n,
			 const SrcLine *b, size_t bb, size_t m,
			 DiffOp **ops, size_t *nops, size_t *cap)
{
	long		N = (long) n,
				M = (long) m,
				max = N + M,
				off = max + 1,
				dmax = max < DIFF_MAX_D ? max : DIFF_MAX_D,
				found = -1,
				d,
				k,
				x,
				y;
	long	   *v = calloc((size_t) (2 * max + 3), sizeof(long));
	long	  **trace = calloc((size_t) (dmax + 1), sizeof(long *));
	DiffOp	   *rev = NULL;
	size_t		nrev = 0,
				caprev = 0;

	if (v == NULL || trace == NULL)
	{
		free(v);
		free(trace);
		return 0;
	}
	for (d = 0; d <= dmax && found < 0; d++)
	{
		trace[d] = cfg_malloc((size_t) (2 * d + 3) * sizeof(long));
		memcpy(trace[d], &v[off - d - 1], (size_t) (2 * d + 3) * sizeof(long));
		for (k = -d; k <= d; k += 2)
		{
			if (k == -d || (k != d && v[off + k - 1] < v[off + k + 1]))
				x = v[off + k + 1];
			else
				x = v[off + k - 1] + 1;
			y = x - k;
			while (x < N && y < M &&
				   same_line(&a[ab + (size_t) x], &b[bb + (size_t) y]))
			{
				x++;
				y++;
			}
			v[off + k] = x;
			if (x >= N && y >= M)
			{
				found = d;
				break;
			}
		}
	}
	if (found >= 0)
	{
		/* walk back from (N, M), collecting operations in reverse */
		x = N;
		y = M;
		for (d = found; d >= 0; d--)
		{
			long	   *tv = trace[d];	/* tv[k + d + 1] is v[k] before round d */
			long		pk,
						px,
						py;

			k = x - y;
			if (k == -d || (k != d && tv[k + d] < tv[k + d + 2]))
				pk = k + 1;
			else
				pk = k - 1;
			px = tv[pk + d + 1];
			py = px - pk;
			while (x > px && y > py && x > 0 && y > 0)
			{
				push_op(&rev, &nrev, &caprev, OP_EQ, ab + (size_t) (x - 1),
						bb + (size_t) (y - 1));
				x--;
				y--;
			}
			if (d > 0)
			{
				if (x == px)
					push_op(&rev, &nrev, &caprev, OP_INS, 0,
							bb + (size_t) (y - 1));
				else
					push_op(&rev, &nrev, &caprev, OP_DEL,
							ab + (size_t) (x - 1), 0);
			}
			x = px;
			y = py;
		}
		while (nrev > 0)
		{
			nrev--;
			push_op(ops, nops, cap, rev[nrev].op, rev[nrev].ai, rev[nrev].bi);
		}
	}
	for (d = 0; d <= dmax && trace[d] != NULL; d++)
		free(trace[d]);
	free(trace);
	free(v);
	free(rev);
	return found >= 0;
}

/* Edit script for the middle parts; see myers_script. */
static void
middle_script(const SrcLine *a, size_t ab, size_t n,
			  const SrcLine *b, size_t bb, size_t m,
			  DiffOp **ops, size_t *nops, size_t *cap)
{
	size_t		i,
				j,
				before = *nops;

	if (n > 0 && m > 0 && myers_script(a, ab, n, b, bb, m, ops, nops, cap))
		return;
	*nops = before;
	for (i = 0; i < n; i++)
		push_op(ops, nops, cap, OP_DEL, ab + i, 0);
	for (j = 0; j < m; j++)
		push_op(ops, nops, cap, OP_INS, 0, bb + j);
}

/* Print one diff line with its marker. */
static void
put_line(StrBuf *out, char mark, const SrcLine *l)
{
	sb_append(out, &mark, 1);
	sb_append(out, l->text, l->len);
	if (l->eol[0] == '\0')
		sb_puts(out, "\n\\ No newline at end of file\n");
	else
		sb_puts(out, l->eol);
}

/* Print a hunk range the way GNU diff does ("-5", "-5,3", "-4,0"). */
static void
put_range(StrBuf *out, char sign, size_t start, size_t count)
{
	if (count == 1)
		sb_printf(out, "%c%zu", sign, start + 1);
	else if (count == 0)
		sb_printf(out, "%c%zu,0", sign, start);
	else
		sb_printf(out, "%c%zu,%zu", sign, start + 1, count);
}

/*
 * Append to out a unified diff turning a into b, with "---"/"+++"
 * headers naming oldname and newname; nothing when they are equal.
 */
void
cfg_unified_diff(const char *oldname, const char *newname,
				 const char *a, size_t alen, const char *b, size_t blen,
				 StrBuf *out)
{
	SrcLine    *la,
			   *lb;
	size_t		na = cfg_split_lines(a, alen, &la);
	size_t		nb = cfg_split_lines(b, blen, &lb);
	size_t		p = 0,
				q = 0,
				i,
				nops = 0,
				cap = 0;
	DiffOp	   *ops = NULL;

	while (p < na && p < nb && same_line(&la[p], &lb[p]))
		p++;
	while (q < na - p && q < nb - p &&
		   same_line(&la[na - 1 - q], &lb[nb - 1 - q]))
		q++;
	if (p == na && p == nb)
	{
		free(la);
		free(lb);
		return;
	}
	for (i = 0; i < p; i++)
		push_op(&ops, &nops, &cap, OP_EQ, i, i);
	middle_script(la, p, na - p - q, lb, p, nb - p - q, &ops, &nops, &cap);
	for (i = 0; i < q; i++)
		push_op(&ops, &nops, &cap, OP_EQ, na - q + i, nb - q + i);

	sb_printf(out, "--- %s\n+++ %s\n", oldname, newname);
	i = 0;
	while (i < nops)
	{
		size_t		start,
					end,
					k,
					astart,
					bstart,
					acount = 0,
					bcount = 0;

		if (ops[i].op == OP_EQ)
		{
			i++;
			continue;
		}
		/* a hunk: back up for context, then extend while changes are near */
		start = i > DIFF_CONTEXT ? i - DIFF_CONTEXT : 0;
		end = i;
		for (;;)
		{
			size_t		eqrun = 0;

			while (end < nops && ops[end].op != OP_EQ)
				end++;
			k = end;
			while (k < nops && ops[k].op == OP_EQ)
			{
				k++;
				eqrun++;
			}
			if (k < nops && eqrun <= 2 * DIFF_CONTEXT)
			{
				end = k;
				continue;
			}
			end = end + (eqrun < DIFF_CONTEXT ? eqrun : DIFF_CONTEXT);
			break;
		}
		/* where the hunk starts in a and in b */
		astart = bstart = 0;
		for (k = 0; k < start; k++)
		{
			if (ops[k].op != OP_INS)
				astart++;
			if (ops[k].op != OP_DEL)
				bstart++;
		}
		for (k = start; k < end; k++)
		{
			if (ops[k].op != OP_INS)
				acount++;
			if (ops[k].op != OP_DEL)
				bcount++;
		}
		sb_puts(out, "@@ ");
		put_range(out, '-', astart, acount);
		sb_puts(out, " ");
		put_range(out, '+', bstart, bcount);
		sb_puts(out, " @@\n");
		k = start;
		while (k < end)
		{
			size_t		r,
						x;

			if (ops[k].op == OP_EQ)
			{
				put_line(out, ' ', &la[ops[k].ai]);
				k++;
				continue;
			}
			/* a run of changes: removed lines first, then added ones */
			for (r = k; r < end && ops[r].op != OP_EQ; r++)
				;
			for (x = k; x < r; x++)
				if (ops[x].op == OP_DEL)
					put_line(out, '-', &la[ops[x].ai]);
			for (x = k; x < r; x++)
				if (ops[x].op == OP_INS)
					put_line(out, '+', &lb[ops[x].bi]);
			k = r;
		}
		i = end;
	}
	free(ops);
	free(la);
	free(lb);
}
