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
#                run (clang, ASan+UBSan); CFG_TEST_BIN=/usr/bin/vmm-cfg-upgrade
#                runs the golden-file tests against an installed binary
#                instead of the one built here
#   cfg-clean    remove what the above built
#
# --version prints the release, the file VERSION, given to the compiler as
# VMM_RELEASE.  CFG_TOP is the source tree ("" or "DIR/" for a build in
# another directory; the top-level Makefile sets it); what is built goes to
# src/ and src/cfg/ of the current directory.  CFG_CPPFLAGS, CFG_CFLAGS and
# CFG_LDFLAGS are the caller's (debian/rules passes Debian's build flags).

CFG_CC ?= cc
CFG_CFLAGS ?= -std=c99 -O2 -g -Wall -Wextra -Werror -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith -Wformat=2
CFG_LDFLAGS ?=
CFG_CPPFLAGS ?=
CFG_PREFIX ?= /usr/local
CFG_BINDIR ?= $(CFG_PREFIX)/bin
CFG_MANDIR ?= $(CFG_PREFIX)/share/man/man1
CFG_INSTALL ?= install
CFG_TOP ?=
CFG_RELEASE := $(shell cat $(CFG_TOP)VERSION)
# src/dovecot_version.c, the one Dovecot version parser, is shared with the
# extension's module; src/client_queries_data.h is generated (build side)
CFG_INCLUDES = -Isrc $(if $(CFG_TOP),-I$(CFG_TOP)src)

CFG_FUZZ_CC ?= clang
CFG_FUZZ_SECONDS ?= 60
CFG_FUZZ_FLAGS = -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all

CFG_SRCDIR = $(CFG_TOP)src/cfg
CFG_LIB_SRCS = $(CFG_SRCDIR)/cfg_util.c $(CFG_SRCDIR)/cfg_ini.c \
	$(CFG_SRCDIR)/cfg_vmmcfg.c \
	$(CFG_SRCDIR)/cfg_query.c $(CFG_SRCDIR)/cfg_diff.c $(CFG_TOP)src/dovecot_version.c
CFG_HDRS = $(CFG_SRCDIR)/cfg_upgrade.h $(CFG_SRCDIR)/cfg_ini.h $(CFG_TOP)src/dovecot_version.h \
	src/client_queries_data.h
CFG_BIN = src/cfg/vmm-cfg-upgrade
CFG_FUZZ_BIN = src/cfg/vmm-cfg-fuzz
CFG_TEST_BIN ?= $(CFG_BIN)
CFG_UNIT_DOVECOT = src/cfg/dovecot-version-test
CFG_UNIT_INI = src/cfg/ini-test
CFG_UNIT_BINS = $(CFG_UNIT_DOVECOT) $(CFG_UNIT_INI)
CFG_FUZZ_WORK = test/cfg/fuzz-work

.PHONY: cfg-all cfg-install cfg-test cfg-clean cfg-fuzz

cfg-all: $(CFG_BIN)

$(CFG_BIN): $(CFG_SRCDIR)/vmm-cfg-upgrade.c $(CFG_LIB_SRCS) $(CFG_HDRS) $(CFG_TOP)VERSION
	@mkdir -p $(dir $@)
	$(CFG_CC) $(CFG_INCLUDES) $(CFG_CPPFLAGS) -DVMM_RELEASE='"$(CFG_RELEASE)"' $(CFG_CFLAGS) \
		-o $@ $(CFG_SRCDIR)/vmm-cfg-upgrade.c $(CFG_LIB_SRCS) $(CFG_LDFLAGS)

$(CFG_FUZZ_BIN): $(CFG_SRCDIR)/fuzz.c $(CFG_LIB_SRCS) $(CFG_HDRS)
	@mkdir -p $(dir $@)
	$(CFG_FUZZ_CC) $(CFG_INCLUDES) $(CFG_CPPFLAGS) $(CFG_FUZZ_FLAGS) -o $@ $(CFG_SRCDIR)/fuzz.c \
		$(CFG_LIB_SRCS)

# the Postfix and Dovecot queries, written once in src/client_queries.tsv
# (the extension's Makefile makes its SQL from the same file)
src/client_queries_data.h: $(CFG_TOP)src/client_queries.tsv $(CFG_TOP)src/client_queries.awk
	@mkdir -p $(dir $@)
	awk -v lang=c -f $(CFG_TOP)src/client_queries.awk $(CFG_TOP)src/client_queries.tsv > $@.tmp && \
		mv $@.tmp $@

# unit tests: the Dovecot version parser shared with the extension, and
# the INI model on its own (without vmm's rules)
$(CFG_UNIT_DOVECOT): $(CFG_TOP)test/cfg/dovecot_version_test.c $(CFG_TOP)src/dovecot_version.c \
		$(CFG_TOP)src/dovecot_version.h
	@mkdir -p $(dir $@)
	$(CFG_CC) $(CFG_INCLUDES) $(CFG_CPPFLAGS) $(CFG_CFLAGS) -o $@ \
		$(CFG_TOP)test/cfg/dovecot_version_test.c $(CFG_TOP)src/dovecot_version.c

$(CFG_UNIT_INI): $(CFG_TOP)test/cfg/ini_test.c $(CFG_SRCDIR)/cfg_ini.c \
		$(CFG_SRCDIR)/cfg_util.c $(CFG_SRCDIR)/cfg_ini.h $(CFG_SRCDIR)/cfg_upgrade.h
	@mkdir -p $(dir $@)
	$(CFG_CC) $(CFG_INCLUDES) $(CFG_CPPFLAGS) -I$(CFG_SRCDIR) $(CFG_CFLAGS) -o $@ \
		$(CFG_TOP)test/cfg/ini_test.c $(CFG_SRCDIR)/cfg_ini.c $(CFG_SRCDIR)/cfg_util.c

cfg-install: $(CFG_BIN)
	$(CFG_INSTALL) -d $(DESTDIR)$(CFG_BINDIR) $(DESTDIR)$(CFG_MANDIR)
	$(CFG_INSTALL) -m 0755 $(CFG_BIN) $(DESTDIR)$(CFG_BINDIR)/vmm-cfg-upgrade
	$(CFG_INSTALL) -m 0644 $(CFG_TOP)doc/vmm-cfg-upgrade.1 \
		$(DESTDIR)$(CFG_MANDIR)/vmm-cfg-upgrade.1

# golden files first (fast, clear failures), then the bounded fuzz run
cfg-test: $(filter $(CFG_BIN),$(CFG_TEST_BIN)) $(CFG_FUZZ_BIN) $(CFG_UNIT_BINS)
	@echo "cfg: testing $(CFG_TEST_BIN)"
	sh $(CFG_TOP)test/cfg/run.sh $(CFG_TEST_BIN) $(CFG_UNIT_BINS)
	sh $(CFG_TOP)test/cfg/fuzz.sh $(CFG_FUZZ_BIN) $(CFG_FUZZ_SECONDS) $(CFG_FUZZ_WORK)

cfg-fuzz: $(CFG_FUZZ_BIN)
	sh $(CFG_TOP)test/cfg/fuzz.sh $(CFG_FUZZ_BIN) $(CFG_FUZZ_SECONDS) $(CFG_FUZZ_WORK)

cfg-clean:
	rm -f $(CFG_BIN) $(CFG_FUZZ_BIN) $(CFG_UNIT_BINS) src/client_queries_data.h
	rm -rf $(CFG_FUZZ_WORK) test/cfg/results
