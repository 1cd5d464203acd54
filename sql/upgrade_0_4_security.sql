--
-- The way from vmm 0.4 never runs anyone's code with superuser rights.
--
-- regress_vmm04s_evil owns the vmm 0.4 tables (as vmm's role does) and
-- plants code where the steps meet it: a CHECK constraint and an
-- expression index on alias, which the step to 0.5.2 re-checks and rebuilds
-- when alias.address narrows, a CHECK constraint on users, which the step
-- to 0.6 checks on its new users table, and a trigger on users, which the
-- step to 0.6 carries over (the move of the rows fires no UPDATE trigger).
-- Every piece calls t_attack(), which logs who ran it, tries RESET ROLE
-- and then makes its owner a superuser.  A control
-- first shows the attack works when a superuser calls it.
--
-- regress_vmm04s_mallory may create objects in the mail schema and plants
-- operators and functions with the names and argument types the steps and
-- the new views use, each raising an error when called, and a function named
-- like the one the step to 0.5.2 creates (domain_primary_trigger, which
-- the preflight refuses as a layout deviation).  The steps run with the
-- mail schema first on the DBA's search_path; none of the planted objects
-- is ever called, by the steps or by the new views.
--
CREATE DATABASE vmm_t_upgrade_04_security;
\c vmm_t_upgrade_04_security
\set SHOW_CONTEXT never
CREATE ROLE regress_vmm04s_evil;
CREATE ROLE regress_vmm04s_mallory;
CREATE ROLE regress_vmm04s_postfix;
CREATE SCHEMA mail AUTHORIZATION regress_vmm04s_evil;
SET vmm_upgrade.schema = mail;
SET vmm_upgrade.postfix_role = regress_vmm04s_postfix;
SET vmm_upgrade.dovecot_role = regress_vmm04s_evil_dovecot;
SET ROLE regress_vmm04s_evil;
\set ECHO none
\set schema mail
\set form release
\i test/fixtures/vmm-0.4.sql
\set users 40
\i test/fixtures/generate-0.4.sql
\set ECHO all
-- The owner's log and payload.
CREATE TABLE mail.attack_log (vector text, ran_as name, became_superuser boolean);
GRANT INSERT ON mail.attack_log TO PUBLIC;
CREATE FUNCTION mail.t_attack(vector text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	BEGIN
		RESET ROLE;
	EXCEPTION WHEN OTHERS THEN NULL;
	END;
	BEGIN
		EXECUTE 'ALTER ROLE regress_vmm04s_evil SUPERUSER';
	EXCEPTION WHEN OTHERS THEN NULL;
	END;
	INSERT INTO mail.attack_log
	VALUES (vector, current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_vmm04s_evil'));
	RETURN true;
END $$;
CREATE FUNCTION mail.t_check(text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN mail.t_attack('check constraint on alias');
END $$;
CREATE FUNCTION mail.t_index(text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	PERFORM mail.t_attack('index expression on alias');
	RETURN $1;
END $$;
CREATE FUNCTION mail.t_check_users(text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN mail.t_attack('check constraint on users');
END $$;
CREATE FUNCTION mail.t_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM mail.t_attack('trigger on users, ' || TG_OP);
	RETURN NEW;
END $$;
ALTER TABLE mail.alias ADD CONSTRAINT t_evil CHECK (mail.t_check(address));
CREATE INDEX t_evil ON mail.alias (mail.t_index(destination));
ALTER TABLE mail.users ADD CONSTRAINT t_evil CHECK (mail.t_check_users(local_part));
CREATE TRIGGER t_evil BEFORE UPDATE ON mail.users FOR EACH ROW EXECUTE FUNCTION mail.t_trigger();
TRUNCATE mail.attack_log;
RESET ROLE;
-- Control: called with superuser rights, the payload gets there.
SELECT mail.t_attack('control, called by a superuser');
SELECT vector, ran_as, became_superuser FROM mail.attack_log;
ALTER ROLE regress_vmm04s_evil NOSUPERUSER;
TRUNCATE mail.attack_log;
-- Mallory's plants.
GRANT USAGE, CREATE ON SCHEMA mail TO regress_vmm04s_mallory;
SET ROLE regress_vmm04s_mallory;
CREATE FUNCTION mail.hijack_bool(varchar, varchar) RETURNS boolean LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: comparison of varchar called'; END $$;
CREATE FUNCTION mail.hijack_bool(text, text) RETURNS boolean LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: comparison of text called'; END $$;
CREATE FUNCTION mail.hijack_bool(bigint, bigint) RETURNS boolean LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: comparison of bigint called'; END $$;
CREATE FUNCTION mail.hijack_bool(integer, integer) RETURNS boolean LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: comparison of integer called'; END $$;
CREATE FUNCTION mail.hijack_text(varchar, varchar) RETURNS text LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: concatenation of varchar called'; END $$;
CREATE FUNCTION mail.hijack_text(text, text) RETURNS text LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: concatenation of text called'; END $$;
CREATE FUNCTION mail.hijack_text(varchar, bigint) RETURNS text LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: concatenation of varchar and bigint called'; END $$;
CREATE FUNCTION mail.hijack_bigint(bigint, integer) RETURNS bigint LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: bigint arithmetic called'; END $$;
CREATE OPERATOR mail.= (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = mail.hijack_bool);
CREATE OPERATOR mail.= (LEFTARG = text, RIGHTARG = text, FUNCTION = mail.hijack_bool);
CREATE OPERATOR mail.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = mail.hijack_bool);
CREATE OPERATOR mail.> (LEFTARG = integer, RIGHTARG = integer, FUNCTION = mail.hijack_bool);
CREATE OPERATOR mail.|| (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = mail.hijack_text);
CREATE OPERATOR mail.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = mail.hijack_text);
CREATE OPERATOR mail.|| (LEFTARG = varchar, RIGHTARG = bigint, FUNCTION = mail.hijack_text);
CREATE OPERATOR mail.+ (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = mail.hijack_bigint);
CREATE FUNCTION mail.length(varchar) RETURNS integer LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: length called'; END $$;
CREATE FUNCTION mail.format(text, VARIADIC text[]) RETURNS text LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: format called'; END $$;
CREATE FUNCTION mail.nextval(regclass) RETURNS bigint LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: nextval called'; END $$;
CREATE FUNCTION mail.jsonb_build_object(text, bigint) RETURNS jsonb LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: jsonb_build_object called'; END $$;
CREATE FUNCTION mail.set_config(text, text, boolean) RETURNS text LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: set_config called'; END $$;
CREATE FUNCTION mail.quote_ident(text) RETURNS text LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'hijacked: quote_ident called'; END $$;
RESET ROLE;
-- The trap is live: plain SQL with the mail schema first walks into it.
SET search_path = mail, pg_catalog;
SELECT 'a'::varchar || 'b'::varchar;
SELECT length('abc'::varchar);
RESET search_path;
CREATE EXTENSION vmm_upgrade VERSION '0.4';
-- 1. A function planted under the name the step to 0.5.2 creates is a
--    layout deviation: refused before anything changes.
\set ECHO none
\i test/include/snapshot.sql
\set ECHO all
SET ROLE regress_vmm04s_mallory;
CREATE FUNCTION mail.domain_primary_trigger() RETURNS trigger LANGUAGE plpgsql
AS $$ BEGIN PERFORM mail.t_attack('planted domain_primary_trigger()'); RETURN NEW; END $$;
RESET ROLE;
SELECT t.snapshot('mail') AS before \gset
ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
SELECT t.snapshot('mail') = :'before' AS unchanged;
DROP FUNCTION mail.domain_primary_trigger();
-- 2. The step to 0.5.2, with the mail schema first on the search_path: it
--    meets the owner's CHECK constraint and index on alias (as the owner)
--    and none of the planted objects.
SET search_path = mail, pg_catalog;
SET client_min_messages = error;
ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
RESET client_min_messages;
RESET search_path;
SELECT version, dovecot FROM vmm_upgrade.detect_layout();
SELECT vector, ran_as, became_superuser, count(*) > 0 AS ran
  FROM mail.attack_log GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
TRUNCATE mail.attack_log;
-- The new views were bound when they were made: read with the mail schema
-- first on the path, they call nothing of Mallory's.
SET ROLE regress_vmm04s_postfix;
SET search_path = mail, pg_catalog;
SELECT count(*) AS maildirs, count(DISTINCT split_part(address, '@', 2)) AS domains FROM mail.postfix_maildir;
SELECT count(*) AS aliases FROM mail.postfix_alias;
RESET search_path;
RESET ROLE;
-- 3. On to 0.6: the data pass over users meets the owner's CHECK
--    constraint, as the owner; the trigger comes along and does not fire.
SET search_path = mail, pg_catalog;
SET client_min_messages = error;
ALTER EXTENSION vmm_upgrade UPDATE;
RESET client_min_messages;
RESET search_path;
SELECT version, dovecot FROM vmm_upgrade.detect_layout();
SELECT vector, ran_as, became_superuser, count(*) > 0 AS ran
  FROM mail.attack_log GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_vmm04s_evil';
\c contrib_regression
DROP DATABASE vmm_t_upgrade_04_security;
DROP ROLE regress_vmm04s_evil;
DROP ROLE regress_vmm04s_mallory;
DROP ROLE regress_vmm04s_postfix;
