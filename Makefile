# Makefile for vmm_upgrade (PGXS).
#
#   make && make install     build and install against the pg_config on PATH
#   make test                install what is missing, then run every test on a
#                            throwaway cluster (see test/run-tests.sh)
#   make demo                a throwaway cluster with a generated vmm 0.5.2
#                            mail database, and what the extension says of it
#   make dist                the PGXN distribution vmm_upgrade-VERSION.zip,
#                            from git (tracked files of HEAD, or DIST_REF)
#
# A build in another directory works too (as Debian's pg_buildext does it):
#   make -C build-15 -f ../Makefile VPATH=$PWD
# pg_regress runs from the source directory only (the tests include files
# relative to it).  WITH_CFG=no leaves vmm-cfg-upgrade out of all, install
# and clean (the Debian package builds and installs it once, as a package of
# its own: debian/rules).

EXTENSION = vmm_upgrade
MODULE_big = vmm_upgrade
# src/dovecot_version.c is plain C99 without PostgreSQL headers: the
# vmm-cfg-upgrade helper (src/cfg/cfg.mk) compiles the same file.
OBJS = src/vmm_upgrade.o src/layout.o src/sandbox.o src/dovecot_version.o
# src/layouts_data.h is generated in the build directory, the rest is in the
# source directory (the same one but in a VPATH build)
PG_CPPFLAGS = -Isrc -I$(srcdir)/src
PG_CFLAGS = -Werror

# Extension versions are vmm layout names (0.5.2, 0.6.0, 0.6) and, for each,
# the layout with the release whose code it carries (0.6+1.1.0; the release
# is the file VERSION, earlier ones are listed in RELEASES).  Every script is
# assembled from the same sources by src/scripts/assemble.sh:
#   install  vmm_upgrade--L.sql, vmm_upgrade--L+R.sql    (src/scripts/adopt-L.sql)
#   step     vmm_upgrade--S--T.sql and the same from S+R and/or to T+R, so
#            that ALTER EXTENSION UPDATE is one step (update-S--T.sql)
#   refresh  vmm_upgrade--L--L+R.sql, vmm_upgrade--L+r--L+R.sql (refresh.sql),
#            and vmm_upgrade--L+R--L.sql, so that UPDATE TO 'L' from L+R is
#            no detour through another layout (0.5.2+R -> 0.6 -> 0.5.2)
# and every update script brings this release's library with it.
#
# vmm_src: where the sources are, "" here or "DIR/" in a VPATH build.
vmm_src := $(if $(VPATH),$(patsubst %/,%,$(VPATH))/)
RELEASE := $(shell cat $(vmm_src)VERSION)
PAST_RELEASES := $(shell grep -v '^\#' $(vmm_src)RELEASES 2>/dev/null)
ADOPT_SQL = $(wildcard $(vmm_src)src/scripts/adopt-*.sql)
UPDATE_SQL = $(wildcard $(vmm_src)src/scripts/update-*.sql)
LAYOUTS = $(patsubst $(vmm_src)src/scripts/adopt-%.sql,%,$(ADOPT_SQL))
STEPS = $(patsubst $(vmm_src)src/scripts/update-%.sql,%,$(UPDATE_SQL))
INSTALL_SCRIPTS = $(foreach l,$(LAYOUTS),vmm_upgrade--$(l).sql vmm_upgrade--$(l)+$(RELEASE).sql)
step_from = $(word 1,$(subst --, ,$(1)))
step_to = $(word 2,$(subst --, ,$(1)))
STEP_SCRIPTS = $(foreach s,$(STEPS),vmm_upgrade--$(s).sql \
	vmm_upgrade--$(call step_from,$(s))+$(RELEASE)--$(call step_to,$(s)).sql \
	vmm_upgrade--$(call step_from,$(s))--$(call step_to,$(s))+$(RELEASE).sql \
	vmm_upgrade--$(call step_from,$(s))+$(RELEASE)--$(call step_to,$(s))+$(RELEASE).sql)
