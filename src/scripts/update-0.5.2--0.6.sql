-- vmm_upgrade--0.5.2--0.6.sql: ALTER EXTENSION vmm_upgrade UPDATE [TO '0.6']
--
-- Upgrades the vmm mail database from layout 0.5.2 to 0.6, replacing vmm's
-- upgrade notes (stop services, back up, run update_tables_0.5.x-0.6*.pgsql,
-- run set-permissions.py, change the Postfix and Dovecot queries, start the
-- services).  The steps below are those notes, in order, as one transaction:
-- if any step fails, nothing at all has changed.  The work is done by the
-- functions of src/library/step-0.5.2-0.6.sql; the steps
-- are those of vmm_upgrade._run_step (src/library/runner.sql), in order:
-- preflight, locks, work, grants, postflight, history, WARNINGs.
--
-- Settings read (all optional):
--   vmm_upgrade.schema           the mail schema (default public)
--   vmm_upgrade.dovecot_version  the Dovecot that will read the database,
--                                e.g. 2.3.19; >= 1.2 gives the 1.2 variant
--                                (default: keep the variant the database has)
--   vmm_upgrade.dovecot_role     the role Dovecot connects as (default dovecot)
--   vmm_upgrade.postfix_role     the role Postfix connects as (default postfix)
--   vmm_upgrade.lock_wait_total  how long to wait for the locks in all
--                                (default 30s); vmm_upgrade.lock_wait_attempt
--                                how long per attempt (default 200ms)
--   vmm_upgrade.compatibility_views  on: leave the 0.5.2 views Postfix and
--                                Dovecot query, over the 0.6 tables, until
--                                vmm_upgrade.drop_compatibility_views()
--                                (default off)

\echo Use "ALTER EXTENSION vmm_upgrade UPDATE" to load this file. \quit

-- Resolve every name through pg_catalog first and nothing from the mail
-- schema: the script runs as superuser over a schema others may write.
-- Every mail object is named with its schema by the functions called.
SET LOCAL search_path = pg_catalog, pg_temp;

SELECT vmm_upgrade._run_step('0.5.2--0.6');
