--
-- vmm 0.4 as a DBA meets it: CREATE EXTENSION vmm_upgrade VERSION '0.4'
-- adopts either form and every other version refuses it with the line to
-- type; the update to 0.5.2 refuses what it cannot carry, changing nothing;
-- then the update itself, in a mail schema other than public whose tables
-- belong to a role of their own (vmm 0.4 as released, taken to the Dovecot
-- >= 1.2 variant): the result, the history, the hand-over, the privileges,
-- the primary-name trigger; then on to 0.6.  Last, a 0.4-r41 database goes
-- all the way to 0.6 in one command.
--
CREATE DATABASE vmm_t_upgrade_04;
\c vmm_t_upgrade_04
\set SHOW_CONTEXT never
CREATE ROLE regress_vmm04_owner;
CREATE ROLE regress_vmm04_dovecot;
CREATE ROLE regress_vmm04_postfix;
CREATE ROLE regress_vmm04_reports;
CREATE SCHEMA mail AUTHORIZATION regress_vmm04_owner;
GRANT CREATE ON DATABASE vmm_t_upgrade_04 TO regress_vmm04_owner;
\set ECHO none
SET ROLE regress_vmm04_owner;
\set schema mail
\set form release
\i test/fixtures/vmm-0.4.sql
\set users 300
\i test/fixtures/generate-0.4.sql
RESET ROLE;
\set schema r41
\set form r41
\i test/fixtures/vmm-0.4.sql
\set users 100
\i test/fixtures/generate-0.4.sql
\set schema other052
\set dovecot 1.1
\set lookups false
\i test/fixtures/vmm-0.5.2.sql
\i test/include/snapshot.sql
\set ECHO all
CREATE SCHEMA empty;
-- What a vmm 0.4 installation granted (its INSTALL notes; vmm 0.4 as
-- released has no dovecot_password), and a DBA's reporting role.
GRANT SELECT ON mail.dovecot_user TO regress_vmm04_dovecot;
GRANT SELECT ON mail.postfix_alias, mail.postfix_gid, mail.postfix_maildir, mail.postfix_relocated,
                mail.postfix_transport, mail.postfix_uid TO regress_vmm04_postfix;
GRANT SELECT ON mail.vmm_domain_info, mail.vmm_alias_count TO regress_vmm04_reports;
SELECT t.snapshot('mail') AS before, t.snapshot('r41') AS before_r41 \gset
-- Every other version refuses a 0.4 layout and says what to type.
SET vmm_upgrade.schema = mail;
CREATE EXTENSION vmm_upgrade;
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
CREATE EXTENSION vmm_upgrade VERSION '0.6.0';
-- Version 0.4 refuses other layouts, and a schema without vmm objects.
SET vmm_upgrade.schema = other052;
CREATE EXTENSION vmm_upgrade VERSION '0.4';
SET vmm_upgrade.schema = empty;
CREATE EXTENSION vmm_upgrade VERSION '0.4';
-- Version 0.4 adopts the 0.4 layout, and the history says which form.
SET vmm_upgrade.schema = mail;
CREATE EXTENSION vmm_upgrade VERSION '0.4';
SELECT split_part(extversion, '+', 1) AS extversion FROM pg_extension WHERE extname = 'vmm_upgrade';
SELECT mail_schema, from_version, to_version, from_dovecot, to_dovecot, details FROM vmm_upgrade.history;
SELECT d.* FROM unnest(ARRAY['mail', 'r41']::name[]) AS s, vmm_upgrade.detect_layout(s) AS d;
SELECT s AS schema,
       (SELECT count(*) FROM vmm_upgrade.check_layout('0.4-release', NULL, s)) AS "0.4-release",
       (SELECT count(*) FROM vmm_upgrade.check_layout('0.4-r41', NULL, s)) AS "0.4-r41"
  FROM unnest(ARRAY['mail', 'r41']::name[]) AS s;
