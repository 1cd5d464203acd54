-- vmm_upgrade--0.5.2--0.6.sql: ALTER EXTENSION vmm_upgrade UPDATE [TO '0.6']
--
-- Upgrades the vmm mail database from layout 0.5.2 to 0.6, replacing vmm's
-- upgrade notes (stop services, back up, run update_tables_0.5.x-0.6*.pgsql,
-- run set-permissions.py, change the Postfix and Dovecot queries, start the
-- services).  The steps below are those notes, in order, as one transaction:
-- if any step fails, nothing at all has changed.  The work is done by the
-- functions of src/library/step-0.5.2-0.6.sql; this script only says what happens when.
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

-- Step 0. Resolve every name through pg_catalog first and nothing from the
-- mail schema: the script runs as superuser over a schema others may write.
-- Every mail object below is named with its schema by the functions called.
SET LOCAL search_path = pg_catalog, pg_temp;

-- Step 1. Preflight: the mail schema must hold exactly the 0.5.2 layout
-- (either Dovecot variant, with or without the optional lookups).  Anything
-- else (0.6 already, a half-applied upgrade, a dropped column, ...) is an
-- ERROR listing the deviations, and nothing is changed.  The target variant
-- is checked here too, so a wrong vmm_upgrade.dovecot_version stops us now.
SELECT vmm_upgrade.require_layout('0.5.2', NULL, vmm_upgrade.mail_schema(),
                                  'ALTER EXTENSION vmm_upgrade UPDATE TO ''0.6'' (preflight)');
SELECT vmm_upgrade._target_dovecot(d.dovecot)
  FROM vmm_upgrade.detect_layout(vmm_upgrade.mail_schema()) AS d;
-- Nothing on the mail tables may make the update unsafe or wrong: rules,
-- row-level security, logical replication, or (when a superuser owns the
-- tables) code of other roles that would run with the owner's rights.
SELECT vmm_upgrade._require_safe_tables(vmm_upgrade.mail_schema(),
                                        'ALTER EXTENSION vmm_upgrade UPDATE TO ''0.6''');

-- Step 1b. Lock, up front and once, every relation the update changes:
-- the 0.5.2 views it drops first (lookups lock a view, then the tables under
-- it; postfix_gid stays and reads domain_name only, which is not locked, so
-- Postfix's domain and gid lookups go on during the update),
-- then users, domain_data and maillocation in the order vmm's writers lock
-- them (a table, then what its foreign keys reference).  In short attempts
-- (vmm_upgrade.lock_wait_attempt) so that lookups never queue long behind
-- the update; past vmm_upgrade.lock_wait_total an ERROR names the sessions
-- in the way, and nothing is changed.
SELECT pg_catalog.set_config('vmm_upgrade_run.locks',
           vmm_upgrade._lock_for_update(vmm_upgrade.mail_schema(),
               ARRAY['dovecot_password', 'dovecot_user', 'postfix_alias',
                     'postfix_maildir', 'postfix_relocated', 'postfix_transport', 'postfix_uid',
                     'vmm_domain_info', 'users', 'domain_data', 'maillocation'],
               'ALTER EXTENSION vmm_upgrade UPDATE TO ''0.6''')::text,
           true);

-- Step 2. Update the tables (vmm's update_tables_0.5.x-0.6*.pgsql): service
-- flags become service sets, transports equal to the domain's are inherited,
-- maillocation becomes directory + mailbox format, quota limits, catch-all,
-- notes, the 0.5.2 views and optional lookups replaced by the 0.6 types and
-- lookup functions; a Dovecot < 1.2 database moves to the 1.2 variant in the
-- same step when vmm_upgrade.dovecot_version says so.  Everything created is
-- owned by the owner of users and belongs to the mail system, not to this
-- extension.  What was done is kept for step 5.
SELECT pg_catalog.set_config('vmm_upgrade_run.result',
           vmm_upgrade._upgrade_0_5_2_to_0_6(d.mail_schema, vmm_upgrade._target_dovecot(d.dovecot))::text,
           true)
  FROM vmm_upgrade.detect_layout(vmm_upgrade.mail_schema()) AS d;

-- Step 3. Set permissions (vmm's set-permissions.py): the roles named by
-- vmm_upgrade.dovecot_role / vmm_upgrade.postfix_role get exactly what they
-- need, column by column, and lose CREATE on the mail schema.  A role that
-- does not exist gets a WARNING saying what to run once it does.  ERROR (and
-- the whole update rolls back) when a setting names the owner of the mail
-- tables, or when Postfix could still read a password by any way (a grant to
-- PUBLIC or to a group role of 0.5.2 times, ...); WARNINGs for one role
-- serving both services and for PUBLIC's CREATE on the mail schema.
SELECT pg_catalog.set_config('vmm_upgrade_run.result',
           (pg_catalog.current_setting('vmm_upgrade_run.result')::pg_catalog.jsonb
            OPERATOR(pg_catalog.||)
            pg_catalog.jsonb_build_object('granted',
                vmm_upgrade._grant_configured_roles(vmm_upgrade.mail_schema())))::text,
           true);

-- Step 4. Postflight: the result must be exactly the 0.6 layout of the
-- target variant (with vmm_upgrade.compatibility_views on: 0.6 plus the
-- 0.5.2 views, layout 0.6+compat), or the whole update is rolled back.
SELECT vmm_upgrade.require_layout(
           CASE WHEN pg_catalog.current_setting('vmm_upgrade_run.result')::pg_catalog.jsonb
                     OPERATOR(pg_catalog.?) 'compatibility_views'
                THEN '0.6+compat' ELSE '0.6' END,
           pg_catalog.current_setting('vmm_upgrade_run.result')::pg_catalog.jsonb OPERATOR(pg_catalog.->>) 'to_dovecot',
           vmm_upgrade.mail_schema(),
           'ALTER EXTENSION vmm_upgrade UPDATE TO ''0.6'' (postflight)');

-- Step 5. Record the step in vmm_upgrade.history (kept by pg_dump).
SELECT vmm_upgrade._record(r OPERATOR(pg_catalog.->>) 'mail_schema', '0.5.2', '0.6',
           r OPERATOR(pg_catalog.->>) 'from_dovecot', r OPERATOR(pg_catalog.->>) 'to_dovecot',
           pg_catalog.statement_timestamp(),
           (r OPERATOR(pg_catalog.->>) 'users')::pg_catalog.int8,
           (r OPERATOR(pg_catalog.->>) 'domains')::pg_catalog.int8,
           r OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('step', 'update'))
  FROM (SELECT pg_catalog.current_setting('vmm_upgrade_run.result')::pg_catalog.jsonb AS r) AS run;

-- Step 6. Tell the DBA what is left: Postfix and Dovecot must switch to the
-- 0.6 queries before the services start again.
SELECT vmm_upgrade._warn_next_steps(vmm_upgrade.mail_schema());
