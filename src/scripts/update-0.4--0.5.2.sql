-- vmm_upgrade--0.4--0.5.2.sql: ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2'
-- on a database adopted at 0.4 (CREATE EXTENSION vmm_upgrade VERSION '0.4');
-- a plain ALTER EXTENSION vmm_upgrade UPDATE runs it and then the 0.5.2 ->
-- 0.6 step, in the same transaction.
--
-- Upgrades the vmm mail database from layout 0.4 (either form: vmm 0.4 as
-- released, or 0.4-r41) to 0.5.2, replacing vmm's notes for it (stop the
-- services, back up, run update_tables_0.4.x-0.5.pgsql, grant SELECT on
-- postfix_alias, for Dovecot >= 1.2 run update_tables_0.5.x_for_dovecot-
-- 1.2.x.pgsql and grant SELECT on dovecot_password) as one transaction: if
-- any step fails, nothing at all has changed.  The work is done by the
-- functions of src/library/step-0.4-0.5.2.sql; the steps
-- are those of vmm_upgrade._run_step (src/library/runner.sql), in order:
-- preflight, locks, work, grants, postflight, history, WARNINGs.
--
-- Settings read (all optional):
--   vmm_upgrade.schema           the mail schema (default public)
--   vmm_upgrade.dovecot_version  the Dovecot that will read the database,
--                                e.g. 2.3.19; >= 1.2 gives the 1.2 variant
--                                (default: the 1.1 variant, as 0.4 has it)
--   vmm_upgrade.dovecot_role     the role Dovecot connects as (default dovecot)
--   vmm_upgrade.postfix_role     the role Postfix connects as (default postfix)

\echo Use "ALTER EXTENSION vmm_upgrade UPDATE" to load this file. \quit

-- Resolve every name through pg_catalog first and nothing from the mail
-- schema: the script runs as superuser over a schema others may write.
-- Every mail object is named with its schema by the functions called.
SET LOCAL search_path = pg_catalog, pg_temp;

SELECT vmm_upgrade._run_step('0.4--0.5.2');
