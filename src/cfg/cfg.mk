# src/cfg/cfg.mk -- build, test and install vmm-cfg-upgrade.
#
# Included by the top-level PGXS Makefile; also usable alone from the
# repository top:  make -f src/cfg/cfg.mk cfg-test
# Every variable starts with CFG_ so nothing clashes with PGXS.
#
#   cfg-all      build src/cfg/vmm-cfg-upgrade (C99, standard library + POSIX)
#   cfg-install  install it into $(DESTDIR)$(CFG_BINDIR), the man page into
#                $(DESTDIR)$(CFG_MANDIR)
#   cfg-test     golden-file tests, configparser check, valgrind-free,
#                then a bounded libFuzzer run (clang, ASan+UBSan);
#                CFG_TEST_BIN=/usr/bin/vmm-cfg-upgrade tests an installed
#                binary instead of the one built here
#   cfg-clean    remove what the above built
#
# --version prints the release, the file VERSION, given to the compiler as
# VMM_RELEASE.  CFG_TOP is the source tree ("" or "DIR/" for a build in
# another directory; the top-level Makefile sets it).

CFG_CC ?= cc
CFG_CFLAGS ?= -std=c99 -O2 -g -Wall -Wextra -Werror -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith -Wformat=2
CFG_LDFLAGS ?=
CFG_PREFIX ?= /usr/local
CFG_BINDIR ?= $(CFG_PREFIX)/bin
CFG_MANDIR ?= $(CFG_PREFIX)/share/man/man1
CFG_INSTALL ?= install
CFG_CPPFLAGS ?=
CFG_TOP ?=
CFG_RELEASE := $(shell cat $(CFG_TOP)VERSION)

CFG_FUZZ_CC ?= clang
CFG_FUZZ_SECONDS ?= 60
CFG_FUZZ_FLAGS = -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all

CFG_SRCDIR = $(CFG_TOP)src/cfg
CFG_LIB_SRCS = $(CFG_SRCDIR)/cfg_util.c $(CFG_SRCDIR)/cfg_vmmcfg.c \
	$(CFG_SRCDIR)/cfg_query.c $(CFG_SRCDIR)/cfg_diff.c
CFG_HDRS = $(CFG_SRCDIR)/cfg_upgrade.h
CFG_BIN = src/cfg/vmm-cfg-upgrade
CFG_FUZZ_BIN = src/cfg/vmm-cfg-fuzz
CFG_TEST_BIN ?= $(CFG_BIN)
CFG_FUZZ_WORK = test/cfg/fuzz-work

.PHONY: cfg-all cfg-install cfg-test cfg-clean cfg-fuzz

cfg-all: $(CFG_BIN)

$(CFG_BIN): $(CFG_SRCDIR)/vmm-cfg-upgrade.c $(CFG_LIB_SRCS) $(CFG_HDRS) $(CFG_TOP)VERSION
	@mkdir -p $(dir $@)
	$(CFG_CC) $(CFG_CPPFLAGS) -DVMM_RELEASE='"$(CFG_RELEASE)"' $(CFG_CFLAGS) \
		-o $@ $(CFG_SRCDIR)/vmm-cfg-upgrade.c $(CFG_LIB_SRCS) $(CFG_LDFLAGS)

$(CFG_FUZZ_BIN): $(CFG_SRCDIR)/fuzz.c $(CFG_LIB_SRCS) $(CFG_HDRS)
	@mkdir -p $(dir $@)
	$(CFG_FUZZ_CC) $(CFG_FUZZ_FLAGS) -o $@ $(CFG_SRCDIR)/fuzz.c $(CFG_LIB_SRCS)

cfg-install: $(CFG_BIN)
	$(CFG_INSTALL) -d $(DESTDIR)$(CFG_BINDIR) $(DESTDIR)$(CFG_MANDIR)
	$(CFG_INSTALL) -m 0755 $(CFG_BIN) $(DESTDIR)$(CFG_BINDIR)/vmm-cfg-upgrade
	$(CFG_INSTALL) -m 0644 $(CFG_TOP)doc/vmm-cfg-upgrade.1 \
		$(DESTDIR)$(CFG_MANDIR)/vmm-cfg-upgrade.1

# golden files first (fast, clear failures), then the bounded fuzz run
cfg-test: $(filter $(CFG_BIN),$(CFG_TEST_BIN)) $(CFG_FUZZ_BIN)
	@echo "cfg: testing $(CFG_TEST_BIN)"
	sh $(CFG_TOP)test/cfg/run.sh $(CFG_TEST_BIN)
	sh $(CFG_TOP)test/cfg/fuzz.sh $(CFG_FUZZ_BIN) $(CFG_FUZZ_SECONDS) $(CFG_FUZZ_WORK)

cfg-fuzz: $(CFG_FUZZ_BIN)
	sh $(CFG_TOP)test/cfg/fuzz.sh $(CFG_FUZZ_BIN) $(CFG_FUZZ_SECONDS) $(CFG_FUZZ_WORK)

cfg-clean:
	rm -f $(CFG_BIN) $(CFG_FUZZ_BIN)
	rm -rf $(CFG_FUZZ_WORK) test/cfg/results
