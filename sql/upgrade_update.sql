--
-- ALTER EXTENSION vmm_upgrade UPDATE (0.5.2 -> 0.6) as a DBA runs it: the
-- refusals that change nothing, then the update itself, in a mail schema
-- other than public whose tables belong to a role of their own.  Checks the
-- result, the history row, the hand-over of every new object to the owner
-- of users, and the privileges of the Dovecot and Postfix roles.
--
CREATE DATABASE vmm_t_upgrade;
\c vmm_t_upgrade
\set SHOW_CONTEXT never
CREATE ROLE regress_vmm_owner;
CREATE ROLE regress_vmm_dovecot;
CREATE ROLE regress_vmm_postfix;
CREATE SCHEMA mail AUTHORIZATION regress_vmm_owner;
GRANT CREATE ON DATABASE vmm_t_upgrade TO regress_vmm_owner;
SET vmm_upgrade.schema = mail;
\set ECHO none
SET ROLE regress_vmm_owner;
\set schema mail
\set dovecot 1.1
\set lookups true
\i test/fixtures/vmm-0.5.2.sql
\set users 300
\i test/fixtures/generate-0.5.2.sql
RESET ROLE;
\set schema other06
\set dovecot 1.2
\i test/fixtures/vmm-0.6.sql
\set schema other12
\set lookups false
\i test/fixtures/vmm-0.5.2.sql
\i test/include/snapshot.sql
\set ECHO all
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
SELECT t.snapshot('mail') AS before \gset
-- Refusal: the layout is not exactly 0.5.2 (a renamed column).
BEGIN;
ALTER TABLE mail.transport RENAME COLUMN transport TO name;
ALTER EXTENSION vmm_upgrade UPDATE;
ROLLBACK;
-- Refusal: a half-applied upgrade (what vmm's script leaves when it stops
-- midway: service_set created and filled, users still with their flags).
BEGIN;
CREATE TABLE mail.service_set (ssid bigint PRIMARY KEY, smtp boolean, pop3 boolean, imap boolean, managesieve boolean);
INSERT INTO mail.service_set VALUES (1, true, true, true, true);
ALTER EXTENSION vmm_upgrade UPDATE;
ROLLBACK;
-- Refusal: the schema named by vmm_upgrade.schema holds 0.6 already.
BEGIN;
SET LOCAL vmm_upgrade.schema = other06;
ALTER EXTENSION vmm_upgrade UPDATE;
ROLLBACK;
-- Refusal: a Dovecot version that is not one, and going back from the 1.2
-- variant to 1.1.
SET vmm_upgrade.dovecot_version = 'latest';
BEGIN;
SET LOCAL vmm_upgrade.schema = other12;
SET LOCAL vmm_upgrade.dovecot_version = '1.1.20';
ALTER EXTENSION vmm_upgrade UPDATE;
ROLLBACK;
-- Refusal: a conflicting object of the DBA's where 0.6 puts one of its own.
BEGIN;
CREATE TABLE mail.catchall (note text);
ALTER EXTENSION vmm_upgrade UPDATE;
ROLLBACK;
-- None of that changed anything.
SELECT t.snapshot('mail') = :'before' AS unchanged,
       (SELECT split_part(extversion, '+', 1) FROM pg_extension WHERE extname = 'vmm_upgrade') AS extversion;
-- The update: a Dovecot 1.1 database going straight to the 1.2 variant
-- because Dovecot 2.3 will read it, with the roles Dovecot and Postfix use.
SET vmm_upgrade.dovecot_version = '2.3.19';
SET vmm_upgrade.dovecot_role = regress_vmm_dovecot;
SET vmm_upgrade.postfix_role = regress_vmm_postfix;
SELECT now() AS update_began \gset
ALTER EXTENSION vmm_upgrade UPDATE;
SELECT split_part(extversion, '+', 1) AS extversion FROM pg_extension WHERE extname = 'vmm_upgrade';
SELECT * FROM vmm_upgrade.detect_layout();
SELECT count(*) AS deviations FROM vmm_upgrade.check_layout('0.6', '1.2');
-- The history: the adoption and the update.
SELECT from_version, to_version, from_dovecot, to_dovecot, users_changed, domains_changed,
       performed_by = session_user AS by_me, duration IS NOT NULL AS timed,
       started_at >= :'update_began' AND started_at + duration BETWEEN started_at AND now() AS during_update,
       details - 'granted' AS details, details -> 'granted' AS granted
  FROM vmm_upgrade.history ORDER BY id;
-- The data: every user's services as a service set, inherited transports.
SELECT ssid, smtp, pop3, imap, sieve FROM mail.service_set ORDER BY ssid;
SELECT count(*) AS users, count(ssid) AS with_ssid, count(tid) AS own_transport, count(qid) AS own_quota
  FROM mail.users;
