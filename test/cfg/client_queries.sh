# test/cfg/client_queries.sh -- the Postfix and Dovecot queries of vmm 0.6
# are written once, in src/client_queries.tsv.  Sourced by run.sh after its
# golden files; uses its $tool, $here, $scratch, pass and fail.
#
# The extension's side (the update's WARNINGs come from the same file) is
# tested by pg_regress (sql/client_queries.sql).  Here:
#   - README.md's listing (the update's WARNINGs in "vmm 0.5.2") and the
#     man page's Dovecot queries are the file's, and the README has each
#     query once;
#   - no C or SQL file under src/ writes a query again;
#   - vmm-cfg-upgrade rewrites each vmm 0.5.2 query of the file into the
#     file's vmm 0.6 query (of the variant asked for) and leaves each vmm 0.6
#     one alone; --revert the other way round.

top=$(cd "$here/../.." && pwd)
tsv=$top/src/client_queries.tsv
cq=$scratch/queries
mkdir -p "$cq"

# The file's lines without comments, @p@ (the schema prefix) taken out: the
# queries as they read for the schema public.
awk -F '\t' '!/^#/ && NF { gsub(/@p@/, "", $6); print }' OFS='\t' "$tsv" > "$cq/rows"

# The listing as the README's WARNING output has it, one line per query:
#   postfix <files named, vmm 0.5.2's first> <query>
#   dovecot <setting> <variant or -> <query>
awk -F '\t' '
	$1 == "postfix" { print "postfix", ($3 == "-" ? "" : $3 " ") $2, $6 }
	$1 == "dovecot" { print "dovecot", $2, $4, $6 }' OFS='\t' "$cq/rows" > "$cq/want"
