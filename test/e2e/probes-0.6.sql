-- test/e2e/probes-0.6.sql - the keys asked of a vmm 0.6 mail database
-- (the Dovecot 1.1 -> 1.2 switch), in probes.sql's format (key, kind,
-- password, transport, found) with transport and found left empty: the
-- answers before the switch are the reference.
--   psql -qXAt -v sample=3 -f test/e2e/probes-0.6.sql > probes.tsv
\if :{?sample}
\else
\set sample 3
\endif
SET client_min_messages = warning;
CREATE TEMP TABLE e2e_probe (key text, kind text, prio int, password text);
INSERT INTO e2e_probe
SELECT u.local_part || '@' || n.domainname, 'account', 1,
       CASE WHEN u.passwd LIKE '{PLAIN}%' THEN substr(u.passwd, 8) END
  FROM users u JOIN domain_name n ON n.gid = u.gid
 WHERE (n.is_primary AND u.uid % :sample = 0) OR (NOT n.is_primary AND u.uid % (2 * :sample) = 1)
    OR (u.passwd LIKE '{PLAIN}%' AND u.uid % 2 = 1);
INSERT INTO e2e_probe
SELECT a.address || '@' || n.domainname, 'alias', 2, NULL
  FROM (SELECT DISTINCT gid, address FROM alias) a JOIN domain_name n ON n.gid = a.gid AND n.is_primary;
INSERT INTO e2e_probe
SELECT r.address || '@' || n.domainname, 'relocated', 3, NULL
  FROM relocated r JOIN domain_name n ON n.gid = r.gid;
INSERT INTO e2e_probe
SELECT 'nobody.' || n.gid || '@' || n.domainname, 'unknown-local', 4, NULL FROM domain_name n;
INSERT INTO e2e_probe
SELECT k, kind, 6, NULL
  FROM domain_name n,
       LATERAL (VALUES (n.domainname, 'domain'), ('@' || n.domainname, 'at-domain')) AS v (k, kind);
COPY (
    SELECT key, kind, coalesce(password, ''), '', ''
      FROM (SELECT DISTINCT ON (key) key, kind, password FROM e2e_probe ORDER BY key, prio) AS p
     ORDER BY key COLLATE "C"
) TO STDOUT;
