#!/usr/bin/env bash
# test/c-messages.sh - every ereport of the C code (src/*.c, or the files
# given) keeps the message convention of the project (HELPERS.md, issue 9;
# PostgreSQL's error message style guide): an errcode; a primary message
# (errmsg) that starts with no capital letter, ends with no period and names
# no step ("ALTER EXTENSION") and no "vmm_upgrade:" prefix; errdetail and
# errhint full sentences, with a capital letter and a final period.  (elog
# is for can't-happen errors and is not checked.)  The SQL side is
# sql/messages.sql.
#
# One test per ereport; the last line is "c-messages: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "$#" -eq 0 ]; then
	set -- src/*.c
fi

perl -e '
use strict; use warnings;
my ($n, $passed, $failed) = (0, 0, 0);
# The format string of an argument: its leading adjacent C string literals, joined.
sub literal { my ($s) = @_; my $r = ""; $r .= $1 while $s =~ /\G\s*"((?:[^"\\]|\\.)*)"/gc; return $r; }
# The argument of the first call of fn( ... ) in text, parentheses balanced.
sub arg_of {
	my ($fn, $text) = @_;
	return undef unless $text =~ /\b$fn\s*\(/g;
	my ($depth, $start, $i, $q) = (1, pos($text), pos($text), 0);
	for (; $i < length $text && $depth > 0; $i++) {
		my $c = substr($text, $i, 1);
		if ($q) { if ($c eq "\\") { $i++ } elsif ($c eq "\"") { $q = 0 } next }
		if ($c eq "\"") { $q = 1 } elsif ($c eq "(") { $depth++ } elsif ($c eq ")") { $depth-- }
	}
	return substr($text, $start, $i - $start - 1);
}
for my $file (@ARGV) {
	open my $fh, "<", $file or die "$file: $!";
	my $src = do { local $/; <$fh> };
	close $fh;
	while ($src =~ /\bereport\s*\(/g) {
		my $at = $-[0];
		my $line = 1 + (substr($src, 0, $at) =~ tr/\n//);
		my $call = arg_of("ereport", substr($src, $at));
		my @bad;
		push @bad, "no errcode" unless $call =~ /\berrcode\s*\(/;
		my $msg = arg_of("errmsg", $call);
		if (!defined $msg) {
			push @bad, "no errmsg";
		} else {
			my $m = literal($msg);
			push @bad, "primary starts with a capital letter: \"$m\"" if $m =~ /^[A-Z][a-z]/;
			push @bad, "primary ends with a period: \"$m\"" if $m =~ /\.$/;
			push @bad, "primary names a step: \"$m\"" if $m =~ /ALTER EXTENSION|\((pre|post)flight\)/;
			push @bad, "primary has a prefix: \"$m\"" if $m =~ /^vmm_upgrade:/;
		}
		for my $fn ("errdetail", "errhint") {
			my $a = arg_of($fn, $call);
			next unless defined $a;
			my $m = literal($a);
			push @bad, "$fn is not a full sentence (capital letter, final period): \"$m\""
				unless $m =~ /^(?:[A-Z]|%s)/ && $m =~ /\.$/;
			push @bad, "$fn says \"Nothing was changed\"" if $fn eq "errhint" && $m =~ /Nothing was changed/;
		}
		$n++;
		if (@bad) { $failed++; print "not ok $n - $file:$line: ", join("; ", @bad), "\n" }
		else { $passed++; print "ok $n - $file:$line\n" }
	}
}
print "c-messages: $passed passed, $failed failed\n";
exit($failed == 0 && $passed > 0 ? 0 : 1);
' "$@"
