--
-- Atomicity of the way from vmm 0.4: whatever fails, the mail schema
-- (structure, every row, owners, privileges), the history and the extension
-- version are exactly as before.
--   * ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2' on vmm 0.4 as released,
--     going to the Dovecot >= 1.2 variant (the most DDL: smpt and
--     managesieve renamed), made to fail at each of its DDL commands in
--     turn (test/include/fail_each.sql);
--   * the whole way in one command, ALTER EXTENSION vmm_upgrade UPDATE
--     (0.4 -> 0.5.2 -> 0.6 in one transaction), failing in its second step:
--     at the first, a middle and the last DDL command of the 0.5.2 -> 0.6
--     script, at the ALTER EXTENSION itself, in the data pass over users (a
--     trigger of the DBA's) and when the history is written: the database
--     is exact 0.4 afterwards, the extension at 0.4.
-- (Each DDL command of the 0.5.2 -> 0.6 step is failed in turn by
-- upgrade_atomicity.)
--
CREATE DATABASE vmm_t_upgrade_04_atomic;
\c vmm_t_upgrade_04_atomic
\set SHOW_CONTEXT never
CREATE ROLE regress_vmm04a_owner;
CREATE ROLE regress_vmm04a_dovecot;
CREATE ROLE regress_vmm04a_postfix;
CREATE SCHEMA mail AUTHORIZATION regress_vmm04a_owner;
SET vmm_upgrade.schema = mail;
SET vmm_upgrade.dovecot_role = regress_vmm04a_dovecot;
SET vmm_upgrade.postfix_role = regress_vmm04a_postfix;
\set ECHO none
SET ROLE regress_vmm04a_owner;
\set schema mail
\set form release
\i test/fixtures/vmm-0.4.sql
\set users 30
\i test/fixtures/generate-0.4.sql
RESET ROLE;
\i test/include/snapshot.sql
\set ECHO all
GRANT SELECT ON mail.dovecot_user TO regress_vmm04a_dovecot;
GRANT SELECT ON mail.postfix_maildir, mail.postfix_alias TO regress_vmm04a_postfix;
SET vmm_upgrade.dovecot_version = '2.3.19';
CREATE EXTENSION vmm_upgrade VERSION '0.4';
\set ECHO none
\i test/include/fail_each.sql
\set ECHO all
-- 1. The update to 0.5.2, failed at each of its DDL commands.
SET client_min_messages = error;
SELECT commands > 150 AS many_commands, failed = commands AS all_failed, unchanged = commands AS all_unchanged
  FROM t.fail_each('ALTER EXTENSION vmm_upgrade UPDATE TO ''0.5.2''', 'mail');
RESET client_min_messages;
-- 2. The whole way in one command, failing in its second step.  The
-- commands of the first step are counted by a run of it alone (the last of
-- them, the ALTER EXTENSION, ends the chain only), those of both by a run
-- of the chain; each run is undone.  The planted failure says which step
-- it struck (PostgreSQL records the version a script brings before it runs
-- the script): the step to 0.6 is the second.
DROP EVENT TRIGGER t_fail_at_nth;
CREATE FUNCTION t.fail_chain_nth() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE
	n integer := coalesce(nullif(current_setting('t.ddl', true), ''), '0')::integer + 1;
BEGIN
	PERFORM set_config('t.ddl', n::text, false);
	IF n = coalesce(nullif(current_setting('t.fail_at', true), ''), '0')::integer THEN
		RAISE EXCEPTION 'planted failure at DDL command % (%), in the step to %', n, tg_tag,
			(SELECT split_part(extversion, '+', 1) FROM pg_extension WHERE extname = 'vmm_upgrade');
	END IF;
END $$;
CREATE EVENT TRIGGER t_fail_chain ON ddl_command_end EXECUTE FUNCTION t.fail_chain_nth();
CREATE FUNCTION t.count_ddl(step text) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    BEGIN
        PERFORM set_config('t.fail_at', '0', false), set_config('t.ddl', '0', false);
        SET LOCAL client_min_messages = error;
        EXECUTE step;
        n := current_setting('t.ddl')::integer;
        RAISE EXCEPTION 'undo' USING ERRCODE = 'VT002';
    EXCEPTION WHEN SQLSTATE 'VT002' THEN NULL;
    END;
    RETURN n;
END $$;
SELECT t.count_ddl('ALTER EXTENSION vmm_upgrade UPDATE TO ''0.5.2''') AS first_step,
       t.count_ddl('ALTER EXTENSION vmm_upgrade UPDATE') AS chain \gset
SELECT :chain > :first_step + 100 AS second_step_has_many_commands;
SELECT t.snapshot('mail') AS before,
       (SELECT md5(string_agg(h::text, E'\n' ORDER BY h.id)) FROM vmm_upgrade.history h) AS history \gset
CREATE TABLE t.chain (point text, message text, mail_unchanged boolean, history_unchanged boolean,
                      version text);
-- one failure, and what it left
CREATE FUNCTION t.fail_chain_at(point text, n integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    msg text := 'no failure';
BEGIN
    BEGIN
        PERFORM set_config('t.fail_at', n::text, false), set_config('t.ddl', '0', false);
        SET LOCAL client_min_messages = error;
        ALTER EXTENSION vmm_upgrade UPDATE;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
    END;
    PERFORM set_config('t.fail_at', '0', false);
    INSERT INTO t.chain
    SELECT point, msg, t.snapshot('mail') = current_setting('t.before'),
           (SELECT md5(string_agg(h::text, E'\n' ORDER BY h.id)) FROM vmm_upgrade.history h)
               = current_setting('t.history'),
           (SELECT split_part(extversion, '+', 1) FROM pg_extension WHERE extname = 'vmm_upgrade');
END $$;
SET t.before = :'before';
SET t.history = :'history';
SELECT t.fail_chain_at('first DDL command of the second step', :first_step),
       t.fail_chain_at('a middle one', (:first_step + :chain) / 2),
       t.fail_chain_at('its last', :chain - 1),
       t.fail_chain_at('the ALTER EXTENSION', :chain);
DROP EVENT TRIGGER t_fail_chain;
-- The data pass over users (a CHECK constraint of the DBA's, which the
-- new users carries and checks as the owner), and the history.
CREATE FUNCTION t.users_open(text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('t.users_closed', true) = 'on' THEN
        RAISE EXCEPTION 'users is read-only today';
    END IF;
    RETURN true;
END $$;
GRANT USAGE ON SCHEMA t TO PUBLIC;
ALTER TABLE mail.users ADD CONSTRAINT t_users_open CHECK (t.users_open(local_part));
SELECT t.snapshot('mail') AS before_trigger \gset
SET t.before = :'before_trigger';
SET t.users_closed = on;
SELECT t.fail_chain_at('the data pass over users', 0);
RESET t.users_closed;
ALTER TABLE mail.users DROP CONSTRAINT t_users_open;
REVOKE USAGE ON SCHEMA t FROM PUBLIC;
CREATE FUNCTION t.no_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.to_version = '0.6' THEN
        RAISE EXCEPTION 'history is full';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER t_no_history BEFORE INSERT ON vmm_upgrade.history FOR EACH ROW EXECUTE FUNCTION t.no_history();
SET t.before = :'before';
SELECT t.fail_chain_at('the history of the second step', 0);
DROP TRIGGER t_no_history ON vmm_upgrade.history;
SELECT point, regexp_replace(message, 'command [0-9]+ \([A-Z ]+\)', 'command N') AS message,
       mail_unchanged, history_unchanged, version
  FROM t.chain;
-- Still exact 0.4; with the obstacles gone the whole way goes through.
SELECT * FROM vmm_upgrade.detect_layout();
SET client_min_messages = error;
ALTER EXTENSION vmm_upgrade UPDATE;
RESET client_min_messages;
SELECT * FROM vmm_upgrade.detect_layout();
SELECT count(*) AS deviations FROM vmm_upgrade.check_layout('0.6', '1.2');
\c contrib_regression
DROP DATABASE vmm_t_upgrade_04_atomic;
DROP ROLE regress_vmm04a_owner;
DROP ROLE regress_vmm04a_dovecot;
DROP ROLE regress_vmm04a_postfix;
