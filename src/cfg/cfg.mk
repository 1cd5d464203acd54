# src/cfg/cfg.mk -- build, test and install vmm-cfg-upgrade.
#
# Included by the top-level PGXS Makefile; also usable alone from the
# repository top:  make -f src/cfg/cfg.mk cfg-test
# Every variable starts with CFG_ so nothing clashes with PGXS.
#
#   cfg-all      build src/cfg/vmm-cfg-upgrade (C99, standard library + POSIX)
#   cfg-install  install it into $(DESTDIR)$(CFG_BINDIR), the man page into
#                $(DESTDIR)$(CFG_MANDIR)
#   cfg-test     unit tests (Dovecot version parser, INI model), golden-file
#                tests, configparser check, valgrind-free, the queries
#                against src/client_queries.tsv, then a bounded libFuzzer
#                run (clang, ASan+UBSan)
#   cfg-clean    remove what the above built

CFG_CC ?= cc
CFG_CFLAGS ?= -std=c99 -O2 -g -Wall -Wextra -Werror -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith -Wformat=2
CFG_LDFLAGS ?=
# src/dovecot_version.c, the one Dovecot version parser, is shared with the
# extension's module
CFG_CPPFLAGS = -Isrc
CFG_PREFIX ?= /usr/local
CFG_BINDIR ?= $(CFG_PREFIX)/bin
CFG_MANDIR ?= $(CFG_PREFIX)/share/man/man1
CFG_INSTALL ?= install

CFG_FUZZ_CC ?= clang
CFG_FUZZ_SECONDS ?= 60
CFG_FUZZ_FLAGS = -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all

CFG_SRCDIR = src/cfg
CFG_LIB_SRCS = $(CFG_SRCDIR)/cfg_util.c $(CFG_SRCDIR)/cfg_ini.c \
	$(CFG_SRCDIR)/cfg_vmmcfg.c \
	$(CFG_SRCDIR)/cfg_query.c $(CFG_SRCDIR)/cfg_diff.c src/dovecot_version.c
CFG_HDRS = $(CFG_SRCDIR)/cfg_upgrade.h $(CFG_SRCDIR)/cfg_ini.h src/dovecot_version.h \
	src/client_queries_data.h
CFG_BIN = $(CFG_SRCDIR)/vmm-cfg-upgrade
CFG_FUZZ_BIN = $(CFG_SRCDIR)/vmm-cfg-fuzz
CFG_UNIT_DOVECOT = $(CFG_SRCDIR)/dovecot-version-test
CFG_UNIT_INI = $(CFG_SRCDIR)/ini-test
CFG_UNIT_BINS = $(CFG_UNIT_DOVECOT) $(CFG_UNIT_INI)
CFG_FUZZ_WORK = test/cfg/fuzz-work

.PHONY: cfg-all cfg-install cfg-test cfg-clean cfg-fuzz

cfg-all: $(CFG_BIN)

$(CFG_BIN): $(CFG_SRCDIR)/vmm-cfg-upgrade.c $(CFG_LIB_SRCS) $(CFG_HDRS)
	$(CFG_CC) $(CFG_CPPFLAGS) $(CFG_CFLAGS) -o $@ $(CFG_SRCDIR)/vmm-cfg-upgrade.c \
		$(CFG_LIB_SRCS) $(CFG_LDFLAGS)

$(CFG_FUZZ_BIN): $(CFG_SRCDIR)/fuzz.c $(CFG_LIB_SRCS) $(CFG_HDRS)
	$(CFG_FUZZ_CC) $(CFG_CPPFLAGS) $(CFG_FUZZ_FLAGS) -o $@ $(CFG_SRCDIR)/fuzz.c \
		$(CFG_LIB_SRCS)

# the Postfix and Dovecot queries, written once in src/client_queries.tsv
# (the extension's Makefile makes its SQL from the same file)
src/client_queries_data.h: src/client_queries.tsv src/client_queries.awk
	awk -v lang=c -f src/client_queries.awk src/client_queries.tsv > $@.tmp && \
		mv $@.tmp $@

# unit tests: the Dovecot version parser shared with the extension, and
# the INI model on its own (without vmm's rules)
$(CFG_UNIT_DOVECOT): test/cfg/dovecot_version_test.c src/dovecot_version.c \
		src/dovecot_version.h
	$(CFG_CC) $(CFG_CPPFLAGS) $(CFG_CFLAGS) -o $@ \
		test/cfg/dovecot_version_test.c src/dovecot_version.c

$(CFG_UNIT_INI): test/cfg/ini_test.c $(CFG_SRCDIR)/cfg_ini.c \
		$(CFG_SRCDIR)/cfg_util.c $(CFG_SRCDIR)/cfg_ini.h $(CFG_SRCDIR)/cfg_upgrade.h
	$(CFG_CC) $(CFG_CPPFLAGS) -I$(CFG_SRCDIR) $(CFG_CFLAGS) -o $@ \
		test/cfg/ini_test.c $(CFG_SRCDIR)/cfg_ini.c $(CFG_SRCDIR)/cfg_util.c

cfg-install: $(CFG_BIN)
	$(CFG_INSTALL) -d $(DESTDIR)$(CFG_BINDIR) $(DESTDIR)$(CFG_MANDIR)
	$(CFG_INSTALL) -m 0755 $(CFG_BIN) $(DESTDIR)$(CFG_BINDIR)/vmm-cfg-upgrade
	$(CFG_INSTALL) -m 0644 doc/vmm-cfg-upgrade.1 \
		$(DESTDIR)$(CFG_MANDIR)/vmm-cfg-upgrade.1

# golden files first (fast, clear failures), then the bounded fuzz run
cfg-test: $(CFG_BIN) $(CFG_FUZZ_BIN) $(CFG_UNIT_BINS)
	sh test/cfg/run.sh $(CFG_BIN) $(CFG_UNIT_BINS)
	sh test/cfg/fuzz.sh $(CFG_FUZZ_BIN) $(CFG_FUZZ_SECONDS) $(CFG_FUZZ_WORK)

cfg-fuzz: $(CFG_FUZZ_BIN)
	sh test/cfg/fuzz.sh $(CFG_FUZZ_BIN) $(CFG_FUZZ_SECONDS) $(CFG_FUZZ_WORK)

cfg-clean:
	rm -f $(CFG_BIN) $(CFG_FUZZ_BIN) $(CFG_UNIT_BINS) src/client_queries_data.h
	rm -rf $(CFG_FUZZ_WORK) test/cfg/results
