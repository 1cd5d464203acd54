--
-- detect_layout() and check_layout() on every known layout.
--
-- Each fixture of test/fixtures is built in a schema of its own; every
-- layout must be recognised exactly, and must deviate from every other.
--
CREATE DATABASE vmm_t_detect;
\c vmm_t_detect
\set SHOW_CONTEXT never
-- public holds no vmm objects: version 0.6 installs with a WARNING.
CREATE EXTENSION vmm_upgrade;
\set ECHO none
\set schema v052_11
\set dovecot 1.1
\set lookups false
\i test/fixtures/vmm-0.5.2.sql
\set schema v052_12
\set dovecot 1.2
\i test/fixtures/vmm-0.5.2.sql
\set schema v052_11_lookups
\set dovecot 1.1
\set lookups true
\i test/fixtures/vmm-0.5.2.sql
\set schema v052_12_lookups
\set dovecot 1.2
\i test/fixtures/vmm-0.5.2.sql
\set schema v06_11
\set dovecot 1.1
\i test/fixtures/vmm-0.6.sql
\set schema v06_12
\set dovecot 1.2
\i test/fixtures/vmm-0.6.sql
\set schema v04_release
\set form release
\i test/fixtures/vmm-0.4.sql
\set schema v04_r41
\set form r41
\i test/fixtures/vmm-0.4.sql
\set ECHO all
CREATE SCHEMA empty;
CREATE TABLE t_schemas AS
SELECT s::name AS s FROM unnest(ARRAY['v04_release', 'v04_r41', 'v052_11', 'v052_12', 'v052_11_lookups', 'v052_12_lookups',
                                      'v06_11', 'v06_12', 'empty', 'public']) WITH ORDINALITY AS u(s, n)
ORDER BY n;
-- What each schema holds.
SELECT d.* FROM t_schemas, vmm_upgrade.detect_layout(s) AS d;
-- Deviations of each schema from each known layout: 0 exactly where it is
-- that layout, never 0 elsewhere.
SELECT s AS schema,
       (SELECT count(*) FROM vmm_upgrade.check_layout('0.4', '1.1', s)) AS "0.4/1.1",
       (SELECT count(*) FROM vmm_upgrade.check_layout('0.5.2', '1.1', s)) AS "0.5.2/1.1",
       (SELECT count(*) FROM vmm_upgrade.check_layout('0.5.2', '1.2', s)) AS "0.5.2/1.2",
       (SELECT count(*) FROM vmm_upgrade.check_layout('0.6', '1.1', s)) AS "0.6/1.1",
       (SELECT count(*) FROM vmm_upgrade.check_layout('0.6', '1.2', s)) AS "0.6/1.2",
       (SELECT count(*) FROM vmm_upgrade.check_layout('0.5.2', NULL, s)) AS "0.5.2/own",
       (SELECT count(*) FROM vmm_upgrade.check_layout('0.6', NULL, s)) AS "0.6/own"
  FROM t_schemas;
-- The default schema comes from vmm_upgrade.schema.
SET vmm_upgrade.schema = v052_12;
SELECT * FROM vmm_upgrade.detect_layout();
SELECT count(*) FROM vmm_upgrade.check_layout('0.5.2');
SELECT vmm_upgrade.mail_schema();
RESET vmm_upgrade.schema;
SELECT vmm_upgrade.mail_schema();
-- The two forms of 0.4: check_layout('0.4') is exact for either, each
-- form's own name for that form alone; they differ in users.smpt and the
-- view dovecot_password.
SELECT s AS schema,
       (SELECT count(*) FROM vmm_upgrade.check_layout('0.4', NULL, s)) AS "0.4",
       (SELECT count(*) FROM vmm_upgrade.check_layout('0.4-r41', NULL, s)) AS "0.4-r41",
       (SELECT count(*) FROM vmm_upgrade.check_layout('0.4-release', NULL, s)) AS "0.4-release"
  FROM unnest(ARRAY['v04_release', 'v04_r41']::name[]) AS s;
SELECT * FROM vmm_upgrade.check_layout('0.4-r41', NULL, 'v04_release');
SELECT * FROM vmm_upgrade.check_layout('0.4-release', '1.1', 'v04_r41');
-- 0.4 predates Dovecot 1.2: it has no 1.2 variant.
SELECT * FROM vmm_upgrade.check_layout('0.4', '1.2', 'v04_r41');
-- 0.4 against 0.5.2: what the 0.4 -> 0.5.2 update has to do.
SELECT * FROM vmm_upgrade.check_layout('0.5.2', '1.1', 'v04_r41');
-- 0.6.0, 0.6.1 and 0.6.2 share the 0.6 structure.
SELECT v, count(c.*) FROM unnest(ARRAY['0.6.0', '0.6.1', '0.6.2']) AS v
  LEFT JOIN LATERAL vmm_upgrade.check_layout(v, NULL, 'v06_11') AS c ON true GROUP BY v ORDER BY v;
-- A 0.5.2 layout against the 0.6 one: what the upgrade has to do.
SELECT * FROM vmm_upgrade.check_layout('0.6', '1.2', 'v052_12');
-- The wrong variant: exactly the sieve column and what depends on it.
SELECT * FROM vmm_upgrade.check_layout('0.5.2', '1.2', 'v052_11_lookups');
SELECT * FROM vmm_upgrade.check_layout('0.6', '1.1', 'v06_12');
-- An empty schema lacks every table (reported once per table).
SELECT * FROM vmm_upgrade.check_layout('0.5.2', '1.2', 'empty');
\c contrib_regression
DROP DATABASE vmm_t_detect;
