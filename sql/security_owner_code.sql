--
-- The mail owner's code never runs with superuser rights.
--
-- regress_vmm_evil owns the vmm tables (as the vmm role does on a real
-- system) and plants code where the steps of vmm_upgrade would meet it: a
-- trigger, a CHECK constraint and an expression index on users, a
-- replacement dovecotpassword() and domain_primary_trigger().  Every piece
-- calls t_attack(), which logs who ran it, tries RESET ROLE and then a
-- superuser-only action (making its owner a superuser).  The steps run as
-- superuser; afterwards the owner is still no superuser, and the log shows
-- the code ran as the owner (or, for the 0.6.0 checks, not at all).  A
-- control first proves the attack works when a superuser calls it.
--
CREATE DATABASE vmm_t_security_owner;
\c vmm_t_security_owner
\set SHOW_CONTEXT never
CREATE ROLE regress_vmm_evil;
CREATE SCHEMA mail AUTHORIZATION regress_vmm_evil;
CREATE SCHEMA m60 AUTHORIZATION regress_vmm_evil;
SET ROLE regress_vmm_evil;
\set ECHO none
\set schema mail
\set dovecot 1.1
\set lookups false
\i test/fixtures/vmm-0.5.2.sql
\set users 50
\i test/fixtures/generate-0.5.2.sql
\set schema m60
\set dovecot 1.1
\set release 0.6.0
\i test/fixtures/vmm-0.6.sql
\set users 50
\i test/fixtures/generate-0.6.sql
\set ECHO all
-- The attacker's log and payload.
CREATE TABLE mail.attack_log (vector text, ran_as name, became_superuser boolean);
GRANT INSERT ON mail.attack_log TO PUBLIC;
CREATE FUNCTION mail.t_attack(vector text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	BEGIN
		RESET ROLE;
	EXCEPTION WHEN OTHERS THEN NULL;
	END;
	BEGIN
		EXECUTE 'ALTER ROLE regress_vmm_evil SUPERUSER';
	EXCEPTION WHEN OTHERS THEN NULL;
	END;
	INSERT INTO mail.attack_log
	VALUES (vector, current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_vmm_evil'));
	RETURN true;
END $$;
-- Planted on users: a trigger, a CHECK constraint, an expression index.
CREATE FUNCTION mail.t_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM mail.t_attack(TG_TABLE_SCHEMA || ' trigger on ' || TG_OP);
	RETURN NEW;
END $$;
CREATE FUNCTION mail.t_check(text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN mail.t_attack('check constraint');
END $$;
CREATE FUNCTION mail.t_index(text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	PERFORM mail.t_attack('index expression');
	RETURN $1;
END $$;
CREATE TRIGGER t_evil BEFORE UPDATE ON mail.users FOR EACH ROW EXECUTE FUNCTION mail.t_trigger();
ALTER TABLE mail.users ADD CONSTRAINT t_evil CHECK (mail.t_check(passwd));
CREATE INDEX t_evil ON mail.users (mail.t_index(passwd));
-- (no autovacuum: an ANALYZE of users would evaluate the index expression
-- too, and the counts below are exact)
ALTER TABLE mail.users SET (autovacuum_enabled = false);
CREATE TRIGGER t_evil BEFORE UPDATE ON m60.users FOR EACH ROW EXECUTE FUNCTION mail.t_trigger();
-- Planted in the 0.6.0 layout: dovecotpassword() (same signature, result
-- and strictness: still layout 0.6) and vmm's domain_primary_trigger().
CREATE OR REPLACE FUNCTION m60.dovecotpassword(localpart varchar, the_domain varchar)
RETURNS SETOF m60.dovecotpassword LANGUAGE plpgsql STABLE STRICT AS $$
BEGIN
	PERFORM mail.t_attack('dovecotpassword()');
END $$;
CREATE OR REPLACE FUNCTION m60.domain_primary_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM mail.t_attack('domain_primary_trigger()');
	RETURN NEW;
END $$;
TRUNCATE mail.attack_log;
RESET ROLE;
-- Control: called with superuser rights, the payload gets there.
SELECT mail.t_attack('control, called by a superuser');
SELECT vector, ran_as, became_superuser FROM mail.attack_log;
ALTER ROLE regress_vmm_evil NOSUPERUSER;
TRUNCATE mail.attack_log;
-- 1. The 0.5.2 -> 0.6 update: the new users table meets the CHECK
--    constraint (checked) and the index (built, then analyzed), as the
--    owner; the trigger comes along and does not fire (the move of the
--    rows is no UPDATE).
SET vmm_upgrade.schema = mail;
SET client_min_messages = error;
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
ALTER EXTENSION vmm_upgrade UPDATE;
RESET client_min_messages;
SELECT version, dovecot FROM vmm_upgrade.detect_layout();
SELECT vector, ran_as, became_superuser, count(*) AS ran
  FROM mail.attack_log GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_vmm_evil';
TRUNCATE mail.attack_log;
-- 2. The 0.6.0 checks read dovecotpassword()'s definition and call nothing:
--    CREATE EXTENSION at 0.6 (refused: the database has defect 1), the
--    public check, and the adoption at 0.6.0.
DROP EXTENSION vmm_upgrade;
SET vmm_upgrade.schema = m60;
CREATE EXTENSION vmm_upgrade;
SET vmm_upgrade.transport_domain = inherit;
CREATE EXTENSION vmm_upgrade VERSION '0.6.0';
SELECT * FROM vmm_upgrade.check_0_6_0_defects();
SELECT count(*) AS calls FROM mail.attack_log;
-- 3. The 0.6.0 -> 0.6 update: the fix of defect 1 meets the trigger on
--    users, as the owner; dovecotpassword() is replaced without a call.
SET client_min_messages = error;
ALTER EXTENSION vmm_upgrade UPDATE;
RESET client_min_messages;
SELECT vector, ran_as, became_superuser, count(*) AS ran
  FROM mail.attack_log GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
TRUNCATE mail.attack_log;
-- 4. The Dovecot switch and replace_lookup_functions() neither.
SET ROLE regress_vmm_evil;
CREATE OR REPLACE FUNCTION m60.dovecotpassword(localpart varchar, the_domain varchar)
RETURNS SETOF m60.dovecotpassword LANGUAGE plpgsql STABLE STRICT AS $$
BEGIN
	PERFORM mail.t_attack('dovecotpassword()');
END $$;
RESET ROLE;
SELECT vmm_upgrade.replace_lookup_functions();
SET client_min_messages = error;
SELECT vmm_upgrade.upgrade_dovecot_layout();
RESET client_min_messages;
SELECT count(*) AS calls FROM mail.attack_log;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_vmm_evil';
-- 4b. Someone who may create objects in the mail schema (PUBLIC's CREATE on
--     a legacy public schema) plants format() and concat(): no step calls
--     them, so none ran with the superuser's rights.
CREATE ROLE regress_vmm_planter;
GRANT USAGE, CREATE ON SCHEMA m60 TO regress_vmm_planter;
SET ROLE regress_vmm_planter;
CREATE FUNCTION m60.format(text, name) RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM mail.t_attack('planted format(text, name)'); RETURN $1; END $$;
CREATE FUNCTION m60.format(text, text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM mail.t_attack('planted format(text, text)'); RETURN $1; END $$;
CREATE FUNCTION m60.concat(text, text, text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM mail.t_attack('planted concat()'); RETURN $1; END $$;
RESET ROLE;
SET client_min_messages = error;
SELECT count(*) AS defects FROM vmm_upgrade.check_0_6_0_defects() WHERE present;
SELECT vmm_upgrade.replace_lookup_functions() IS NOT NULL AS replaced;
SELECT count(*) AS deviations FROM vmm_upgrade.check_layout('0.6');
ALTER EXTENSION vmm_upgrade UPDATE;
RESET client_min_messages;
SELECT count(*) AS calls FROM mail.attack_log;
DROP FUNCTION m60.format(text, name), m60.format(text, text), m60.concat(text, text, text);
REVOKE ALL ON SCHEMA m60 FROM regress_vmm_planter;
DROP ROLE regress_vmm_planter;
-- 5. vmm_upgrade._as_owner itself gives nobody a role they do not have.
CREATE ROLE regress_vmm_other;
GRANT USAGE ON SCHEMA vmm_upgrade, m60 TO regress_vmm_other;
GRANT EXECUTE ON FUNCTION vmm_upgrade._as_owner(regclass, text) TO regress_vmm_other;
SET ROLE regress_vmm_other;
SELECT vmm_upgrade._as_owner('m60.users', 'DELETE FROM m60.users');
RESET ROLE;
SELECT count(*) AS accounts_left FROM m60.users;
-- 6. Inside it, SET ROLE and SET SESSION AUTHORIZATION are refused.
SELECT vmm_upgrade._as_owner('m60.users', 'SET ROLE NONE');
SELECT vmm_upgrade._as_owner('m60.users', 'SET SESSION AUTHORIZATION DEFAULT');
SELECT vmm_upgrade._as_owner('m60.users', 'SELECT pg_catalog.to_jsonb(current_user)');
\c contrib_regression
DROP DATABASE vmm_t_security_owner;
DROP ROLE regress_vmm_other;
DROP ROLE regress_vmm_evil;
