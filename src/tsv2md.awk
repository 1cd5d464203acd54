# tsv2md.awk - turn src/layouts.tsv into doc/layouts.md, the project's
# document of the vmm layouts (the same facts the validator is compiled
# from; `make doc/layouts.md` writes it, the test suite checks it is current).
BEGIN {
	FS = "\t"
	print "# The vmm layouts vmm_upgrade knows"
	print ""
	print "Generated from `src/layouts.tsv` by `src/tsv2md.awk`: do not edit; change the"
	print "data and run `make doc/layouts.md`. One table per kind of object; a row names the"
	print "layouts (`+lookups`: the optional lookup objects of 0.5.2) and Dovecot variants"
	print "(1.1: Dovecot < 1.2, 1.2: Dovecot >= 1.2) that have the object, and its definition"
	print "as PostgreSQL 15 prints it. `check_layout(version, variant)` reports every"
	print "difference from the rows of that layout and variant."
}
/^#/ || NF == 0 { next }
{
	kind = $3
	if (!(kind in seen)) { seen[kind] = 1; order[++nkinds] = kind }
	row = "| " $1 " | " $2 " | `" $4 "` | "
	def = $5
	gsub(/\|/, "\\|", def)
	if (kind == "column")
		row = row "`" def "` " $6 (length($7) ? ", default `" $7 "`" : "") " |"
	else
		row = row (length(def) ? "`" def "`" : "") " |"
	rows[kind] = rows[kind] row "\n"
}
END {
	for (i = 1; i <= nkinds; i++) {
		k = order[i]
		print ""
		print "## " k "s"
		print ""
		print "| layouts | variants | " k " | definition |"
		print "|---|---|---|---|"
		printf "%s", rows[k]
	}
}
