--
-- The one step runner (src/library/runner.sql, vmm_upgrade._run_step):
-- every update script and every public step function writes exactly one
-- history row, with the meanings README "The history" gives its columns,
-- after its postflight and before its WARNINGs; a failed postflight writes
-- no row and raises no WARNING of the next steps; preview() refuses what
-- the update's preflight refuses, because it is the same preflight.
--
CREATE DATABASE vmm_t_step_runner;
\c vmm_t_step_runner
\set SHOW_CONTEXT never
\set VERBOSITY terse
\set ECHO none
\set schema public
\set form r41
\i test/fixtures/vmm-0.4.sql
\set users 40
\i test/fixtures/generate-0.4.sql
\set ECHO all
CREATE ROLE regress_runner_dovecot;
CREATE ROLE regress_runner_postfix;
SET vmm_upgrade.dovecot_role = regress_runner_dovecot;
SET vmm_upgrade.postfix_role = regress_runner_postfix;
CREATE EXTENSION vmm_upgrade VERSION '0.4';
-- The history is an ordinary table: a trigger of the test says when a row
-- arrives, and whether the mail schema then holds exactly the layout the
-- row names as to_version (the postflight has run).  The WARNINGs of the
-- step must come after this one (a WARNING: an extension script shows no
-- NOTICE).
CREATE FUNCTION public.t_history_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE WARNING 'history row: % % -> % (Dovecot % -> %), users %, domains %, layout exact: %',
        NEW.details->>'step', NEW.from_version, NEW.to_version, NEW.from_dovecot, NEW.to_dovecot,
        coalesce(NEW.users_changed::text, 'NULL'), coalesce(NEW.domains_changed::text, 'NULL'),
        NOT EXISTS (SELECT FROM vmm_upgrade.check_layout(
                        CASE WHEN NEW.to_version = '0.6.0' THEN '0.6'
                             WHEN NEW.details ? 'compatibility_views' THEN '0.6+compat'
                             ELSE NEW.to_version END,
                        NEW.to_dovecot, NEW.mail_schema));
    RETURN NEW;
END $$;
CREATE TRIGGER t_history_row AFTER INSERT ON vmm_upgrade.history
    FOR EACH ROW EXECUTE FUNCTION public.t_history_row();
-- 1. The two update scripts of a 0.4 database, in one ALTER EXTENSION: each
--    step's row, then its WARNINGs.
ALTER EXTENSION vmm_upgrade UPDATE;
-- 2. A public step function: one row.
SELECT vmm_upgrade.replace_lookup_functions() IS NOT NULL AS replaced;
-- 3. The way back, and up again with the compatibility views, which go.
ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
SET vmm_upgrade.compatibility_views = on;
-- the preview refuses what the update's preflight refuses (a switch of the
-- variant with the compatibility views), and so does the update
SET vmm_upgrade.dovecot_version = '2.3.19';
SELECT item, detail FROM vmm_upgrade.preview('0.6');
ALTER EXTENSION vmm_upgrade UPDATE TO '0.6';
RESET vmm_upgrade.dovecot_version;
ALTER EXTENSION vmm_upgrade UPDATE TO '0.6';
RESET vmm_upgrade.compatibility_views;
SELECT jsonb_array_length(vmm_upgrade.drop_compatibility_views()->'dropped') AS dropped;
-- and the switch of the variant, now that the views are gone
SELECT vmm_upgrade.upgrade_dovecot_layout() IS NOT NULL AS switched;
-- 4. The 0.6.0 fix: adopted at 0.6.0, then updated.
DROP EXTENSION vmm_upgrade;
CREATE EXTENSION vmm_upgrade VERSION '0.6.0';
ALTER EXTENSION vmm_upgrade UPDATE TO '0.6';
-- 5. Exactly one row per step, in order: the adoptions, the four update
--    scripts, the three public step functions.  from_version and
--    to_version are layout names: the step's (update scripts,
--    drop_compatibility_views) or the installed version's (the functions
--    that change the variant or the code); every step but an adoption has
--    a start and a duration.
SELECT id, details->>'step' AS step, from_version, to_version, from_dovecot, to_dovecot,
       users_changed, domains_changed, duration IS NOT NULL AS timed,
       release = vmm_upgrade.release() AS this_release
  FROM vmm_upgrade.history ORDER BY id;
