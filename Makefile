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

# Install scripts are assembled: the extension's own objects (with
# vmm_upgrade._client_queries(), made from src/client_queries.tsv), then the
# adoption check of one version.  Update scripts are taken as they are.
ADOPT_SQL = $(wildcard src/sql/adopt-*.sql)
UPDATE_SQL = $(wildcard src/sql/update-*.sql)
INSTALL_SCRIPTS = $(patsubst src/sql/adopt-%.sql,vmm_upgrade--%.sql,$(ADOPT_SQL))
UPDATE_SCRIPTS = $(patsubst src/sql/update-%.sql,vmm_upgrade--%.sql,$(UPDATE_SQL))
COMMON_SQL = src/sql/common.sql src/client_queries.sql $(wildcard src/sql/upgrade.sql) \
	$(sort $(wildcard src/sql/lib-*.sql))
DATA_built = $(INSTALL_SCRIPTS) $(UPDATE_SCRIPTS)

# pg_regress: every sql/NAME.sql with its expected/NAME.out, in name order.
REGRESS = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --outputdir=test/results

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

src/layouts_data.h: src/layouts.tsv src/tsv2c.awk
	awk -f src/tsv2c.awk src/layouts.tsv > $@.tmp && mv $@.tmp $@

# The Postfix and Dovecot queries of vmm 0.6, written once: the update's
# WARNINGs read them from this function, vmm-cfg-upgrade compiles the same
# file in (src/cfg/cfg.mk).
src/client_queries.sql: src/client_queries.tsv src/client_queries.awk
	awk -v lang=sql -f src/client_queries.awk src/client_queries.tsv > $@.tmp && mv $@.tmp $@

$(INSTALL_SCRIPTS): vmm_upgrade--%.sql: $(COMMON_SQL) src/sql/adopt-%.sql
	cat $^ > $@.tmp && mv $@.tmp $@

$(UPDATE_SCRIPTS): vmm_upgrade--%.sql: src/sql/update-%.sql
	cp $< $@

.PHONY: test demo
test:
	bash test/run-tests.sh

demo:
	bash test/demo.sh
