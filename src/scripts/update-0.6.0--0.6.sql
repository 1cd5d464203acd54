-- vmm_upgrade--0.6.0--0.6.sql: ALTER EXTENSION vmm_upgrade UPDATE [TO '0.6']
-- on a database adopted at 0.6.0 (CREATE EXTENSION vmm_upgrade VERSION '0.6.0').
--
-- Applies the fixes of vmm 0.6.1 for the defects of vmm 0.6.0, which vmm's
-- upgrade notes had the DBA paste by hand, as one checked transaction:
--   * accounts whose tid is the transport row named "domain" get tid NULL
--     (they inherit their domain's transport); the row itself stays;
--   * dovecotpassword() (and every other 0.6 lookup function) is replaced by
--     vmm_upgrade's, so an account with a NULL ssid gets its domain's services
--     and can log in (the Dovecot < 1.2 defect), in either variant.
-- Nothing to fix is fine: the step then only installs our function bodies.
-- The work is done by the functions of src/library/step-0.6.0-0.6.sql; the steps
-- are those of vmm_upgrade._run_step (src/library/runner.sql), in order:
-- preflight, locks, work, grants, postflight, history, WARNINGs.
--
-- Settings read: vmm_upgrade.schema, the mail schema (default public).

\echo Use "ALTER EXTENSION vmm_upgrade UPDATE" to load this file. \quit

-- Resolve every name through pg_catalog first and nothing from the mail
-- schema: the script runs as superuser over a schema others may write.
-- Every mail object is named with its schema by the functions called.
SET LOCAL search_path = pg_catalog, pg_temp;

SELECT vmm_upgrade._run_step('0.6.0--0.6');
