--
-- The privileges of Postfix and Dovecot as a security matter, for the update
-- (ALTER EXTENSION vmm_upgrade UPDATE) and for set_permissions():
--  1. Postfix must not read users.passwd by any way: a grant to PUBLIC (on
--     the table or the column), a grant to a group role Postfix is a member
--     of (inherited, or reached by SET ROLE), the Dovecot role, the owner,
--     a superuser, pg_read_all_data.  If it could, the command fails with
--     DETAIL naming the way and HINT giving the REVOKE, and nothing changes.
--  2. CREATE on the mail schema is taken from the client roles; PUBLIC's (or
--     a group's) is warned about, with the REVOKE to type.
--  3. The owner of the mail tables cannot be named as a client role; one
--     role for both services is allowed, with a WARNING (and the password
--     check of 1 is then not made: the WARNING replaces it).
--  4. The roles default to the settings vmm_upgrade.dovecot_role and
--     vmm_upgrade.postfix_role; HINTs name the configured roles; one WARNING
--     per missing role.
--
CREATE DATABASE vmm_t_security;
\c vmm_t_security
\set SHOW_CONTEXT never
CREATE ROLE regress_vmm_sec_owner;
CREATE ROLE regress_vmm_sec_dovecot;
CREATE ROLE regress_vmm_sec_postfix;
CREATE ROLE regress_vmm_sec_group;        -- a group role holding grants
CREATE ROLE regress_vmm_sec_subgroup;     -- a member of the group
CREATE ROLE regress_vmm_sec_maker;        -- a group role that may create objects
CREATE SCHEMA mail AUTHORIZATION regress_vmm_sec_owner;
GRANT CREATE ON DATABASE vmm_t_security TO regress_vmm_sec_owner;
\set ECHO none
SET ROLE regress_vmm_sec_owner;
\set schema mail
\set dovecot 1.2
\set lookups false
\i test/fixtures/vmm-0.5.2.sql
\set users 60
\i test/fixtures/generate-0.5.2.sql
RESET ROLE;
\set schema 'Mail Box'
\set release 0.6.2
\i test/fixtures/vmm-0.6.sql
\set schema m11
\set dovecot 1.1
\i test/fixtures/vmm-0.6.sql
\i test/include/snapshot.sql
\set ECHO all
-- Can role r read users.passwd of schema s by any way: itself, any role it
-- is a member of (inherited or by SET ROLE), PUBLIC; table or column level?
CREATE FUNCTION t.reads_passwd(s name, r name) RETURNS boolean LANGUAGE sql AS $$
    WITH RECURSIVE m(oid) AS (
        SELECT oid FROM pg_roles WHERE rolname = r
        UNION SELECT a.roleid FROM pg_auth_members a JOIN m ON a.member = m.oid)
    SELECT bool_or(has_column_privilege(m.oid, format('%I.users', s)::regclass, 'passwd', 'SELECT')
                   OR has_table_privilege(m.oid, format('%I.users', s)::regclass, 'SELECT'))
           OR has_column_privilege('public', format('%I.users', s)::regclass, 'passwd', 'SELECT')
           OR has_table_privilege('public', format('%I.users', s)::regclass, 'SELECT')
      FROM m
$$;
-- Who holds CREATE on schema s, by the ACL.
CREATE FUNCTION t.creators(s name) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(CASE WHEN e.grantee = 0 THEN 'PUBLIC' ELSE e.grantee::regrole::text END, ', '
                               ORDER BY 1), '')
      FROM pg_namespace n, aclexplode(n.nspacl) e
     WHERE n.nspname = s AND e.privilege_type = 'CREATE' AND e.grantee <> n.nspowner
$$;
SET vmm_upgrade.schema = mail;
SET vmm_upgrade.dovecot_role = regress_vmm_sec_dovecot;
SET vmm_upgrade.postfix_role = regress_vmm_sec_postfix;
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
--
-- 1. The update refuses while Postfix could read the passwords.
--
-- 1a. vmm 0.5.2 installations often granted SELECT on everything to PUBLIC.
GRANT SELECT ON ALL TABLES IN SCHEMA mail TO PUBLIC;
SELECT t.snapshot('mail') AS before \gset
BEGIN;
ALTER EXTENSION vmm_upgrade UPDATE;
ROLLBACK;
SELECT t.snapshot('mail') = :'before' AS unchanged,
       (SELECT split_part(extversion, '+', 1) FROM pg_extension WHERE extname = 'vmm_upgrade') AS extversion;
