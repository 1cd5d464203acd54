-- vmm_upgrade--0.6--0.5.2.sql: ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2'
--
-- The way back: takes the vmm mail database from layout 0.6 (upgraded by
-- this extension, or made by vmm 0.6.x and adopted) to layout 0.5.2 of the
-- same Dovecot variant, as one transaction: if any step fails, or the data
-- cannot be held by 0.5.2, nothing at all has changed.  The work is done by
-- the functions of src/library/step-0.6-0.5.2.sql; the steps
-- are those of vmm_upgrade._run_step (src/library/runner.sql), in order:
-- preflight, locks, work, grants, postflight, history, WARNINGs.
--
-- Settings read (all optional):
--   vmm_upgrade.schema             the mail schema (default public)
--   vmm_upgrade.dovecot_role       the role Dovecot connects as (default dovecot)
--   vmm_upgrade.postfix_role       the role Postfix connects as (default postfix)
--   vmm_upgrade.lookups_052        on: also create the optional 0.5.2 lookup
--                                  functions (they come back anyway when the
--                                  database had them before its upgrade)
--   vmm_upgrade.downgrade_discard  kinds of 0.6 data to lose instead of
--                                  refusing: catchall, quota_limits,
--                                  quota_usage, notes, maillocation_extra

\echo Use "ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2'" to load this file. \quit

-- Resolve every name through pg_catalog first and nothing from the mail
-- schema: the script runs as superuser over a schema others may write.
-- Every mail object is named with its schema by the functions called.
SET LOCAL search_path = pg_catalog, pg_temp;

SELECT vmm_upgrade._run_step('0.6--0.5.2');
