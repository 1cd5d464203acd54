--
-- What the update refuses before it changes anything: rules and row-level
-- security on the mail tables, logical replication of them, and code of
-- other roles on tables a superuser owns.  Each refusal names what it found
-- and leaves the schema as it was (t.snapshot).  Then the small wrong
-- answers: a % in the schema name, a temporary table named users, Dovecot
-- versions as "dovecot --version" prints them, too long a schema name, and
-- alias destinations with %n, %d or %=.
--
CREATE DATABASE vmm_t_security_preflight;
\c vmm_t_security_preflight
\set SHOW_CONTEXT never
\set ECHO none
\i test/include/snapshot.sql
\set schema mail
\set dovecot 1.2
\set lookups false
\i test/fixtures/vmm-0.5.2.sql
\set users 40
\i test/fixtures/generate-0.5.2.sql
\set ECHO all
SET vmm_upgrade.schema = mail;
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
-- 1. A rule on users.
CREATE TABLE mail.audit (uid bigint);
CREATE RULE audit_users AS ON UPDATE TO mail.users DO ALSO INSERT INTO mail.audit VALUES (NEW.uid);
SELECT t.snapshot('mail') AS before \gset
ALTER EXTENSION vmm_upgrade UPDATE;
SELECT t.snapshot('mail') = :'before' AS unchanged;
DROP RULE audit_users ON mail.users;
-- 2. Row-level security on users, with a policy.
ALTER TABLE mail.users ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON mail.users USING (uid > 70010);
SELECT t.snapshot('mail') AS before \gset
ALTER EXTENSION vmm_upgrade UPDATE;
SELECT t.snapshot('mail') = :'before' AS unchanged;
DROP POLICY own_rows ON mail.users;
ALTER TABLE mail.users DISABLE ROW LEVEL SECURITY;
-- 3. A publication of the mail tables.
SET client_min_messages = error;
CREATE PUBLICATION mailpub FOR TABLE mail.users, mail.alias;
RESET client_min_messages;
SELECT t.snapshot('mail') AS before \gset
ALTER EXTENSION vmm_upgrade UPDATE;
SELECT t.snapshot('mail') = :'before' AS unchanged;
DROP PUBLICATION mailpub;
-- 4. Tables owned by a superuser, with a trigger of another role's: it would
--    run with superuser rights.
CREATE ROLE regress_vmm_pre_other;
GRANT USAGE ON SCHEMA mail TO regress_vmm_pre_other;
GRANT TRIGGER ON mail.users TO regress_vmm_pre_other;
GRANT CREATE ON SCHEMA mail TO regress_vmm_pre_other;
SET ROLE regress_vmm_pre_other;
CREATE FUNCTION mail.other_trigger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER other_trigger BEFORE UPDATE ON mail.users FOR EACH ROW EXECUTE FUNCTION mail.other_trigger();
RESET ROLE;
SELECT t.snapshot('mail') AS before \gset
ALTER EXTENSION vmm_upgrade UPDATE;
SELECT t.snapshot('mail') = :'before' AS unchanged;
DROP TRIGGER other_trigger ON mail.users;
DROP FUNCTION mail.other_trigger();
REVOKE ALL ON mail.users FROM regress_vmm_pre_other;
REVOKE ALL ON SCHEMA mail FROM regress_vmm_pre_other;
DROP TABLE mail.audit;
-- The extension is still at 0.5.2, with only its adoption in the history.
SELECT (SELECT split_part(extversion, '+', 1) FROM pg_extension WHERE extname = 'vmm_upgrade') AS version,
       (SELECT count(*) FROM vmm_upgrade.history) AS history_rows;
-- 5. A temporary table named users in the DBA's session is not the mail
--    schema's: the layout is still exact.
CREATE TEMP TABLE users (x integer);
SELECT * FROM vmm_upgrade.check_layout('0.5.2');
SELECT version FROM vmm_upgrade.detect_layout();
DROP TABLE pg_temp.users;
-- 6. require_layout without a context.
SELECT vmm_upgrade.require_layout('0.6', NULL, 'mail', NULL);
-- 7. Dovecot versions.  What "dovecot --version" prints counts by its first
--    word; a huge number is still a version; in a fresh session (the value
--    set before the library is loaded) an invalid one stops the update.
SELECT vmm_upgrade._dovecot_variant('2.3.19.1 (9b53102964)') AS debian12,
       vmm_upgrade._dovecot_variant('1.1.20') AS old,
       vmm_upgrade._dovecot_variant('1.10.0') AS one_ten,
       vmm_upgrade._dovecot_variant('99999999999999.1') AS huge;
SET vmm_upgrade.dovecot_version = '2.3.19.1 (9b53102964)';
SHOW vmm_upgrade.dovecot_version;
RESET vmm_upgrade.dovecot_version;
\c vmm_t_security_preflight
\set SHOW_CONTEXT never
SET vmm_upgrade.dovecot_version = 'latest';
SET vmm_upgrade.schema = mail;
SELECT t.snapshot('mail') AS before \gset
ALTER EXTENSION vmm_upgrade UPDATE;
SELECT t.snapshot('mail') = :'before' AS unchanged;
RESET vmm_upgrade.dovecot_version;
-- 8. A schema name longer than PostgreSQL keeps: set before the library is
--    loaded (a fresh session) it is taken as it is, and the update refuses it
--    instead of working on a truncated name or on public; set afterwards, it
--    is refused at once.
\c vmm_t_security_preflight
\set SHOW_CONTEXT never
SET vmm_upgrade.schema = 'a_schema_name_that_is_longer_than_the_sixty_three_bytes_postgres_keeps';
ALTER EXTENSION vmm_upgrade UPDATE;
SELECT split_part(extversion, '+', 1) AS extversion FROM pg_extension WHERE extname = 'vmm_upgrade';
RESET vmm_upgrade.schema;
SET vmm_upgrade.schema = 'a_schema_name_that_is_longer_than_the_sixty_three_bytes_postgres_keeps';
SET vmm_upgrade.schema = mail;
-- 9. The update: alias destinations with %n, %d or %= are named in a
--    WARNING and counted in the history.
INSERT INTO mail.alias (gid, address, destination)
SELECT gid, 'percent', 'box+%n@example.com' FROM mail.domain_name WHERE is_primary ORDER BY gid LIMIT 1;
SET client_min_messages = warning;
SET vmm_upgrade.dovecot_role = regress_vmm_pre_none;
SET vmm_upgrade.postfix_role = regress_vmm_pre_none2;
ALTER EXTENSION vmm_upgrade UPDATE;
RESET client_min_messages;
SELECT details->'aliases_with_placeholders' AS n, details->'aliases_with_placeholders_first' AS first
  FROM vmm_upgrade.history WHERE to_version = '0.6';
-- 10. A % in the schema name is written %% in the queries of the WARNING
--     (Postfix and Dovecot would expand it).
CREATE SCHEMA "50%off";
SET vmm_upgrade.schema = '50%off';
SELECT vmm_upgrade._warn_next_steps('50%off');
\c contrib_regression
DROP DATABASE vmm_t_security_preflight;
DROP ROLE regress_vmm_pre_other;
