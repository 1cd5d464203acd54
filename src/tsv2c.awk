# tsv2c.awk - turn src/layouts.tsv into the C initialisers of src/layouts_data.h
#
# The layouts are data: this script only changes their notation, so that the
# validator carries them compiled in and never reads a file at run time.
BEGIN {
	FS = "\t"
	print "/* Generated from src/layouts.tsv by src/tsv2c.awk: do not edit. */"
	print "static const LayoutEntry layout_entries[] = {"
}

# cstr: quote one field as a C string literal.
function cstr(s) {
	gsub(/\\/, "\\\\", s)
	gsub(/"/, "\\\"", s)
	return "\"" s "\""
}

# mask: turn a space-separated list of tokens into an OR of C constants.
function mask(list, prefix,    n, i, t, out) {
	n = split(list, t, " ")
	out = ""
	for (i = 1; i <= n; i++) {
		gsub(/\./, "_", t[i])
		gsub(/\+/, "_", t[i])
		out = out (out == "" ? "" : " | ") prefix t[i]
	}
	return out
}

/^#/ || NF == 0 { next }

{
	if (NF < 5) {
		printf "src/layouts.tsv:%d: expected at least 5 fields\n", NR > "/dev/stderr"
		exit 1
	}
	printf "\t{%s, %s, %s, %s, %s, %s, %s},\n", mask($1, "LV_"), mask($2, "DV_"),
		cstr($3), cstr($4), cstr($5), cstr($6), cstr($7)
}

END { print "};" }
