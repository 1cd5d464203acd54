--
-- Atomicity of ALTER EXTENSION vmm_upgrade UPDATE (0.5.2 -> 0.6): whatever
-- step fails, the structure and every row of the mail schema, and the
-- extension, are exactly as before.
--   * an event trigger makes the Nth DDL command fail, for every N from the
--     first command of the update to the ALTER EXTENSION itself;
--   * a trigger of the DBA's makes the one data pass over users fail;
--   * a trigger on the history table makes the recording step fail;
--   * an index of the DBA's holds a name the upgrade needs (not a layout
--     deviation, so preflight lets it through and the upgrade trips on it).
--
CREATE DATABASE vmm_t_upgrade_atomic;
\c vmm_t_upgrade_atomic
\set SHOW_CONTEXT never
CREATE ROLE regress_vmm_atomic_dovecot;
CREATE ROLE regress_vmm_atomic_postfix;
SET vmm_upgrade.dovecot_role = regress_vmm_atomic_dovecot;
SET vmm_upgrade.postfix_role = regress_vmm_atomic_postfix;
\set ECHO none
\set schema public
\set dovecot 1.1
\set lookups true
\i test/fixtures/vmm-0.5.2.sql
\set users 200
\i test/fixtures/generate-0.5.2.sql
\i test/include/snapshot.sql
\set ECHO all
SET vmm_upgrade.dovecot_version = '2.2.36';
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
-- The extension's state: its version and its history rows (the history's
-- id sequence may advance: sequences are not transactional).
CREATE FUNCTION t.extension_state() RETURNS text LANGUAGE sql AS $$
    SELECT (SELECT extversion FROM pg_extension WHERE extname = 'vmm_upgrade') || ' '
           || (SELECT md5(coalesce(string_agg(h::text, E'\n' ORDER BY h.id), '')) FROM vmm_upgrade.history h)
$$;
SELECT t.snapshot('public') AS before, t.extension_state() AS before_ext \gset
-- The update failed at each of its DDL commands in turn, from the first
-- command of the update script to the ALTER EXTENSION itself, each attempt
-- in a subtransaction of its own (test/include/fail_each.sql).
\set ECHO none
\i test/include/fail_each.sql
\set ECHO all
SET client_min_messages = error;
SELECT commands AS ddl_commands, failed, unchanged
  FROM t.fail_each('ALTER EXTENSION vmm_upgrade UPDATE', 'public') \gset
RESET client_min_messages;
SELECT :ddl_commands AS ddl_commands, :failed = :ddl_commands AS all_failed_as_injected,
       :unchanged = :ddl_commands AS all_unchanged;
-- Each attempt failed where injected, and left everything as it was.
SELECT count(*) = :ddl_commands AS every_command_tried,
       count(*) FILTER (WHERE message = format('planted failure at DDL command %s (%s)', n, command)) = :ddl_commands
           AS all_failed_as_injected,
       bool_and(schema_unchanged) AS mail_unchanged,
       bool_and(history_unchanged) AS history_unchanged,
       string_agg(DISTINCT version, ',') AS version
  FROM t.fail_each_log;
-- The commands the failures hit, by kind.
SELECT command, count(*) FROM t.fail_each_log GROUP BY 1 ORDER BY 1;
-- Two failures as a DBA would meet them: at the first DDL command, and at
-- the last one (the ALTER EXTENSION itself, after the whole script).
SET t.ddl = 0;
SET t.fail_at = 1;
ALTER EXTENSION vmm_upgrade UPDATE;
SELECT t.snapshot('public') = :'before' AS mail_unchanged,
       t.extension_state() = :'before_ext' AS extension_unchanged;
SET t.ddl = 0;
SET t.fail_at = :ddl_commands;
ALTER EXTENSION vmm_upgrade UPDATE;
SELECT t.snapshot('public') = :'before' AS mail_unchanged,
       t.extension_state() = :'before_ext' AS extension_unchanged;
SET t.fail_at = 0;
DROP EVENT TRIGGER t_fail_at_nth;
-- The one data pass over users fails (a CHECK constraint of the DBA's,
-- which the new users carries and checks as the owner).
CREATE FUNCTION t.users_open(text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('t.users_closed', true) = 'on' THEN
        RAISE EXCEPTION 'users is read-only today';
    END IF;
    RETURN true;
END
$$;
GRANT USAGE ON SCHEMA t TO PUBLIC;
ALTER TABLE public.users ADD CONSTRAINT t_users_open CHECK (t.users_open(local_part));
SELECT t.snapshot('public') AS before \gset
SET t.users_closed = on;
ALTER EXTENSION vmm_upgrade UPDATE;
RESET t.users_closed;
SELECT t.snapshot('public') = :'before' AS mail_unchanged,
       t.extension_state() = :'before_ext' AS extension_unchanged;
ALTER TABLE public.users DROP CONSTRAINT t_users_open;
REVOKE USAGE ON SCHEMA t FROM PUBLIC;
-- The recording step fails.
CREATE FUNCTION t.no_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'history is full';
END
$$;
CREATE TRIGGER t_no_history BEFORE INSERT ON vmm_upgrade.history FOR EACH ROW EXECUTE FUNCTION t.no_history();
SELECT t.snapshot('public') AS before, t.extension_state() AS before_ext \gset
ALTER EXTENSION vmm_upgrade UPDATE;
SELECT t.snapshot('public') = :'before' AS mail_unchanged,
       t.extension_state() = :'before_ext' AS extension_unchanged;
DROP TRIGGER t_no_history ON vmm_upgrade.history;
-- An index of the DBA's named like a constraint the upgrade creates.
CREATE INDEX pkey_service_set ON public.users (name);
SELECT count(*) AS deviations FROM vmm_upgrade.check_layout('0.5.2');
SELECT t.snapshot('public') AS before, t.extension_state() AS before_ext \gset
ALTER EXTENSION vmm_upgrade UPDATE;
SELECT t.snapshot('public') = :'before' AS mail_unchanged,
       t.extension_state() = :'before_ext' AS extension_unchanged,
       (SELECT split_part(extversion, '+', 1) FROM pg_extension WHERE extname = 'vmm_upgrade') AS version;
DROP INDEX public.pkey_service_set;
-- With the obstacles gone, the update goes through.
SET client_min_messages = error;
ALTER EXTENSION vmm_upgrade UPDATE;
RESET client_min_messages;
SELECT * FROM vmm_upgrade.detect_layout();
SELECT count(*) AS deviations FROM vmm_upgrade.check_layout('0.6', '1.2');
\c postgres
DROP DATABASE vmm_t_upgrade_atomic;
DROP ROLE regress_vmm_atomic_dovecot;
DROP ROLE regress_vmm_atomic_postfix;
