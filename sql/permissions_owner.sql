--
-- set_permissions() for the owner of the mail tables who is not a superuser:
-- the grants work with the owner's rights, and exactly as for a superuser.
--
CREATE DATABASE vmm_t_perm_owner;
\c vmm_t_perm_owner
\set SHOW_CONTEXT never
CREATE ROLE regress_vmm_mailowner;
CREATE ROLE regress_vmm_po_dovecot;
CREATE ROLE regress_vmm_po_postfix;
CREATE SCHEMA mail AUTHORIZATION regress_vmm_mailowner;
SET ROLE regress_vmm_mailowner;
\set ECHO none
\set schema mail
\set dovecot 1.2
\set lookups false
\i test/fixtures/vmm-0.5.2.sql
\set ECHO all
RESET ROLE;
SET vmm_upgrade.schema = mail;
SET vmm_upgrade.dovecot_role = regress_vmm_po_dovecot;
SET vmm_upgrade.postfix_role = regress_vmm_po_postfix;
SET client_min_messages = error;
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
ALTER EXTENSION vmm_upgrade UPDATE;
RESET client_min_messages;
-- The grants the update made, as the superuser saw them.
CREATE TEMP TABLE grants_by_update AS
SELECT c.relname, c.relacl::text AS acl,
       (SELECT string_agg(a.attname || '=' || a.attacl::text, ',' ORDER BY a.attname)
          FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL) AS colacl
  FROM pg_class c WHERE c.relnamespace = 'mail'::regnamespace;
-- Now the owner runs set_permissions itself.
GRANT USAGE ON SCHEMA vmm_upgrade TO regress_vmm_mailowner;
SET ROLE regress_vmm_mailowner;
SELECT count(*) AS statements FROM vmm_upgrade.set_permissions('regress_vmm_po_dovecot', 'regress_vmm_po_postfix');
RESET ROLE;
SELECT count(*) AS differences
  FROM (SELECT c.relname, c.relacl::text AS acl,
               (SELECT string_agg(a.attname || '=' || a.attacl::text, ',' ORDER BY a.attname)
                  FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL) AS colacl
          FROM pg_class c WHERE c.relnamespace = 'mail'::regnamespace
        EXCEPT SELECT * FROM grants_by_update) AS d;
-- Postfix still sees no password.
SET ROLE regress_vmm_po_postfix;
SELECT passwd FROM mail.users LIMIT 1;
RESET ROLE;
\c contrib_regression
DROP DATABASE vmm_t_perm_owner;
DROP ROLE regress_vmm_mailowner, regress_vmm_po_dovecot, regress_vmm_po_postfix;
