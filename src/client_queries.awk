# client_queries.awk - turn src/client_queries.tsv into code
#
#   awk -v lang=c -f src/client_queries.awk src/client_queries.tsv
#       the C initialiser of src/client_queries_data.h (vmm-cfg-upgrade)
#   awk -v lang=sql -f src/client_queries.awk src/client_queries.tsv
#       src/client_queries.sql: vmm_upgrade._client_queries() (the extension)
#
# The queries are data: this script only changes their notation, so that the
# helper and the extension carry the same queries and neither reads a file at
# run time.  It also checks what its readers rely on, and stops with
# "src/client_queries.tsv:LINE: ..." when a line breaks it.
BEGIN {
	FS = "\t"
	if (lang != "c" && lang != "sql") {
		print "client_queries.awk: say -v lang=c or -v lang=sql" > "/dev/stderr"
		failed = 1
		exit 1
	}
	n = 0
}

# fail: report a bad line and stop.
function fail(msg) {
	printf "src/client_queries.tsv:%d: %s\n", NR, msg > "/dev/stderr"
	failed = 1
	exit 1
}

# cstr: one field as a C string literal, "-" as NULL.
function cstr(s) {
	if (s == "-")
		return "NULL"
	gsub(/\\/, "\\\\", s)
	gsub(/"/, "\\\"", s)
	return "\"" s "\""
}

# sqlstr: one field as an SQL string literal, "-" as NULL.
function sqlstr(s) {
	if (s == "-")
		return "NULL"
	gsub(/'/, "''", s)
	return "'" s "'"
}

# called: the name a query reads from, the word after FROM (and @p@), for
# the helper's report ("postfix_maildir -> postfix_virtual_mailbox_map()").
function called(q,    rest) {
	if (!match(q, /FROM (@p@)?[a-z_]+/))
		fail("no \"FROM name\" in: " q)
	rest = substr(q, RSTART + 5, RLENGTH - 5)
	sub(/^@p@/, "", rest)
	return rest
}

/^#/ || NF == 0 { next }

{
	if (NF != 6)
		fail("expected 6 tab-separated fields, found " NF)
	if ($1 != "postfix" && $1 != "dovecot")
		fail("client must be postfix or dovecot, not " $1)
	if ($1 == "postfix" && $2 !~ /^pgsql-[a-z_]+\.cf$/)
		fail("a Postfix setting is a file pgsql-MAP.cf, not " $2)
	if ($4 != "-" && !($1 == "dovecot" && $4 == "quota"))
		fail("variant must be - (or quota for dovecot), not " $4)
	if ($6 !~ /FROM @p@[a-z_]+\(/)
		fail("the 0.6 query must call a function of the mail schema: FROM @p@name(")
	if (index($0, "$fn$"))
		fail("$fn$ would end the SQL function body")
	n++
	client[n] = $1
	setting[n] = $2
	old_name[n] = $3
	variant[n] = $4
	old_query[n] = $5
	query[n] = $6
}

END {
	if (failed)
		exit 1
	if (lang == "c")
		emit_c()
	else
		emit_sql()
}

# The rows as the ClientQuery array of src/cfg/cfg_query.c; the helper
# rewrites files of any schema's database the same way, so @p@ goes.  what
# and back name the two directions for its report ("view -> function()",
# "function() -> view").
function emit_c(    i, q, param, what, back) {
	print "/* Generated from src/client_queries.tsv by src/client_queries.awk: do not edit. */"
	print "static const ClientQuery client_queries[] = {"
	for (i = 1; i <= n; i++) {
		q = query[i]
		gsub(/@p@/, "", q)
		param = "-"
		if (client[i] == "postfix")
			param = substr(setting[i], 7, length(setting[i]) - 9)
		what = "-"
		back = "-"
		if (old_query[i] != "-") {
			what = called(old_query[i]) " -> " called(query[i]) "()"
			back = called(query[i]) "() -> " called(old_query[i])
		}
		printf "\t{%s, %s, %s, %s, %s,\n\t\t%s,\n\t\t%s,\n\t%s, %s},\n",
			cstr(client[i]), cstr(setting[i]), cstr(param), cstr(old_name[i]),
			cstr(variant[i]), cstr(old_query[i]), cstr(q), cstr(what), cstr(back)
	}
	print "\t{NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL}"
	print "};"
}

# The rows as the SQL function vmm_upgrade._client_queries().
function emit_sql(    i) {
	print "-- Generated from src/client_queries.tsv by src/client_queries.awk: do not edit."
	print "--"
	print "-- The queries Postfix and Dovecot send to a vmm 0.6 database in place of"
	print "-- vmm 0.5.2's: one row per line of src/client_queries.tsv, n its order; @p@"
	print "-- in query stands for the mail schema's prefix.  _warn_next_steps writes"
	print "-- them into the WARNINGs that end the 0.5.2 -> 0.6 update."
	print "CREATE FUNCTION vmm_upgrade._client_queries("
	print "\tOUT n integer, OUT client text, OUT setting text, OUT old_name text,"
	print "\tOUT variant text, OUT old_query text, OUT query text)"
	print "RETURNS SETOF record"
	print "LANGUAGE sql IMMUTABLE PARALLEL SAFE"
	print "SET search_path = pg_catalog, pg_temp"
	print "AS $fn$"
	print "VALUES"
	for (i = 1; i <= n; i++)
		printf "\t(%d, %s, %s, %s, %s,\n\t %s,\n\t %s)%s\n", i,
			sqlstr(client[i]), sqlstr(setting[i]), sqlstr(old_name[i]),
			sqlstr(variant[i]), sqlstr(old_query[i]), sqlstr(query[i]),
			i < n ? "," : ""
	print "$fn$;"
	print ""
	print "COMMENT ON FUNCTION vmm_upgrade._client_queries() IS"
	print "'the Postfix and Dovecot queries of vmm 0.6 that replace vmm 0.5.2''s (from src/client_queries.tsv)';"
}