awk '
	/^  pgsql-[^ ]*.*: +query = / {
		label = $0
		sub(/: +query = .*/, "", label)
		q = $0
		sub(/^[^=]*query = /, "", q)
		files = ""
		n = split(label, w, /[ ,():]+/)
		for (i = 1; i <= n; i++)
			if (w[i] ~ /^pgsql-.*\.cf$/)
				files = files (files == "" ? "" : " ") w[i]
		print "postfix\t" files "\t" q
		next
	}
	/^  (\(with the quota plugin: )?[a-z_]+_query = / {
		variant = "-"
		line = substr($0, 3)
		if (sub(/^\(with the quota plugin: /, "", line)) {
			variant = "quota"
			sub(/\)$/, "", line)
		}
		setting = line
		sub(/ = .*/, "", setting)
		q = line
		sub(/^[a-z_]+ = /, "", q)
		print "dovecot\t" setting "\t" variant "\t" q
	}' "$top/README.md" > "$cq/readme"
if cmp -s "$cq/want" "$cq/readme"; then
	pass "queries: README.md lists those of src/client_queries.tsv"
else
	diff -u "$cq/want" "$cq/readme" | sed 's/^/    /'
	fail "queries: README.md" "its listing differs from src/client_queries.tsv (- the file, + README.md)"
fi

# once: every query stands in the README exactly once (one listing)
twice=$(cut -f6 "$cq/rows" | while IFS= read -r q; do
	c=$(grep -cF -- "$q" "$top/README.md")
	[ "$c" = 1 ] || printf '%s times: %s\n' "$c" "$q"
done)
if [ -z "$twice" ]; then
	pass "queries: README.md has each query once"
else
	printf '%s\n' "$twice" | sed 's/^/    /'
	fail "queries: README.md" "a query is written more than once (or not at all)"
fi

# the man page shows the Dovecot queries, in the file's order
awk -F '\t' '$1 == "dovecot" { print $6 }' "$cq/rows" > "$cq/want-man"
sed -n 's/^    \(SELECT .*\)$/\1/p' "$top/doc/vmm-cfg-upgrade.1" > "$cq/man"
if cmp -s "$cq/want-man" "$cq/man"; then
	pass "queries: vmm-cfg-upgrade(1) shows the Dovecot queries of src/client_queries.tsv"
else
	diff -u "$cq/want-man" "$cq/man" | sed 's/^/    /'
	fail "queries: vmm-cfg-upgrade(1)" "its Dovecot queries differ from src/client_queries.tsv"
fi

# written once: no C or SQL source calls one of the file's functions with a
# %-placeholder ('%u', or ''%%u'' inside SQL text), nor reads one of its
# vmm 0.5.2 views with a WHERE, except the files generated from it
names=$(awk -F '\t' '{
	for (f = 5; f <= 6; f++)
		if (match($f, /FROM [a-z_]+/))
			printf "%s%s", (n++ ? "|" : ""), substr($f, RSTART + 5, RLENGTH - 5)
}' "$cq/rows")
again=$(cd "$top" && find src -type f \( -name '*.c' -o -name '*.h' -o -name '*.sql' -o -name '*.awk' \) \
	! -path src/client_queries.sql ! -path src/client_queries_data.h \
	! -path src/layouts_data.h | LC_ALL=C sort |
	xargs grep -nE "(FROM ($names) WHERE)|(($names)\\(''?%)" 2>/dev/null)
if [ -n "$names" ] && [ -z "$again" ]; then
	pass "queries: written in src/ only in src/client_queries.tsv"
else
	printf '%s\n' "$again" | sed 's/^/    /'
	fail "queries: written again" "src/client_queries.tsv is to be the one place"
fi

# vmm-cfg-upgrade takes its queries from the file: each vmm 0.5.2 query
# becomes the file's vmm 0.6 query, each vmm 0.6 query stays
mkdir -p "$cq/pf" "$cq/want-pf"
i=0
while IFS='	' read -r client setting old_name variant old_query query; do
	[ "$client" = postfix ] || continue
	i=$((i + 1))
	printf 'query = %s\n' "$query" > "$cq/pf/pgsql-new$i.cf"
	cp "$cq/pf/pgsql-new$i.cf" "$cq/want-pf/"
	[ "$old_query" = - ] && continue
	printf 'hosts = localhost\nquery = %s\n' "$old_query" > "$cq/pf/pgsql-old$i.cf"
	printf 'hosts = localhost\nquery = %s\n' "$query" > "$cq/want-pf/pgsql-old$i.cf"
done < "$cq/rows"
VMM_CFG_DOVECOT= "$tool" -q --no-backup --no-vmm-cfg --postfix-dir "$cq/pf" \
	> "$cq/pf.out" 2>&1
rc=$?
if [ $rc = 0 ] && [ "$(tree_sum "$cq/pf")" = "$(tree_sum "$cq/want-pf")" ]; then
	pass "queries: vmm-cfg-upgrade writes the Postfix queries of src/client_queries.tsv"
else
	diff -r "$cq/want-pf" "$cq/pf" | sed 's/^/    /'
	fail "queries: Postfix rewrite" "rc=$rc $(cat "$cq/pf.out")"
fi
for variant in - quota; do
	# the old queries of each setting (once), and what each must become:
	# the line of this variant, else the plain one
	awk -F '\t' -v variant="$variant" '
		$1 != "dovecot" { next }
		!($2 in old) && $5 != "-" { old[$2] = $5; order[++n] = $2 }
		$4 == "-" && !($2 in new) { new[$2] = $6 }
		$4 == variant { chosen[$2] = $6 }
		END {
			for (i = 1; i <= n; i++) {
				s = order[i]
				printf "%s = %s\n", s, old[s] > "/dev/stderr"
				printf "%s = %s\n", s, (s in chosen) ? chosen[s] : new[s]
			}
		}' "$cq/rows" > "$cq/want-dovecot.conf" 2> "$cq/dovecot.conf"
	# and a file with every vmm 0.6 query of the file needs no change
	awk -F '\t' '$1 == "dovecot" { printf "%s = %s\n", $2, $6 }' "$cq/rows" \
		> "$cq/current.conf"
	quota=
	[ "$variant" = quota ] && quota=--quota
	VMM_CFG_DOVECOT= "$tool" -q --no-backup --no-vmm-cfg $quota \
		--dovecot-sql "$cq/dovecot.conf" > "$cq/dovecot.out" 2>&1
	rc=$?
	if [ $rc = 0 ] && cmp -s "$cq/want-dovecot.conf" "$cq/dovecot.conf" &&
		VMM_CFG_DOVECOT= "$tool" -q --check --no-vmm-cfg $quota \
			--dovecot-sql "$cq/current.conf" > /dev/null 2>&1; then
		pass "queries: vmm-cfg-upgrade writes the Dovecot queries of src/client_queries.tsv (variant $variant)"
	else
		diff -u "$cq/want-dovecot.conf" "$cq/dovecot.conf" | sed 's/^/    /'
		fail "queries: Dovecot rewrite (variant $variant)" "rc=$rc $(cat "$cq/dovecot.out")"
	fi
done

# --revert reads the same file backwards: each vmm 0.6 query (of any
# variant) becomes its line's vmm 0.5.2 query, or stays where vmm 0.5.2
# has none; each vmm 0.5.2 query stays
rm -rf "$cq/rv" "$cq/want-rv"
mkdir -p "$cq/rv/pf" "$cq/want-rv/pf"
i=0
: > "$cq/rv/dovecot.conf"
: > "$cq/want-rv/dovecot.conf"
while IFS='	' read -r client setting old_name variant old_query query; do
	i=$((i + 1))
	back=$old_query
	[ "$back" = - ] && back=$query
	if [ "$client" = postfix ]; then
		printf 'query = %s\n' "$query" > "$cq/rv/pf/pgsql-new$i.cf"
		printf 'query = %s\n' "$back" > "$cq/want-rv/pf/pgsql-new$i.cf"
		[ "$old_query" = - ] && continue
		printf 'query = %s\n' "$old_query" > "$cq/rv/pf/pgsql-old$i.cf"
		cp "$cq/rv/pf/pgsql-old$i.cf" "$cq/want-rv/pf/"
	else
		printf '%s = %s\n' "$setting" "$query" >> "$cq/rv/dovecot.conf"
		printf '%s = %s\n' "$setting" "$back" >> "$cq/want-rv/dovecot.conf"
		printf '%s = %s\n' "$setting" "$old_query" >> "$cq/rv/dovecot.conf"
		printf '%s = %s\n' "$setting" "$old_query" >> "$cq/want-rv/dovecot.conf"
	fi
done < "$cq/rows"
"$tool" -q --revert --no-backup --no-vmm-cfg --postfix-dir "$cq/rv/pf" \
	--dovecot-sql "$cq/rv/dovecot.conf" > "$cq/rv.out" 2>&1
rc=$?
if [ $rc = 0 ] && [ "$(tree_sum "$cq/rv")" = "$(tree_sum "$cq/want-rv")" ]; then
	pass "queries: vmm-cfg-upgrade --revert writes the vmm 0.5.2 queries of src/client_queries.tsv"
else
	diff -r "$cq/want-rv" "$cq/rv" | sed 's/^/    /'
	fail "queries: --revert" "rc=$rc $(cat "$cq/rv.out")"
fi