-- The two steps of one ALTER EXTENSION share its start.
SELECT count(DISTINCT started_at) AS starts FROM vmm_upgrade.history WHERE id IN (2, 3);
-- 6. A failed postflight: a deviation planted while the downgrade creates
--    the 0.5.2 views.  No history row, none of the step's WARNINGs (they
--    come after the postflight), nothing changed.
CREATE FUNCTION public.t_plant() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM pg_event_trigger_ddl_commands() AS c
                WHERE c.object_identity = 'public.dovecot_user') THEN
        ALTER TABLE public.users ADD COLUMN planted integer;
    END IF;
END $$;
CREATE EVENT TRIGGER t_plant ON ddl_command_end WHEN TAG IN ('CREATE VIEW')
    EXECUTE FUNCTION public.t_plant();
SELECT count(*) AS rows_before FROM vmm_upgrade.history \gset
ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
DROP EVENT TRIGGER t_plant;
SELECT count(*) = :rows_before AS no_row,
       NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'public.users'::regclass
                                             AND attname = 'planted') AS unchanged,
       (SELECT version FROM vmm_upgrade.detect_layout()) AS layout
  FROM vmm_upgrade.history;
-- The other refusal of a postflight: a lookup function whose body is not
-- the one just created (tampered with during the step) is refused too.
CREATE FUNCTION public.t_tamper() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM pg_event_trigger_ddl_commands() AS c
                WHERE c.object_identity LIKE 'public.postfix_virtual_uid_map(%') THEN
        UPDATE pg_proc SET prosrc = prosrc || '-- tampered'
         WHERE oid = 'public.dovecotuser(varchar, varchar)'::regprocedure;
    END IF;
END $$;
CREATE EVENT TRIGGER t_tamper ON ddl_command_end WHEN TAG IN ('CREATE FUNCTION')
    EXECUTE FUNCTION public.t_tamper();
SELECT vmm_upgrade.replace_lookup_functions();
DROP EVENT TRIGGER t_tamper;
SELECT count(*) = :rows_before AS no_row,
       (SELECT prosrc NOT LIKE '%tampered' FROM pg_proc
         WHERE oid = 'public.dovecotuser(varchar, varchar)'::regprocedure) AS unchanged
  FROM vmm_upgrade.history;
-- 7. The update scripts are one call of the runner each, after pinning
--    search_path (src/scripts/update-*.sql); the step functions call it too.
SELECT p.proname, pg_get_functiondef(p.oid) ~ '_run_step\(''' AS calls_runner
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'vmm_upgrade'
   AND p.proname IN ('upgrade_dovecot_layout', 'replace_lookup_functions', 'drop_compatibility_views')
 ORDER BY 1;
SELECT name, from_version, to_version, what FROM vmm_upgrade._steps() ORDER BY name;
-- 8. A step runs only at READ COMMITTED: at REPEATABLE READ or SERIALIZABLE
--    its snapshot would predate its locks, and a write committed while it
--    waits for them would be lost.  Refused before anything, nothing changed.
SELECT extversion AS version_before FROM pg_extension WHERE extname = 'vmm_upgrade' \gset
BEGIN ISOLATION LEVEL REPEATABLE READ;
ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
ROLLBACK;
SET default_transaction_isolation = serializable;
SELECT vmm_upgrade.replace_lookup_functions();
RESET default_transaction_isolation;
SELECT count(*) = :rows_before AS no_row,
       (SELECT extversion FROM pg_extension WHERE extname = 'vmm_upgrade') = :'version_before' AS same_version,
       (SELECT version FROM vmm_upgrade.detect_layout()) AS layout
  FROM vmm_upgrade.history;
\c postgres
DROP DATABASE vmm_t_step_runner;
DROP ROLE regress_runner_dovecot;
DROP ROLE regress_runner_postfix;