REFRESH_SCRIPTS = $(foreach l,$(LAYOUTS),vmm_upgrade--$(l)--$(l)+$(RELEASE).sql \
	vmm_upgrade--$(l)+$(RELEASE)--$(l).sql \
	$(foreach r,$(PAST_RELEASES),vmm_upgrade--$(l)+$(r)--$(l)+$(RELEASE).sql))
# (src/client_queries.sql, the library's vmm_upgrade._client_queries(), is
# made from src/client_queries.tsv, in the build directory.)
SCRIPT_SOURCES = $(wildcard $(vmm_src)src/scripts/*.sql $(vmm_src)src/library/*.sql) src/client_queries.sql \
	$(addprefix $(vmm_src),src/scripts/assemble.sh VERSION RELEASES)
DATA_built = $(INSTALL_SCRIPTS) $(STEP_SCRIPTS) $(REFRESH_SCRIPTS)

# pg_regress: every sql/NAME.sql with its expected/NAME.out, in name order.
REGRESS = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --outputdir=test/results
# isolationtester: every specs/NAME.spec with its expected/NAME.out
# (concurrent sessions: the validator while the schema changes).
ISOLATION = $(sort $(basename $(notdir $(wildcard specs/*.spec))))
ISOLATION_OPTS = --inputdir=. --outputdir=test/results/isolation

EXTRA_CLEAN = src/layouts_data.h src/client_queries.sql test/results $(EXTENSION)-*.zip

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

CFG_TOP := $(vmm_src)
-include $(vmm_src)src/cfg/cfg.mk
ifneq ($(wildcard $(vmm_src)src/cfg/cfg.mk),)
ifneq ($(WITH_CFG),no)
all: cfg-all
install: cfg-install
clean: cfg-clean
endif
endif

src/layout.o: src/layouts_data.h src/vmm_upgrade.h
src/vmm_upgrade.o: src/vmm_upgrade.h src/dovecot_version.h
src/dovecot_version.o: src/dovecot_version.h
src/sandbox.o: src/vmm_upgrade.h

# The project's document of the layouts, from the same data (committed; the
# test suite checks that it is current).
doc/layouts.md: src/layouts.tsv src/tsv2md.awk
	awk -f src/tsv2md.awk src/layouts.tsv > $@.tmp && mv $@.tmp $@

src/layouts_data.h: src/layouts.tsv src/tsv2c.awk
	@mkdir -p src
	awk -f $(vmm_src)src/tsv2c.awk $(vmm_src)src/layouts.tsv > $@.tmp && mv $@.tmp $@

# the object files of a VPATH build go to src/ of the build directory
ifneq ($(vmm_src),)
$(OBJS) $(OBJS:.o=.bc): | vpath-dirs
.PHONY: vpath-dirs
vpath-dirs:
	@mkdir -p src
endif

# The Postfix and Dovecot queries of vmm 0.6, written once: the update's
# WARNINGs read them from this function, vmm-cfg-upgrade compiles the same
# file in (src/cfg/cfg.mk).
src/client_queries.sql: src/client_queries.tsv src/client_queries.awk
	@mkdir -p src
	awk -v lang=sql -f $(vmm_src)src/client_queries.awk $(vmm_src)src/client_queries.tsv > $@.tmp && mv $@.tmp $@

$(DATA_built): %.sql: $(SCRIPT_SOURCES)
	VMM_CLIENT_QUERIES=src/client_queries.sql \
		sh $(vmm_src)src/scripts/assemble.sh $@ $(RELEASE) > $@.tmp && mv $@.tmp $@

# The PGXN distribution: the tracked files of a commit (HEAD), under
# vmm_upgrade-VERSION/ (META.json's version is VERSION: test/versions.sh).
DIST_REF ?= HEAD
DIST = $(EXTENSION)-$(RELEASE).zip
.PHONY: dist
dist:
	git -C $(or $(vmm_src),.) archive --format zip --prefix=$(EXTENSION)-$(RELEASE)/ \
		-o $(CURDIR)/$(DIST) $(DIST_REF)
	@echo $(DIST)

.PHONY: test demo
test:
	bash test/run-tests.sh

demo:
	bash test/demo.sh
