-- test/e2e/probes.sql - the keys the end-to-end test asks Postfix and
-- Dovecot about, taken from a vmm 0.5.2 mail database before its upgrade.
--
--   psql -qXAt -v sample=4 -f test/e2e/probes.sql > probes.tsv
--
-- One line per key, sorted, TSV:
--   key        what Postfix (postmap -q) and Dovecot (a login) are asked
--   kind       account | alias | relocated | unknown-local | unknown-domain
--              | domain (a bare domain name) | at-domain ("@domain", the
--              catch-all form Postfix looks up) | odd (quotes, backslash,
--              percent, an address extension ...)
--   password   the account's password where the test knows it ({PLAIN}
--              accounts, and the e2e.* accounts whose password is
--              Pw-<local part>-42), else empty
--   transport  the 0.5.2 transport of the key's domain, empty when the
--              domain is unknown (for the rule "0.6's transport map answers
--              for any address of a domain")
--   found      space-separated: the lookups for which vmm 0.5.2's views
--              hold an answer (postfix:mailbox ... dovecot:passdb:imap)
-- sample: every sample-th account by uid under its primary name (default 4),
-- every (2*sample)-th also under each alias domain name; every other alias
-- address; every relocated address; unknown local parts in every domain name.
-- sender_views: true for vmm 0.4's sender login map, which asks the views
-- (postfix_maildir UNION postfix_alias, with '%s': any key) instead of
-- 0.5.2's optional function (default false).
-- A vmm 0.4 database (table domains, one name per domain) is asked through
-- temporary views domain_name and domain_data over it (run.sh, scenario_04).
\if :{?sample}
\else
\set sample 4
\endif
\if :{?sender_views}
\else
\set sender_views false
\endif
SET client_min_messages = warning;
CREATE TEMP TABLE e2e_probe (key text, kind text, prio int, password text);

-- accounts, under the primary name and (a sample) under alias domain names
INSERT INTO e2e_probe
SELECT u.local_part || '@' || n.domainname, 'account', 1,
       CASE WHEN u.passwd LIKE '{PLAIN}%' THEN substr(u.passwd, 8)
            WHEN u.local_part LIKE 'e2e.%' THEN 'Pw-' || u.local_part || '-42' END
  FROM users u JOIN domain_name n ON n.gid = u.gid
 WHERE u.local_part LIKE 'e2e.%'
    OR (n.is_primary AND u.uid % :sample = 0)
    OR (NOT n.is_primary AND u.uid % (2 * :sample) = 1);

-- the same accounts in other letter case (Postfix folds keys, Dovecot
-- lowercases logins: both must find them)
INSERT INTO e2e_probe
SELECT initcap(u.local_part) || '@' || upper(n.domainname), 'account', 1,
       CASE WHEN u.passwd LIKE '{PLAIN}%' THEN substr(u.passwd, 8) END
  FROM users u JOIN domain_name n ON n.gid = u.gid AND n.is_primary
 WHERE u.uid % (25 * :sample) = 0;

-- alias addresses: every other one under the primary name, some under
-- alias domain names
INSERT INTO e2e_probe
SELECT a.address || '@' || n.domainname, 'alias', 2, NULL
  FROM (SELECT gid, address, row_number() OVER (ORDER BY gid, address) AS r
          FROM (SELECT DISTINCT gid, address FROM alias) AS d) AS a
  JOIN domain_name n ON n.gid = a.gid
 WHERE (n.is_primary AND a.r % 2 = 0) OR (NOT n.is_primary AND a.r % 6 = 1)
    OR a.address IN ('percent', 'legacy');

-- relocated addresses under every name
INSERT INTO e2e_probe
SELECT r.address || '@' || n.domainname, 'relocated', 3, NULL
  FROM relocated r JOIN domain_name n ON n.gid = r.gid;

-- unknown local parts in every domain name, unknown domains
INSERT INTO e2e_probe
SELECT 'nobody.' || n.gid || '@' || n.domainname, 'unknown-local', 4, NULL
  FROM domain_name n;
INSERT INTO e2e_probe
SELECT u.local_part || '@' || split_part(n.domainname, '.', 1) || '.invalid', 'unknown-domain', 5, 'x'
  FROM users u JOIN domain_name n ON n.gid = u.gid AND n.is_primary
 WHERE u.uid % (20 * :sample) = 0;
INSERT INTO e2e_probe
SELECT u.local_part || '@mail.' || n.domainname, 'unknown-domain', 5, NULL
  FROM users u JOIN domain_name n ON n.gid = u.gid AND n.is_primary
 WHERE u.uid % (50 * :sample) = 0;

-- the other keys Postfix looks up: the bare domain and "@domain"
INSERT INTO e2e_probe
SELECT k, kind, 6, NULL
  FROM domain_name n,
       LATERAL (VALUES (n.domainname, 'domain'), ('@' || n.domainname, 'at-domain')) AS v (k, kind);
INSERT INTO e2e_probe
VALUES ('example.invalid', 'unknown-domain', 6, NULL), ('@example.invalid', 'unknown-domain', 6, NULL);

-- odd keys: SQL quoting, a semicolon, a double quote, LIKE wildcards, an extension, an
-- empty local part
INSERT INTO e2e_probe
SELECT v.k, 'odd', 7, NULL
  FROM (SELECT n.domainname AS d, u.local_part AS l
          FROM users u JOIN domain_name n ON n.gid = u.gid AND n.is_primary
         ORDER BY u.uid LIMIT 1) AS a,
       LATERAL (VALUES ('o''brien@' || a.d), ('semi;colon@' || a.d), ('dq"uote@' || a.d), ('%@' || a.d),
                       ('_' || substr(a.l, 2) || '@' || a.d), (a.l || '+ext@' || a.d),
                       (a.l || '@' || a.d || ''' OR ''1''=''1'), ('x@'), ('@')) AS v (k);

-- What vmm 0.5.2's views hold for each key, in the names the answer files
-- use: the real clients' answers before the upgrade (answers A) must be
-- exactly these.  Postfix folds a key to lower case, expands %s to the
-- key, %d to its domain part (no lookup without one) and %u to its local
-- part (no lookup when empty); Dovecot lowercases the login (its default
-- auth_username_format %Lu).
CREATE TEMP TABLE e2e_found AS
SELECT p.key,
       concat_ws(' ',
         CASE WHEN EXISTS (SELECT FROM postfix_maildir v WHERE v.address = lower(p.key)) THEN 'postfix:mailbox' END,
         CASE WHEN EXISTS (SELECT FROM postfix_uid v WHERE v.address = lower(p.key)) THEN 'postfix:uid' END,
         CASE WHEN EXISTS (SELECT FROM postfix_gid v WHERE v.domainname = k.d) THEN 'postfix:gid' END,
         CASE WHEN EXISTS (SELECT FROM postfix_alias v WHERE v.address = lower(p.key)) THEN 'postfix:alias' END,
         CASE WHEN EXISTS (SELECT FROM postfix_relocated v WHERE v.address = lower(p.key)) THEN 'postfix:relocated' END,
         CASE WHEN EXISTS (SELECT FROM postfix_transport v WHERE v.address = lower(p.key)) THEN 'postfix:transport' END,
         CASE WHEN EXISTS (SELECT FROM postfix_gid v WHERE v.domainname = lower(p.key)) THEN 'postfix:domains' END,
         CASE WHEN (:sender_views
                    OR (to_regprocedure('postfix_smtpd_sender_login_map(varchar, varchar)') IS NOT NULL
                        AND k.u <> '' AND k.d <> ''))
               AND (EXISTS (SELECT FROM postfix_maildir v WHERE v.address = lower(p.key))
                    OR EXISTS (SELECT FROM postfix_alias v WHERE v.address = lower(p.key)))
              THEN 'postfix:sender_login' END,
         CASE WHEN EXISTS (SELECT FROM dovecot_user v WHERE v.userid = lower(p.key)) THEN 'dovecot:userdb' END,
         (SELECT string_agg('dovecot:passdb:' || f.key, ' ' ORDER BY f.key)
            FROM dovecot_password v, jsonb_each(to_jsonb(v)) AS f
           WHERE v."user" = lower(p.key) AND f.value = 'true'::jsonb)
       ) AS found
  FROM (SELECT DISTINCT key FROM e2e_probe) AS p,
       LATERAL (SELECT CASE WHEN position('@' IN p.key) > 0 THEN split_part(lower(p.key), '@', 1) ELSE lower(p.key) END AS u,
                       CASE WHEN position('@' IN p.key) > 0 THEN split_part(lower(p.key), '@', 2) ELSE '' END AS d) AS k;

COPY (
    SELECT p.key, p.kind, coalesce(p.password, ''), coalesce(t.transport, ''), f.found
      FROM (SELECT DISTINCT ON (key) key, kind, password FROM e2e_probe ORDER BY key, prio) AS p
      JOIN e2e_found f ON f.key = p.key
      LEFT JOIN domain_name n ON n.domainname = lower(CASE WHEN p.key LIKE '%@%'
                                                          THEN split_part(p.key, '@', 2)
                                                          ELSE p.key END)
      LEFT JOIN domain_data d ON d.gid = n.gid
      LEFT JOIN transport t ON t.tid = d.tid
     ORDER BY p.key COLLATE "C"
) TO STDOUT;