REVOKE SELECT ON ALL TABLES IN SCHEMA mail FROM PUBLIC;
-- 1b. A group role Postfix inherits from, and PUBLIC's grant on the column.
GRANT SELECT ON ALL TABLES IN SCHEMA mail TO regress_vmm_sec_group;
GRANT regress_vmm_sec_group TO regress_vmm_sec_postfix;
GRANT SELECT (passwd) ON mail.users TO PUBLIC;
SELECT t.snapshot('mail') AS before \gset
BEGIN;
ALTER EXTENSION vmm_upgrade UPDATE;
ROLLBACK;
SELECT t.snapshot('mail') = :'before' AS unchanged,
       (SELECT split_part(extversion, '+', 1) FROM pg_extension WHERE extname = 'vmm_upgrade') AS extversion;
REVOKE SELECT ON ALL TABLES IN SCHEMA mail FROM regress_vmm_sec_group;
REVOKE SELECT (passwd) ON mail.users FROM PUBLIC;
--
-- 3. The update refuses the owner of the mail tables as a client role.
--
SELECT t.snapshot('mail') AS before \gset
BEGIN;
SET LOCAL vmm_upgrade.dovecot_role = regress_vmm_sec_owner;
ALTER EXTENSION vmm_upgrade UPDATE;
ROLLBACK;
BEGIN;
SET LOCAL vmm_upgrade.postfix_role = regress_vmm_sec_owner;
ALTER EXTENSION vmm_upgrade UPDATE;
ROLLBACK;
SELECT t.snapshot('mail') = :'before' AS unchanged,
       (SELECT split_part(extversion, '+', 1) FROM pg_extension WHERE extname = 'vmm_upgrade') AS extversion;
--
-- 2. The update takes CREATE on the mail schema from the client roles, and
-- warns about PUBLIC's.  (The group's grants are gone: it goes through.)
--
GRANT CREATE ON SCHEMA mail TO PUBLIC, regress_vmm_sec_dovecot, regress_vmm_sec_postfix;
SELECT t.creators('mail') AS creators;
ALTER EXTENSION vmm_upgrade UPDATE;
SELECT split_part(extversion, '+', 1) AS extversion FROM pg_extension WHERE extname = 'vmm_upgrade';
SELECT t.creators('mail') AS creators;
REVOKE CREATE ON SCHEMA mail FROM PUBLIC;
SELECT has_schema_privilege('regress_vmm_sec_postfix', 'mail', 'CREATE') AS postfix_creates,
       has_schema_privilege('regress_vmm_sec_dovecot', 'mail', 'CREATE') AS dovecot_creates,
       has_column_privilege('regress_vmm_sec_postfix', 'mail.users', 'passwd', 'SELECT') AS postfix_sees_passwd,
       t.reads_passwd('mail', 'regress_vmm_sec_postfix') AS by_any_way;
