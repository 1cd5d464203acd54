# Makefile for vmm_upgrade (PGXS).
#
#   make && make install     build and install against the pg_config on PATH
#   make test                install what is missing, then run every test on a
#                            throwaway cluster (see test/run-tests.sh)
#   make demo                a throwaway cluster with a generated vmm 0.5.2
#                            mail database, and what the extension says of it

EXTENSION = vmm_upgrade
MODULE_big = vmm_upgrade
# src/dovecot_version.c is plain C99 without PostgreSQL headers: the
# vmm-cfg-upgrade helper (src/cfg/cfg.mk) compiles the same file.
OBJS = src/vmm_upgrade.o src/layout.o src/sandbox.o src/dovecot_version.o
PG_CPPFLAGS = -I$(srcdir)/src
PG_CFLAGS = -Werror

# Extension versions are vmm layout names (0.5.2, 0.6.0, 0.6) and, for each,
# the layout with the release whose code it carries (0.6+1.1.0; the release
# is the file VERSION, earlier ones are listed in RELEASES).  Every script is
# assembled from the same sources by src/sql/assemble.sh:
#   install  vmm_upgrade--L.sql, vmm_upgrade--L+R.sql    (src/sql/adopt-L.sql)
#   step     vmm_upgrade--S--T.sql and the same from S+R and/or to T+R, so
#            that ALTER EXTENSION UPDATE is one step (update-S--T.sql)
#   refresh  vmm_upgrade--L--L+R.sql, vmm_upgrade--L+r--L+R.sql (refresh.sql),
#            and vmm_upgrade--L+R--L.sql, so that UPDATE TO 'L' from L+R is
#            no detour through another layout (0.5.2+R -> 0.6 -> 0.5.2)
# and every update script brings this release's library with it.
RELEASE := $(shell cat $(srcdir)/VERSION 2>/dev/null || cat VERSION)
PAST_RELEASES := $(shell grep -v '^\#' $(srcdir)/RELEASES 2>/dev/null)
ADOPT_SQL = $(wildcard src/sql/adopt-*.sql)
UPDATE_SQL = $(wildcard src/sql/update-*.sql)
LAYOUTS = $(patsubst src/sql/adopt-%.sql,%,$(ADOPT_SQL))
STEPS = $(patsubst src/sql/update-%.sql,%,$(UPDATE_SQL))
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
# made from src/client_queries.tsv.)
SCRIPT_SOURCES = $(wildcard src/sql/*.sql) src/client_queries.sql src/sql/assemble.sh VERSION RELEASES
DATA_built = $(INSTALL_SCRIPTS) $(STEP_SCRIPTS) $(REFRESH_SCRIPTS)

# pg_regress: every sql/NAME.sql with its expected/NAME.out, in name order.
REGRESS = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --outputdir=test/results
# isolationtester: every specs/NAME.spec with its expected/NAME.out
# (concurrent sessions: the validator while the schema changes).
ISOLATION = $(sort $(basename $(notdir $(wildcard specs/*.spec))))
ISOLATION_OPTS = --inputdir=. --outputdir=test/results/isolation

EXTRA_CLEAN = src/layouts_data.h src/client_queries.sql test/results

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

-include src/cfg/cfg.mk
ifneq ($(wildcard src/cfg/cfg.mk),)
all: cfg-all
install: cfg-install
clean: cfg-clean
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
	awk -f src/tsv2c.awk src/layouts.tsv > $@.tmp && mv $@.tmp $@

# The Postfix and Dovecot queries of vmm 0.6, written once: the update's
# WARNINGs read them from this function, vmm-cfg-upgrade compiles the same
# file in (src/cfg/cfg.mk).
src/client_queries.sql: src/client_queries.tsv src/client_queries.awk
	awk -v lang=sql -f src/client_queries.awk src/client_queries.tsv > $@.tmp && mv $@.tmp $@

$(DATA_built): %.sql: $(SCRIPT_SOURCES)
	sh src/sql/assemble.sh $@ $(RELEASE) > $@.tmp && mv $@.tmp $@

.PHONY: test demo
test:
	bash test/run-tests.sh

demo:
	bash test/demo.sh