-- Refusal: a 0.4 layout half repaired by hand (smpt renamed, but no
-- dovecot_password view) is neither form.
BEGIN;
ALTER TABLE mail.users RENAME COLUMN smpt TO smtp;
ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
ROLLBACK;
-- Refusal: alias addresses longer than 0.5.2 keeps, named.
BEGIN;
INSERT INTO mail.alias (gid, address, destination)
SELECT gid, rpad('a-long-alias-', 65, 'x'), 'someone@example.com' FROM mail.domains WHERE domainname = 'alder.de'
UNION ALL
SELECT gid, rpad('an-even-longer-alias-', 100, 'y'), 'other@example.com' FROM mail.domains WHERE domainname = 'brookside.com';
ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
ROLLBACK;
-- Refusal: objects of the DBA's on what the step drops or retypes: a view
-- on the 0.4 views, a view on alias.address, a table referring to domains.
BEGIN;
CREATE VIEW mail.domain_report AS SELECT domainname, accounts FROM mail.vmm_domain_info;
CREATE VIEW mail.alias_report AS SELECT gid, address FROM mail.alias;
CREATE TABLE mail.billing (gid bigint REFERENCES mail.domains (gid), plan text);
ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
ROLLBACK;
-- ... while a view on alias that does not read address is no obstacle
-- (and survives the step).
BEGIN;
CREATE VIEW mail.alias_destinations AS SELECT gid, destination FROM mail.alias;
SET LOCAL client_min_messages = error;
ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
SELECT count(*) > 0 AS still_answers FROM mail.alias_destinations;
ROLLBACK;
-- Refusal: rules on the mail tables.
BEGIN;
CREATE RULE alias_log AS ON UPDATE TO mail.alias DO ALSO NOTIFY alias_changed;
ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
ROLLBACK;
-- Refusal: an object of the DBA's with a name the step needs for one of
-- its own (no layout deviation, so the step trips over it).
BEGIN;
CREATE INDEX pkey_domain_data ON mail.users (name);
ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
ROLLBACK;
-- None of that changed anything.
SELECT t.snapshot('mail') = :'before' AS unchanged,
       (SELECT split_part(extversion, '+', 1) FROM pg_extension WHERE extname = 'vmm_upgrade') AS extversion,
       (SELECT count(*) FROM vmm_upgrade.history) AS history_rows;
-- The update to 0.5.2, straight to the Dovecot >= 1.2 variant because
-- Dovecot 2.3 will read the database, with the roles Dovecot and Postfix
-- use.
SET vmm_upgrade.dovecot_version = '2.3.19';
SET vmm_upgrade.dovecot_role = regress_vmm04_dovecot;
SET vmm_upgrade.postfix_role = regress_vmm04_postfix;
SELECT count(*) AS domains, count(*) FILTER (WHERE tid <> 1) AS own_transport FROM mail.domains;
CREATE TABLE t.domains_before AS SELECT * FROM mail.domains;
CREATE TABLE t.users_before AS SELECT * FROM mail.users;
CREATE TABLE t.alias_before AS SELECT * FROM mail.alias;
ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
SELECT split_part(extversion, '+', 1) AS extversion FROM pg_extension WHERE extname = 'vmm_upgrade';
SELECT * FROM vmm_upgrade.detect_layout();
SELECT count(*) AS deviations FROM vmm_upgrade.check_layout('0.5.2', '1.2');
SELECT from_version, to_version, from_dovecot, to_dovecot, users_changed, domains_changed,
       performed_by = session_user AS by_me, duration >= '0'::interval AS timed,
       details - 'granted' - 'view_privileges_not_carried' AS details,
       details -> 'granted' AS granted
  FROM vmm_upgrade.history ORDER BY id;
-- The data: every domain kept its gid, transport and directory and has its
-- name as its one primary name; accounts and aliases are as they were
-- (the flags under their 0.5.2 names).
SELECT (SELECT count(*) FROM t.domains_before) AS domains,
       (SELECT count(*) FROM t.domains_before b JOIN mail.domain_data d USING (gid)
         WHERE (d.tid, d.domaindir) = (b.tid, b.domaindir)) AS same_data,
       (SELECT count(*) FROM t.domains_before b JOIN mail.domain_name n USING (gid)
         WHERE n.domainname = b.domainname AND n.is_primary) AS same_primary_name,
       (SELECT count(*) FROM mail.domain_name) AS names;
SELECT (SELECT count(*) FROM t.users_before) AS users,
       (SELECT count(*) FROM t.users_before b JOIN mail.users u USING (uid)
         WHERE (u.local_part, u.passwd, u.name, u.gid, u.mid, u.tid, u.smtp, u.pop3, u.imap, u.sieve)
               IS NOT DISTINCT FROM (b.local_part, b.passwd, b.name, b.gid, b.mid, b.tid, b.smpt, b.pop3, b.imap, b.managesieve)) AS same,
       (SELECT count(*) FROM t.alias_before) AS aliases,
       (SELECT count(*) FROM (SELECT gid, address::text, destination FROM t.alias_before
                              INTERSECT SELECT gid, address::text, destination FROM mail.alias) AS a) AS same_aliases;
SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'mail' ORDER BY 1;
-- Every object in the mail schema belongs to the owner of users, and none
-- belongs to the extension (pg_dump keeps them, DROP EXTENSION leaves them).
SELECT kind, count(*) AS objects, owner
  FROM (SELECT 'relation ' || relkind::text AS kind, relowner::regrole::text AS owner FROM pg_class
         WHERE relnamespace = 'mail'::regnamespace
        UNION ALL
        SELECT 'function', proowner::regrole::text FROM pg_proc WHERE pronamespace = 'mail'::regnamespace) AS o
 GROUP BY kind, owner ORDER BY kind;