SET ROLE regress_vmm_sec_postfix;
CREATE FUNCTION mail.dovecotpassword(text, text) RETURNS SETOF mail.dovecotpassword
LANGUAGE sql AS $$ SELECT NULL::mail.dovecotpassword $$;
RESET ROLE;
--
-- 4. What the update grants when roles are missing: one WARNING each (the
-- update's grant step itself, as the update calls it).
--
BEGIN;
SET LOCAL vmm_upgrade.dovecot_role = regress_vmm_sec_nodovecot;
SELECT vmm_upgrade._grant_configured_roles('mail');
ROLLBACK;
BEGIN;
SET LOCAL vmm_upgrade.dovecot_role = regress_vmm_sec_nodovecot;
SET LOCAL vmm_upgrade.postfix_role = regress_vmm_sec_nopostfix;
SELECT vmm_upgrade._grant_configured_roles('mail');
ROLLBACK;
-- One role for both: a WARNING, the grants go through.
BEGIN;
SET LOCAL vmm_upgrade.postfix_role = regress_vmm_sec_dovecot;
SELECT vmm_upgrade._grant_configured_roles('mail');
ROLLBACK;
--
-- 4. set_permissions() takes its roles from the settings.
--
GRANT UPDATE ON mail.alias TO regress_vmm_sec_postfix;   -- set_permissions takes it back
SELECT count(*) AS statements FROM vmm_upgrade.set_permissions();
SELECT has_table_privilege('regress_vmm_sec_postfix', 'mail.alias', 'UPDATE') AS postfix_updates_alias,
       has_table_privilege('regress_vmm_sec_postfix', 'mail.alias', 'SELECT') AS postfix_reads_alias,
       has_column_privilege('regress_vmm_sec_dovecot', 'mail.users', 'passwd', 'SELECT') AS dovecot_sees_passwd;
SELECT count(*) AS statements FROM vmm_upgrade.set_permissions(postfix => NULL);
-- The settings' own defaults: roles dovecot and postfix, which do not exist.
BEGIN;
RESET vmm_upgrade.dovecot_role;
RESET vmm_upgrade.postfix_role;
SELECT * FROM vmm_upgrade.set_permissions();
ROLLBACK;
BEGIN;
SET LOCAL vmm_upgrade.postfix_role = regress_vmm_sec_nopostfix;
SELECT * FROM vmm_upgrade.set_permissions();
ROLLBACK;
-- upgrade_dovecot_layout()'s HINT names the configured roles.
BEGIN;
SET LOCAL vmm_upgrade.schema = m11;
SELECT vmm_upgrade.upgrade_dovecot_layout();
ROLLBACK;
--
-- 1. set_permissions() refuses while Postfix could read the passwords.  An
-- extra grant to Postfix, which set_permissions would take back, shows that
-- nothing was changed (each case grants it again).
--
-- 1c. PUBLIC's grant on the table.
GRANT UPDATE ON mail.alias TO regress_vmm_sec_postfix;
GRANT SELECT ON mail.users TO PUBLIC;
SELECT t.snapshot('mail') AS before \gset
SELECT * FROM vmm_upgrade.set_permissions('regress_vmm_sec_dovecot', 'regress_vmm_sec_postfix');
SELECT t.snapshot('mail') = :'before' AS unchanged;
REVOKE SELECT ON TABLE mail.users FROM PUBLIC;
-- 1d. PUBLIC's grant on the column.
GRANT UPDATE ON mail.alias TO regress_vmm_sec_postfix;
GRANT SELECT (passwd) ON mail.users TO PUBLIC;
SELECT t.snapshot('mail') AS before \gset
SELECT * FROM vmm_upgrade.set_permissions('regress_vmm_sec_dovecot', 'regress_vmm_sec_postfix');
SELECT t.snapshot('mail') = :'before' AS unchanged;
REVOKE SELECT (passwd) ON TABLE mail.users FROM PUBLIC;
-- 1e. A group role's grant on the table, reached through another group;
-- and the group's grant on the column.
GRANT UPDATE ON mail.alias TO regress_vmm_sec_postfix;
GRANT regress_vmm_sec_group TO regress_vmm_sec_subgroup;
REVOKE regress_vmm_sec_group FROM regress_vmm_sec_postfix;
GRANT regress_vmm_sec_subgroup TO regress_vmm_sec_postfix;
GRANT SELECT ON mail.users TO regress_vmm_sec_group;
GRANT SELECT (passwd, local_part) ON mail.users TO regress_vmm_sec_group;
SELECT t.snapshot('mail') AS before \gset
SELECT * FROM vmm_upgrade.set_permissions('regress_vmm_sec_dovecot', 'regress_vmm_sec_postfix');
SELECT t.snapshot('mail') = :'before' AS unchanged;
REVOKE SELECT ON TABLE mail.users FROM regress_vmm_sec_group;
SELECT t.reads_passwd('mail', 'regress_vmm_sec_postfix') AS by_any_way;
-- 1f. A group Postfix does not inherit from, but may SET ROLE to:
-- has_column_privilege() says no, and yet Postfix can read the passwords.
GRANT UPDATE ON mail.alias TO regress_vmm_sec_postfix;
ALTER ROLE regress_vmm_sec_postfix NOINHERIT;
GRANT SELECT (passwd) ON mail.users TO regress_vmm_sec_group;
SELECT has_column_privilege('regress_vmm_sec_postfix', 'mail.users', 'passwd', 'SELECT') AS postfix_sees_passwd;
SELECT t.snapshot('mail') AS before \gset
SELECT * FROM vmm_upgrade.set_permissions('regress_vmm_sec_dovecot', 'regress_vmm_sec_postfix');
SELECT t.snapshot('mail') = :'before' AS unchanged;
REVOKE SELECT (passwd) ON mail.users FROM regress_vmm_sec_group;
ALTER ROLE regress_vmm_sec_postfix INHERIT;
-- 1g. Postfix a member of the Dovecot role: the membership goes, not
-- Dovecot's grant.
GRANT UPDATE ON mail.alias TO regress_vmm_sec_postfix;
GRANT regress_vmm_sec_dovecot TO regress_vmm_sec_postfix;
SELECT t.snapshot('mail') AS before \gset
SELECT * FROM vmm_upgrade.set_permissions('regress_vmm_sec_dovecot', 'regress_vmm_sec_postfix');
SELECT t.snapshot('mail') = :'before' AS unchanged;
REVOKE regress_vmm_sec_dovecot FROM regress_vmm_sec_postfix;
-- 1h. Postfix a member of the owner, of pg_read_all_data; a superuser.
GRANT UPDATE ON mail.alias TO regress_vmm_sec_postfix;
GRANT regress_vmm_sec_owner TO regress_vmm_sec_postfix;
GRANT pg_read_all_data TO regress_vmm_sec_postfix;
SELECT t.snapshot('mail') AS before \gset
SELECT * FROM vmm_upgrade.set_permissions('regress_vmm_sec_dovecot', 'regress_vmm_sec_postfix');
SELECT t.snapshot('mail') = :'before' AS unchanged;
REVOKE regress_vmm_sec_owner FROM regress_vmm_sec_postfix;
REVOKE pg_read_all_data FROM regress_vmm_sec_postfix;
GRANT UPDATE ON mail.alias TO regress_vmm_sec_postfix;
ALTER ROLE regress_vmm_sec_postfix SUPERUSER;
SELECT t.snapshot('mail') AS before \gset
SELECT * FROM vmm_upgrade.set_permissions('regress_vmm_sec_dovecot', 'regress_vmm_sec_postfix');
SELECT t.snapshot('mail') = :'before' AS unchanged;
ALTER ROLE regress_vmm_sec_postfix NOSUPERUSER;
-- Every way closed: set_permissions goes through, and Postfix reads no
-- password by any way (the group roles it is still a member of included).
SELECT count(*) AS statements FROM vmm_upgrade.set_permissions('regress_vmm_sec_dovecot', 'regress_vmm_sec_postfix');
SELECT has_column_privilege('regress_vmm_sec_postfix', 'mail.users', 'passwd', 'SELECT') AS postfix_sees_passwd,
       has_table_privilege('regress_vmm_sec_postfix', 'mail.users', 'SELECT') AS postfix_reads_users,
       has_column_privilege('public', 'mail.users', 'passwd', 'SELECT') AS public_sees_passwd,
       has_column_privilege('regress_vmm_sec_group', 'mail.users', 'passwd', 'SELECT') AS group_sees_passwd,
       t.reads_passwd('mail', 'regress_vmm_sec_postfix') AS by_any_way,
       has_table_privilege('regress_vmm_sec_postfix', 'mail.alias', 'UPDATE') AS postfix_updates_alias;
SET ROLE regress_vmm_sec_postfix;
SELECT passwd FROM mail.users LIMIT 1;
SET ROLE regress_vmm_sec_group;
SELECT passwd FROM mail.users LIMIT 1;
RESET ROLE;
--
-- 2. set_permissions() takes CREATE on the mail schema from the client
-- roles (in its statements), and warns about PUBLIC's and a group's.
--
GRANT CREATE ON SCHEMA mail TO PUBLIC, regress_vmm_sec_postfix, regress_vmm_sec_dovecot, regress_vmm_sec_maker;
GRANT regress_vmm_sec_maker TO regress_vmm_sec_postfix, regress_vmm_sec_dovecot;
SELECT * FROM vmm_upgrade.set_permissions('regress_vmm_sec_dovecot', 'regress_vmm_sec_postfix') AS s WHERE s LIKE '%SCHEMA%';
SELECT t.creators('mail') AS creators;
REVOKE CREATE ON SCHEMA mail FROM PUBLIC, regress_vmm_sec_maker;
SELECT * FROM vmm_upgrade.set_permissions('regress_vmm_sec_dovecot', 'regress_vmm_sec_postfix') AS s WHERE s LIKE '%SCHEMA%';
SELECT has_schema_privilege('regress_vmm_sec_postfix', 'mail', 'CREATE') AS postfix_creates,
       has_schema_privilege('regress_vmm_sec_dovecot', 'mail', 'CREATE') AS dovecot_creates;
--
-- 3. set_permissions() refuses the owner of the mail tables as a client
-- role, and changes nothing; one role for both is a WARNING.
--
GRANT UPDATE ON mail.alias TO regress_vmm_sec_postfix;
SELECT t.snapshot('mail') AS before \gset
SELECT * FROM vmm_upgrade.set_permissions('regress_vmm_sec_owner', 'regress_vmm_sec_postfix');
SELECT * FROM vmm_upgrade.set_permissions('regress_vmm_sec_dovecot', 'regress_vmm_sec_owner');
SELECT * FROM vmm_upgrade.set_permissions('regress_vmm_sec_owner', 'regress_vmm_sec_owner');
SELECT t.snapshot('mail') = :'before' AS unchanged,
       has_table_privilege('regress_vmm_sec_owner', 'mail.users', 'INSERT') AS owner_inserts;
SELECT count(*) AS statements FROM vmm_upgrade.set_permissions('regress_vmm_sec_dovecot', 'regress_vmm_sec_dovecot');
SELECT has_column_privilege('regress_vmm_sec_dovecot', 'mail.users', 'passwd', 'SELECT') AS shared_sees_passwd,
       has_table_privilege('regress_vmm_sec_dovecot', 'mail.alias', 'SELECT') AS shared_reads_alias;
SELECT count(*) AS statements FROM vmm_upgrade.set_permissions('regress_vmm_sec_dovecot', 'regress_vmm_sec_postfix');
--
-- Names that need quoting, in the DETAILs and HINTs: schema "Mail Box".
--
SET vmm_upgrade.schema = 'Mail Box';
GRANT SELECT ON "Mail Box".users TO PUBLIC;
GRANT CREATE ON SCHEMA "Mail Box" TO PUBLIC;
SELECT * FROM vmm_upgrade.set_permissions('regress_vmm_sec_dovecot', 'regress_vmm_sec_postfix');
REVOKE SELECT ON TABLE "Mail Box".users FROM PUBLIC;
SELECT count(*) AS statements FROM vmm_upgrade.set_permissions('regress_vmm_sec_dovecot', 'regress_vmm_sec_postfix');
REVOKE CREATE ON SCHEMA "Mail Box" FROM PUBLIC;
SELECT t.reads_passwd('Mail Box', 'regress_vmm_sec_postfix') AS by_any_way,
       has_schema_privilege('regress_vmm_sec_postfix', 'Mail Box', 'CREATE') AS postfix_creates;
\c contrib_regression
DROP DATABASE vmm_t_security;
DROP ROLE regress_vmm_sec_owner, regress_vmm_sec_dovecot, regress_vmm_sec_postfix,
          regress_vmm_sec_group, regress_vmm_sec_subgroup, regress_vmm_sec_maker;
