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
-- functions of src/library/step-0.4-0.5.2.sql; this script only says what happens when.
--
-- Settings read (all optional):
--   vmm_upgrade.schema           the mail schema (default public)
--   vmm_upgrade.dovecot_version  the Dovecot that will read the database,
--                                e.g. 2.3.19; >= 1.2 gives the 1.2 variant
--                                (default: the 1.1 variant, as 0.4 has it)
--   vmm_upgrade.dovecot_role     the role Dovecot connects as (default dovecot)
--   vmm_upgrade.postfix_role     the role Postfix connects as (default postfix)

\echo Use "ALTER EXTENSION vmm_upgrade UPDATE" to load this file. \quit

-- Step 0. Resolve every name through pg_catalog first and nothing from the
-- mail schema: the script runs as superuser over a schema others may write.
-- Every mail object below is named with its schema by the functions called.
SET LOCAL search_path = pg_catalog, pg_temp;

-- Step 1. Preflight: the mail schema must hold exactly the 0.4 layout, of
-- either form; anything else is an ERROR listing the deviations, and
-- nothing is changed.  So is a bad vmm_upgrade.dovecot_version, an alias
-- address longer than 0.5.2 keeps (naming the rows), and what would make
-- the update unsafe on the mail tables (rules, row-level security, logical
-- replication, other roles' code on tables a superuser owns).
SELECT vmm_upgrade.require_layout('0.4', NULL, vmm_upgrade.mail_schema(),
                                  'ALTER EXTENSION vmm_upgrade UPDATE TO ''0.5.2'' (preflight)');
SELECT vmm_upgrade._target_dovecot('1.1');
SELECT vmm_upgrade._require_safe_tables(vmm_upgrade.mail_schema(),
                                        'ALTER EXTENSION vmm_upgrade UPDATE TO ''0.5.2''');
SELECT vmm_upgrade._require_aliases_fit_0_5_2(vmm_upgrade.mail_schema());

-- Step 2. Update the tables (vmm's update_tables_0.4.x-0.5.pgsql, and its
-- Dovecot 1.2 file when vmm_upgrade.dovecot_version says so): domains
-- splits into domain_data and domain_name, the keys get their 0.5.2 names,
-- alias addresses narrow to 64 characters, users.smpt of 0.4 as released
-- becomes smtp, the views are made anew over the new tables (with
-- dovecot_password, without vmm_alias_count), and the primary-name trigger
-- arrives.  Everything created is owned by the owner of users and belongs
-- to the mail system, not to this extension.  What was done is kept for
-- step 5.
SELECT pg_catalog.set_config('vmm_upgrade_run.result',
           vmm_upgrade._upgrade_0_4_to_0_5_2(vmm_upgrade.mail_schema(),
                                             vmm_upgrade._target_dovecot('1.1'))::text,
           true);

-- Step 3. Set permissions as vmm 0.5.2 has them: SELECT on the dovecot_*
-- views for the role named by vmm_upgrade.dovecot_role and on the
-- postfix_* views for vmm_upgrade.postfix_role, nothing more.  A role that
-- does not exist gets a WARNING with the GRANT to run once it does; so do
-- privileges of other roles on the 0.4 views, which are not carried over.
SELECT pg_catalog.set_config('vmm_upgrade_run.result',
           (r OPERATOR(pg_catalog.||)
            pg_catalog.jsonb_build_object('granted',
                vmm_upgrade._grant_0_5_2(vmm_upgrade.mail_schema(),
                                         r OPERATOR(pg_catalog.->) 'view_privileges_not_carried')))::text,
           true)
  FROM (SELECT pg_catalog.current_setting('vmm_upgrade_run.result')::pg_catalog.jsonb AS r) AS run;

-- Step 4. Postflight: the result must be exactly the 0.5.2 layout of the
-- target variant, or the whole update is rolled back.
SELECT vmm_upgrade.require_layout('0.5.2',
           pg_catalog.current_setting('vmm_upgrade_run.result')::pg_catalog.jsonb OPERATOR(pg_catalog.->>) 'to_dovecot',
           vmm_upgrade.mail_schema(),
           'ALTER EXTENSION vmm_upgrade UPDATE TO ''0.5.2'' (postflight)');

-- Step 5. Record the step in vmm_upgrade.history (kept by pg_dump).  No
-- account changes (users_changed 0); every domain does.
SELECT vmm_upgrade._record(r OPERATOR(pg_catalog.->>) 'mail_schema', '0.4', '0.5.2',
           r OPERATOR(pg_catalog.->>) 'from_dovecot', r OPERATOR(pg_catalog.->>) 'to_dovecot',
           pg_catalog.statement_timestamp(), 0,
           (r OPERATOR(pg_catalog.->>) 'domains')::pg_catalog.int8,
           r OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('step', 'update'))
  FROM (SELECT pg_catalog.current_setting('vmm_upgrade_run.result')::pg_catalog.jsonb AS r) AS run;

-- Step 6. Tell the DBA what is left.
SELECT vmm_upgrade._warn_next_steps_0_5_2(pg_catalog.current_setting('vmm_upgrade_run.result')::pg_catalog.jsonb);