SELECT count(*) AS extension_members_in_mail
  FROM pg_depend d
  JOIN pg_extension e ON e.oid = d.refobjid AND d.refclassid = 'pg_extension'::regclass
 WHERE e.extname = 'vmm_upgrade' AND d.deptype = 'e'
   AND pg_describe_object(d.classid, d.objid, 0) ~ '\mmail\.';
-- The privileges: SELECT on the views, for the two roles, nothing more.
SELECT c.relname, a.grantee::regrole AS grantee, string_agg(a.privilege_type, ', ') AS privileges
  FROM pg_class c, aclexplode(c.relacl) a
 WHERE c.relnamespace = 'mail'::regnamespace AND a.grantee <> c.relowner
 GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(*) AS column_privileges
  FROM pg_class c JOIN pg_attribute att ON att.attrelid = c.oid
 WHERE c.relnamespace = 'mail'::regnamespace AND att.attacl IS NOT NULL;
-- Postfix and Dovecot read what they read before, and Postfix no password.
SET ROLE regress_vmm04_postfix;
SELECT count(*) AS postfix_maildirs FROM mail.postfix_maildir;
SELECT address, destination FROM mail.postfix_alias WHERE address = 'postmaster@alder.de';
SELECT "user" FROM mail.dovecot_password LIMIT 1;
RESET ROLE;
SET ROLE regress_vmm04_dovecot;
SELECT count(*) AS dovecot_passwords, count(*) FILTER (WHERE NOT smtp) AS without_smtp,
       count(*) FILTER (WHERE NOT sieve) AS without_sieve
  FROM mail.dovecot_password;
RESET ROLE;
-- The primary-name trigger of 0.5.2: an alias domain may be added, a
-- second primary name may not; new domains take their gid from domain_gid.
SET ROLE regress_vmm04_owner;
INSERT INTO mail.domain_name (domainname, gid, is_primary)
SELECT 'alder-online.de', gid, false FROM mail.domain_name WHERE domainname = 'alder.de';
INSERT INTO mail.domain_name (domainname, gid, is_primary)
SELECT 'alder.example', gid, true FROM mail.domain_name WHERE domainname = 'alder.de';
UPDATE mail.domain_name SET is_primary = true WHERE domainname = 'alder-online.de';
INSERT INTO mail.domain_data (domaindir) VALUES ('/srv/mail/x/new') RETURNING gid;
SELECT count(*) AS alias_domain_addresses FROM mail.postfix_uid WHERE address LIKE '%@alder-online.de';
RESET ROLE;
-- On to 0.6 (its WARNINGs are shown in upgrade_update).
SET client_min_messages = error;
ALTER EXTENSION vmm_upgrade UPDATE;
RESET client_min_messages;
SELECT split_part(extversion, '+', 1) AS extversion FROM pg_extension WHERE extname = 'vmm_upgrade';
SELECT * FROM vmm_upgrade.detect_layout();
SELECT from_version, to_version, from_dovecot, to_dovecot, users_changed, domains_changed
  FROM vmm_upgrade.history ORDER BY id;
-- A 0.4-r41 database, all the way in one command: PostgreSQL chains the
-- update scripts 0.4 -> 0.5.2 -> 0.6 in one transaction.
DROP EXTENSION vmm_upgrade;
SELECT regexp_replace(path, '\+[0-9.]+$', '+RELEASE') AS path FROM pg_extension_update_paths('vmm_upgrade')
 WHERE source = '0.4' AND target = (SELECT default_version FROM pg_available_extensions WHERE name = 'vmm_upgrade');
SET vmm_upgrade.schema = r41;
RESET vmm_upgrade.dovecot_version;
CREATE EXTENSION vmm_upgrade VERSION '0.4';
ALTER EXTENSION vmm_upgrade UPDATE;
SELECT * FROM vmm_upgrade.detect_layout();
SELECT count(*) AS deviations FROM vmm_upgrade.check_layout('0.6', '1.1');
SELECT from_version, to_version, from_dovecot, to_dovecot, users_changed, domains_changed,
       details->>'form' AS form
  FROM vmm_upgrade.history WHERE mail_schema = 'r41' ORDER BY id;
\c contrib_regression
DROP DATABASE vmm_t_upgrade_04;
DROP ROLE regress_vmm04_owner;
DROP ROLE regress_vmm04_dovecot;
DROP ROLE regress_vmm04_postfix;
DROP ROLE regress_vmm04_reports;
