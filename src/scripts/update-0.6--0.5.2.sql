-- vmm_upgrade--0.6--0.5.2.sql: ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2'
--
-- The way back: takes the vmm mail database from layout 0.6 (upgraded by
-- this extension, or made by vmm 0.6.x and adopted) to layout 0.5.2 of the
-- same Dovecot variant, as one transaction: if any step fails, or the data
-- cannot be held by 0.5.2, nothing at all has changed.  The work is done by
-- the functions of src/library/step-0.6-0.5.2.sql.
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

SET LOCAL search_path = pg_catalog, pg_temp;

-- Step 1. Preflight: exactly the 0.6 layout (either variant), nothing on the
-- tables that makes the step unsafe, and no data 0.5.2 cannot hold (unless
-- the DBA accepts to lose it).  The counts of what is discarded are kept.
SELECT vmm_upgrade.require_layout('0.6', NULL, vmm_upgrade.mail_schema(),
                                  'ALTER EXTENSION vmm_upgrade UPDATE TO ''0.5.2'' (preflight)');
SELECT vmm_upgrade._require_safe_tables(vmm_upgrade.mail_schema(),
                                        'ALTER EXTENSION vmm_upgrade UPDATE TO ''0.5.2''');
SELECT pg_catalog.set_config('vmm_upgrade_run.discarded',
           vmm_upgrade._require_downgradable(vmm_upgrade.mail_schema(),
                                             vmm_upgrade._downgrade_discard_setting(),
                                             'ALTER EXTENSION vmm_upgrade UPDATE TO ''0.5.2''')::text,
           true);

-- Step 2. The tables go back to 0.5.2: every account gets its effective
-- services and transport, the 0.6 tables, columns, types and functions go,
-- the 0.5.2 views (and, when asked or had before, the optional lookup
-- functions) come back, owned by the owner of users.
SELECT pg_catalog.set_config('vmm_upgrade_run.result',
           vmm_upgrade._downgrade_0_6_to_0_5_2(vmm_upgrade.mail_schema(),
                                               vmm_upgrade._downgrade_lookups(vmm_upgrade.mail_schema()))::text,
           true);

-- Step 3. The grants of vmm 0.5.2: SELECT on the views, the 0.6 grants
-- taken back.
SELECT pg_catalog.set_config('vmm_upgrade_run.result',
           (pg_catalog.current_setting('vmm_upgrade_run.result')::pg_catalog.jsonb
            OPERATOR(pg_catalog.||)
            pg_catalog.jsonb_build_object('granted',
                pg_catalog.to_jsonb(vmm_upgrade._grant_0_5_2(vmm_upgrade.mail_schema()))))::text,
           true);

-- Step 4. Postflight: exactly the 0.5.2 layout of the same variant.
SELECT vmm_upgrade.require_layout('0.5.2',
           pg_catalog.current_setting('vmm_upgrade_run.result')::pg_catalog.jsonb OPERATOR(pg_catalog.->>) 'to_dovecot',
           vmm_upgrade.mail_schema(),
           'ALTER EXTENSION vmm_upgrade UPDATE TO ''0.5.2'' (postflight)');

-- Step 5. Record the step in vmm_upgrade.history.
SELECT vmm_upgrade._record(r OPERATOR(pg_catalog.->>) 'mail_schema', '0.6', '0.5.2',
           r OPERATOR(pg_catalog.->>) 'from_dovecot', r OPERATOR(pg_catalog.->>) 'to_dovecot',
           pg_catalog.statement_timestamp(),
           (r OPERATOR(pg_catalog.->>) 'users')::pg_catalog.int8,
           (r OPERATOR(pg_catalog.->>) 'domains')::pg_catalog.int8,
           r OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('step', 'downgrade',
               'discarded', pg_catalog.current_setting('vmm_upgrade_run.discarded')::pg_catalog.jsonb))
  FROM (SELECT pg_catalog.current_setting('vmm_upgrade_run.result')::pg_catalog.jsonb AS r) AS run;

-- Step 6. Tell the DBA what is left: the 0.5.2 queries for Postfix and Dovecot.
SELECT vmm_upgrade._warn_downgrade_next_steps(vmm_upgrade.mail_schema(),
           pg_catalog.current_setting('vmm_upgrade_run.result')::pg_catalog.jsonb);
