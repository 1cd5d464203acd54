--
-- The Postfix and Dovecot queries of vmm 0.6 are written once, in
-- src/client_queries.tsv: vmm_upgrade._client_queries() carries its lines,
-- and the WARNINGs that end the 0.5.2 -> 0.6 update (_warn_next_steps) are
-- made from them with no query of their own.  (test/cfg/client_queries.sh,
-- in make cfg-test, holds the same file against README.md, the man page and
-- vmm-cfg-upgrade.)
--
CREATE DATABASE vmm_t_client_queries;
\c vmm_t_client_queries
\set SHOW_CONTEXT never
-- an empty public: adopted with a WARNING that is not the point here
SET client_min_messages = error;
CREATE EXTENSION vmm_upgrade;
RESET client_min_messages;
-- 1. The lines of the file, in its order; @p@ is the schema prefix.
SELECT n, client, setting, old_name, variant, query
  FROM vmm_upgrade._client_queries() ORDER BY n;
SELECT count(*) AS replacing_052_queries
  FROM vmm_upgrade._client_queries() WHERE old_query IS NOT NULL;
-- 2. The WARNINGs write whatever the lines say: other lines, other WARNINGs
--    (a renamed file, the quota variant, the schema prefix with its %%).
BEGIN;
CREATE OR REPLACE FUNCTION vmm_upgrade._client_queries(
	OUT n integer, OUT client text, OUT setting text, OUT old_name text,
	OUT variant text, OUT old_query text, OUT query text)
RETURNS SETOF record LANGUAGE sql AS $fn$
VALUES (2, 'postfix', 'pgsql-b_maps.cf', 'pgsql-b.cf', NULL, NULL, 'SELECT b FROM @p@b_map(''%u'')'),
       (1, 'postfix', 'pgsql-a.cf', NULL, NULL, 'SELECT 1', 'SELECT a FROM @p@a_map(''%u'')'),
       (3, 'dovecot', 'c_query', NULL, 'quota', NULL, 'SELECT c FROM @p@c(''%Ln'')'),
       (4, 'dovecot', 'd_query', NULL, NULL, NULL, 'SELECT d FROM @p@d(''%Ld'')')
$fn$;
SELECT vmm_upgrade._warn_next_steps('public');
SELECT vmm_upgrade._warn_next_steps('a%b');
ROLLBACK;
-- 3. _warn_next_steps itself writes no query: its body calls no Postfix or
--    Dovecot lookup function.
SELECT prosrc ~ '(postfix_[a-z_]+_map|dovecotpassword|dovecot(quota)?user)\(' AS writes_queries
  FROM pg_proc WHERE oid = 'vmm_upgrade._warn_next_steps(name)'::regprocedure;
\c contrib_regression
DROP DATABASE vmm_t_client_queries;
