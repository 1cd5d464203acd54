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
-- The work is done by the functions of src/library/step-0.6.0-0.6.sql.
--
-- Settings read: vmm_upgrade.schema, the mail schema (default public).

\echo Use "ALTER EXTENSION vmm_upgrade UPDATE" to load this file. \quit

-- Step 0. Resolve every name through pg_catalog first and nothing from the
-- mail schema: the script runs as superuser over a schema others may write.
SET LOCAL search_path = pg_catalog, pg_temp;

-- Step 1. Preflight: exactly the 0.6 layout (either variant), else an ERROR
-- listing the deviations, and nothing is changed.
SELECT vmm_upgrade.require_layout('0.6', NULL, vmm_upgrade.mail_schema(),
                                  'ALTER EXTENSION vmm_upgrade UPDATE TO ''0.6'' (preflight)');
SELECT vmm_upgrade._require_safe_tables(vmm_upgrade.mail_schema(),
                                        'ALTER EXTENSION vmm_upgrade UPDATE TO ''0.6''');

-- Step 2. The fixes; what was done is kept for steps 4 and 5.
SELECT pg_catalog.set_config('vmm_upgrade_run.result',
           vmm_upgrade._fix_0_6_0(vmm_upgrade.mail_schema())::text, true);

-- Step 3. Postflight: still exactly the 0.6 layout of the same variant, and
-- dovecotpassword() gives an account with a NULL ssid its domain's services.
SELECT vmm_upgrade._require_lookups_ok(vmm_upgrade.mail_schema(),
           pg_catalog.current_setting('vmm_upgrade_run.result')::pg_catalog.jsonb OPERATOR(pg_catalog.->>) 'dovecot',
           'ALTER EXTENSION vmm_upgrade UPDATE TO ''0.6'' (postflight)');

-- Step 4. Record the step in vmm_upgrade.history (kept by pg_dump).
SELECT vmm_upgrade._record(vmm_upgrade.mail_schema(), '0.6.0', '0.6',
           r OPERATOR(pg_catalog.->>) 'dovecot', r OPERATOR(pg_catalog.->>) 'dovecot',
           pg_catalog.statement_timestamp(),
           (r OPERATOR(pg_catalog.->>) 'users_transport_domain_fixed')::pg_catalog.int8, 0,
           r OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('step', 'update'))
  FROM (SELECT pg_catalog.current_setting('vmm_upgrade_run.result')::pg_catalog.jsonb AS r) AS run;

-- Step 5. Tell the DBA what was fixed.
SELECT vmm_upgrade._warn_0_6_0_fixed(pg_catalog.current_setting('vmm_upgrade_run.result')::pg_catalog.jsonb);