SELECT mid, fid, directory, extra FROM mail.maillocation ORDER BY mid;
SELECT * FROM mail.mailboxformat ORDER BY fid;
SELECT * FROM mail.quotalimit;
SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'mail' ORDER BY 1;
-- Every object in the mail schema belongs to the owner of users, and none
-- belongs to the extension (pg_dump keeps them, DROP EXTENSION leaves them).
SELECT kind, count(*) AS objects, owner
  FROM (SELECT 'relation ' || relkind::text AS kind, relowner::regrole::text AS owner FROM pg_class
         WHERE relnamespace = 'mail'::regnamespace
        UNION ALL
        SELECT 'function', proowner::regrole::text FROM pg_proc WHERE pronamespace = 'mail'::regnamespace
        UNION ALL
        SELECT 'type ' || typtype::text, typowner::regrole::text FROM pg_type
         WHERE typnamespace = 'mail'::regnamespace AND typelem = 0 AND typrelid = 0
            OR typnamespace = 'mail'::regnamespace AND typtype = 'c') AS o
 GROUP BY kind, owner ORDER BY kind;
SELECT count(*) AS extension_members_in_mail
  FROM pg_depend d
  JOIN pg_extension e ON e.oid = d.refobjid AND d.refclassid = 'pg_extension'::regclass
 WHERE e.extname = 'vmm_upgrade' AND d.deptype = 'e'
   AND pg_describe_object(d.classid, d.objid, 0) ~ '\mmail\.';
-- The privileges, table by table and column by column.
CREATE FUNCTION t.privileges(role name) RETURNS TABLE (object text, privileges text)
LANGUAGE sql AS $$
    SELECT c.relname::text, string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type)
      FROM pg_class c, aclexplode(c.relacl) a
     WHERE c.relnamespace = 'mail'::regnamespace AND a.grantee = role::regrole
     GROUP BY c.relname
    UNION ALL
    SELECT c.relname || '(' || string_agg(DISTINCT att.attname, ', ' ORDER BY att.attname) || ')', a.privilege_type
      FROM pg_class c JOIN pg_attribute att ON att.attrelid = c.oid, aclexplode(att.attacl) a
     WHERE c.relnamespace = 'mail'::regnamespace AND a.grantee = role::regrole
     GROUP BY c.relname, a.privilege_type
    UNION ALL
    SELECT 'schema mail', string_agg(a.privilege_type, ', ')
      FROM pg_namespace n, aclexplode(n.nspacl) a
     WHERE n.nspname = 'mail' AND a.grantee = role::regrole
     ORDER BY 1
$$;
SELECT * FROM t.privileges('regress_vmm_dovecot');
SELECT * FROM t.privileges('regress_vmm_postfix');
SELECT has_column_privilege('regress_vmm_postfix', 'mail.users', 'passwd', 'SELECT') AS postfix_sees_passwd;
-- set_permissions: idempotent, and takes back what SPEC does not grant.
SELECT md5(string_agg(p::text, ',')) AS before_grants FROM (SELECT * FROM t.privileges('regress_vmm_dovecot')
  UNION ALL SELECT * FROM t.privileges('regress_vmm_postfix') ORDER BY 1, 2) p \gset
GRANT SELECT ON mail.users TO regress_vmm_postfix;
GRANT INSERT ON mail.alias TO regress_vmm_postfix;
SELECT count(*) AS statements FROM vmm_upgrade.set_permissions('regress_vmm_dovecot', 'regress_vmm_postfix');
SELECT count(*) AS statements FROM vmm_upgrade.set_permissions('regress_vmm_dovecot', 'regress_vmm_postfix');
SELECT md5(string_agg(p::text, ',')) = :'before_grants' AS same_grants FROM (SELECT * FROM t.privileges('regress_vmm_dovecot')
  UNION ALL SELECT * FROM t.privileges('regress_vmm_postfix') ORDER BY 1, 2) p;
SELECT has_column_privilege('regress_vmm_postfix', 'mail.users', 'passwd', 'SELECT') AS postfix_sees_passwd;
-- set_permissions: a role that does not exist, and NULL.
SELECT * FROM vmm_upgrade.set_permissions('dovecot_nonexistent', 'regress_vmm_postfix');
SELECT * FROM vmm_upgrade.set_permissions('regress_vmm_dovecot', 'postfix_nonexistent');
SELECT * FROM vmm_upgrade.set_permissions('regress_vmm_dovecot', NULL);
-- The statements it runs, with the role names quoted.
CREATE ROLE "Regress Vmm Dovecot";
SELECT * FROM vmm_upgrade.set_permissions('Regress Vmm Dovecot', 'regress_vmm_postfix');
-- The roles can read through the lookups and nothing more.
SET ROLE regress_vmm_postfix;
SELECT count(*) AS postfix_reads FROM mail.users u JOIN mail.domain_name n USING (gid),
       mail.postfix_virtual_mailbox_map(u.local_part, n.domainname);
SELECT passwd FROM mail.users LIMIT 1;
RESET ROLE;
SET ROLE regress_vmm_dovecot;
SELECT count(*) AS dovecot_reads FROM mail.users u JOIN mail.domain_name n USING (gid),
       mail.dovecotpassword(u.local_part, n.domainname);
SELECT transport FROM mail.transport LIMIT 1;
RESET ROLE;
-- A second update has nothing to do (PostgreSQL's NOTICE, which names the
-- release, is not shown).
SET client_min_messages = warning;
ALTER EXTENSION vmm_upgrade UPDATE;
RESET client_min_messages;
\c postgres
DROP DATABASE vmm_t_upgrade;
DROP ROLE regress_vmm_owner;
DROP ROLE regress_vmm_dovecot;
DROP ROLE regress_vmm_postfix;
DROP ROLE "Regress Vmm Dovecot";
