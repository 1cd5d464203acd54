-- step-0.6-0.5.2.sql: the way back, vmm layout 0.6 -> 0.5.2
-- (ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2', src/scripts/update-0.6--0.5.2.sql).
--
--  * _downgrade_findings(): what a 0.6 database holds that 0.5.2 cannot, by
--    kind, counted, with a few rows named; read only;
--  * _require_downgradable(): the refusal, unless every kind found is one the
--    DBA accepts to lose (vmm_upgrade.downgrade_discard);
--  * _downgrade_0_6_to_0_5_2(): the transformation, the inverse of
--    _upgrade_0_5_2_to_0_6 (effective services and transports made explicit
--    per account);
--  * _downgrade_grants(): the 0.6 grants taken back, then the one 0.5.2
--    grant (_grant_0_5_2: SELECT on the views);
--  * _warn_downgrade_next_steps(): the 0.5.2 Postfix maps and Dovecot queries.
--
-- Every function pins search_path to pg_catalog, pg_temp and names each mail
-- object through its schema; existing mail tables are changed only through
-- vmm_upgrade._as_owner; what is created is handed over to the owner of users.

-- The kinds of 0.6 data the DBA may accept to lose (the setting
-- vmm_upgrade.downgrade_discard); the others cannot be discarded.
CREATE FUNCTION vmm_upgrade._downgrade_discardable()
RETURNS text[]
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT ARRAY['catchall', 'quota_limits', 'quota_usage', 'notes', 'maillocation_extra']
$fn$;

-- The kinds named by vmm_upgrade.downgrade_discard; an unknown kind is an
-- ERROR (a typo must not let data through, nor silently refuse).
CREATE FUNCTION vmm_upgrade._downgrade_discard_setting()
RETURNS text[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    kinds text[];
    bad   text[];
BEGIN
    SELECT coalesce(array_agg(DISTINCT k ORDER BY k), '{}'), '{}' INTO kinds, bad
      FROM (SELECT btrim(x) AS k
              FROM regexp_split_to_table(coalesce(current_setting('vmm_upgrade.downgrade_discard', true), ''), ',') AS x) AS y
     WHERE k <> '';
    SELECT coalesce(array_agg(k ORDER BY k), '{}') INTO bad
      FROM unnest(kinds) AS k WHERE NOT k = ANY (vmm_upgrade._downgrade_discardable());
    IF cardinality(bad) > 0 THEN
        RAISE EXCEPTION 'invalid value for vmm_upgrade.downgrade_discard: "%"', array_to_string(bad, ',')
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Nothing was changed.',
                  HINT = format('Kinds that may be discarded: %s.', array_to_string(vmm_upgrade._downgrade_discardable(), ', '));
    END IF;
    RETURN kinds;
END
$fn$;

-- What the 0.6 layout in <mail_schema> holds that the 0.5.2 layout cannot:
-- one row per kind found (count > 0), with up to 5 rows named (examples)
-- and whether the DBA may accept to lose it.  Read only.
CREATE FUNCTION vmm_upgrade._downgrade_findings(mail_schema name,
                                                OUT kind text, OUT what text, OUT n bigint,
                                                OUT examples text[], OUT discardable boolean)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    s     text := quote_ident(mail_schema);
    quota text := CASE WHEN vmm_upgrade._has_relation(mail_schema, 'userquota') THEN 'userquota'
                       ELSE 'userquota_11' END;
    -- kind, what, the query (%1$s the quoted mail schema, %2$s the quota
    -- table, %3$s the raw schema name): one row (count, examples) over it
    checks CONSTANT text[] := ARRAY[
    ['catchall', 'catch-all destinations', $q$
        SELECT n.domainname || ' -> ' || c.destination, n.domainname || c.destination
          FROM %1$s.catchall AS c
          JOIN %1$s.domain_name AS n ON n.gid = c.gid AND n.is_primary$q$],
    ['quota_limits', 'quota limits other than (0, 0)', $q$
        SELECT format('quotalimit %%s (%%s bytes, %%s messages)', q.qid, q.bytes, q.messages), '0' || lpad(q.qid::text, 20, '0')
          FROM %1$s.quotalimit AS q WHERE (q.qid, q.bytes, q.messages) <> (1, 0, 0)
        UNION ALL
        SELECT format('domain %%s: qid %%s', n.domainname, d.qid), '1' || n.domainname
          FROM %1$s.domain_data AS d JOIN %1$s.domain_name AS n ON n.gid = d.gid AND n.is_primary
         WHERE d.qid <> 1
        UNION ALL
        SELECT format('account %%s@%%s: qid %%s', u.local_part, n.domainname, u.qid), '2' || n.domainname || u.local_part
          FROM %1$s.users AS u JOIN %1$s.domain_name AS n ON n.gid = u.gid AND n.is_primary
         WHERE u.qid IS NOT NULL$q$],
    ['quota_usage', 'quota usage rows', $q$
        SELECT format('uid %%s', q.uid), lpad(q.uid::text, 20, '0')
          FROM %1$s.%2$I AS q$q$],
    ['notes', 'notes', $q$
        SELECT format('domain %%s', n.domainname), '1' || n.domainname
          FROM %1$s.domain_data AS d JOIN %1$s.domain_name AS n ON n.gid = d.gid AND n.is_primary
         WHERE d.note IS NOT NULL
        UNION ALL
        SELECT format('account %%s@%%s', u.local_part, n.domainname), '2' || n.domainname || u.local_part
          FROM %1$s.users AS u JOIN %1$s.domain_name AS n ON n.gid = u.gid AND n.is_primary
         WHERE u.note IS NOT NULL$q$],
    ['mailbox_formats', 'mailbox formats other than maildir', $q$
        SELECT format('maillocation %%s (%%s): %%s', l.mid, l.directory, f.format), '1' || lpad(l.mid::text, 20, '0')
          FROM %1$s.maillocation AS l JOIN %1$s.mailboxformat AS f ON f.fid = l.fid
         WHERE l.fid <> 1
        UNION ALL
        SELECT format('mailboxformat %%s (%%s)', f.fid, f.format), '2' || lpad(f.fid::text, 20, '0')
          FROM %1$s.mailboxformat AS f
         WHERE (f.fid, f.format) NOT IN ((1, 'maildir'), (2, 'mdbox'), (3, 'sdbox'))$q$],
    ['maillocation_extra', 'mail locations with extra options', $q$
        SELECT format('maillocation %%s (%%s): %%s', l.mid, l.directory, l.extra), lpad(l.mid::text, 20, '0')
          FROM %1$s.maillocation AS l WHERE l.extra IS NOT NULL$q$],
    ['maillocation_collisions', 'mail location directories used more than once (0.5.2 keeps them unique)', $q$
        SELECT format('%%s: maillocations %%s', l.directory, string_agg(l.mid::text, ', ' ORDER BY l.mid)), l.directory::text
          FROM %1$s.maillocation AS l GROUP BY l.directory HAVING count(*) > 1$q$],
    ['long_passwords', 'passwords longer than 74 characters', $q$
        SELECT format('account %%s@%%s (%%s characters)', u.local_part, n.domainname, char_length(u.passwd)),
               n.domainname || u.local_part
          FROM %1$s.users AS u JOIN %1$s.domain_name AS n ON n.gid = u.gid AND n.is_primary
         WHERE char_length(u.passwd) > 74$q$],
    ['alias_placeholders', 'alias destinations with %%n, %%d or %%= (0.5.2 delivers to them literally)', $q$
        SELECT p.line, p.domainname || p.address || p.destination
          FROM vmm_upgrade._alias_placeholders(%3$L) AS p$q$]];
    c text[];
BEGIN
    FOREACH c SLICE 1 IN ARRAY checks LOOP
        kind := c[1];
        what := replace(c[2], '%%', '%');
        EXECUTE format($q$SELECT count(*), (array_agg(x.line ORDER BY x.k))[1:5]
                            FROM (%s) AS x(line, k)$q$, format(c[3], s, quota, mail_schema))
           INTO n, examples;
        discardable := kind = ANY (vmm_upgrade._downgrade_discardable());
        IF n > 0 THEN
            RETURN NEXT;
        END IF;
    END LOOP;
END
$fn$;

-- Refuse, before anything is changed, unless 0.5.2 can hold everything in
-- <mail_schema> or the DBA accepts to lose what it cannot (discard).
-- Returns the counts of what will be discarded, as jsonb {kind: count}.
CREATE FUNCTION vmm_upgrade._require_downgradable(mail_schema name, discard text[], what text)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    f       record;
    lines   text[] := '{}';
    refused text[] := '{}';
    kept    text[] := '{}';
    lost    jsonb := '{}';
BEGIN
    FOR f IN SELECT * FROM vmm_upgrade._downgrade_findings(mail_schema) LOOP
        IF f.discardable AND f.kind = ANY (discard) THEN
            lost := lost || jsonb_build_object(f.kind, f.n);
            CONTINUE;
        END IF;
        refused := refused || f.kind;
        IF f.discardable THEN
            kept := kept || f.kind;
        END IF;
        lines := lines || format('%s: %s %s, e.g. %s%s', f.kind, f.n, f.what,
                                 array_to_string(f.examples, '; '),
                                 CASE WHEN f.n > cardinality(f.examples) THEN '; ...' ELSE '' END);
    END LOOP;
    IF cardinality(refused) > 0 THEN
        RAISE EXCEPTION 'schema "%" holds data that the vmm 0.5.2 layout cannot hold', mail_schema
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format(E'The preflight of %s found:\n%s\nNothing was changed.', what, array_to_string(lines, E'\n')),
                  HINT = CASE WHEN cardinality(kept) = cardinality(refused)
                              THEN format('To lose them, run: SET vmm_upgrade.downgrade_discard = %L; %s;',
                                          array_to_string(discard || kept, ','), what)
                              WHEN cardinality(kept) > 0
                              THEN format('Change or remove the rows of %s in vmm 0.6 first; the others may be discarded (SET vmm_upgrade.downgrade_discard = %L;).',
                                          array_to_string(array(SELECT k FROM unnest(refused) AS k WHERE NOT k = ANY (kept)), ', '),
                                          array_to_string(discard || kept, ','))
                              ELSE 'Change or remove these rows in vmm 0.6 first, then run the command again.' END;
    END IF;
    RETURN lost;
END
$fn$;

-- Do the optional 0.5.2 lookup functions come back?  Yes when the setting
-- vmm_upgrade.lookups_052 is on, or when the last update of <mail_schema>
-- from 0.5.2 to 0.6 replaced them (vmm_upgrade.history).
CREATE FUNCTION vmm_upgrade._downgrade_lookups(mail_schema name)
RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    had boolean;
BEGIN
    IF current_setting('vmm_upgrade.lookups_052', true)::boolean THEN
        RETURN true;
    END IF;
    IF to_regclass('vmm_upgrade.history') IS NULL THEN
        RETURN false;
    END IF;
    SELECT (h.details->>'lookups_replaced')::boolean INTO had
      FROM vmm_upgrade.history AS h
     WHERE h.mail_schema = _downgrade_lookups.mail_schema
       AND h.from_version = '0.5.2' AND h.to_version = '0.6'
       AND h.details->>'step' = 'update'
     ORDER BY h.id DESC LIMIT 1;
    RETURN coalesce(had, false);
END
$fn$;

-- Transforms the 0.6 layout in <mail_schema> (either Dovecot variant) into
-- the 0.5.2 layout of the same variant, data included; the inverse of
-- _upgrade_0_5_2_to_0_6.  Expects an exact 0.6 layout and the caller's
-- _require_downgradable (what is found beyond that is discarded).  Every
-- account gets its effective services (its own service set, else its
-- domain's) as the four flags and its effective transport (its own, else
-- its domain's).  lookups: also create the optional 0.5.2 lookup functions.
-- Returns what it did, as jsonb (for the history).
CREATE FUNCTION vmm_upgrade._downgrade_0_6_to_0_5_2(mail_schema name, lookups boolean)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    s        text := quote_ident(mail_schema);
    owner    name := vmm_upgrade._users_owner(mail_schema);
    variant  text := vmm_upgrade._variant_of(mail_schema, 'service_set');
    sieve    text;
    r        jsonb;
    d        record;
    n_domains bigint;
    n_domain_ssid bigint;
    n_locations bigint;
    n_tid_null bigint;
    n_dropped integer := 0;
    n_created integer := 0;
BEGIN
    -- The runner's preflight (src/library/runner.sql) has made sure of the
    -- exact 0.6 layout.
    sieve := vmm_upgrade._sieve_flag(variant);

    -- 1. The 0.6 lookup functions, then their types, and the 0.6
    --    vmm_domain_info go (no CASCADE: an object of the DBA's built on
    --    them stops the downgrade).
    FOR d IN SELECT * FROM vmm_upgrade._lookup_definitions(mail_schema, variant) AS x
              ORDER BY x.kind = 'TYPE', x.object LOOP
        EXECUTE format('DROP %s %s.%s', d.kind, s, d.object);
        n_dropped := n_dropped + 1;
    END LOOP;
    EXECUTE format('DROP VIEW %s.vmm_domain_info', s);
    n_dropped := n_dropped + 1;

    -- 2. The quota usage table (its trigger with it) and its function,
    --    and the catch-all table.
    IF variant = '1.2' THEN
        EXECUTE format('DROP TABLE %s.userquota', s);
        EXECUTE format('DROP FUNCTION %s.merge_userquota()', s);
    ELSE
        EXECUTE format('DROP TABLE %s.userquota_11', s);
        EXECUTE format('DROP FUNCTION %s.merge_userquota_11()', s);
    END IF;
    EXECUTE format('DROP TABLE %s.catchall', s);
    n_dropped := n_dropped + 5;

    -- From here on every change to an existing vmm table is made by its
    -- owner, in a security-restricted context (vmm_upgrade._as_owner).

    -- 3. users: the four service flags come back (constant defaults: no
    --    rewrite yet).
    PERFORM vmm_upgrade._as_owner(format('%s.users', s)::regclass, format($q$
        ALTER TABLE %1$s.users
            ADD COLUMN smtp boolean NOT NULL DEFAULT true,
            ADD COLUMN pop3 boolean NOT NULL DEFAULT true,
            ADD COLUMN imap boolean NOT NULL DEFAULT true,
            ADD COLUMN %2$I boolean NOT NULL DEFAULT true$q$, s, sieve));

    EXECUTE format('SELECT pg_catalog.count(*) FROM %s.users WHERE tid IS NULL', s) INTO n_tid_null;

    -- 4. users, data, in one pass: the flags of the account's service set,
    --    else of its domain's; the account's transport, else its domain's.
    r := vmm_upgrade._as_owner(format('%s.users', s)::regclass, format($q$
        WITH changed AS (
            UPDATE %1$s.users AS u
               SET smtp = ss.smtp, pop3 = ss.pop3, imap = ss.imap, %2$I = ss.%2$I,
                   tid = COALESCE(u.tid, dd.tid)
              FROM %1$s.domain_data AS dd, %1$s.service_set AS ss
             WHERE dd.gid OPERATOR(pg_catalog.=) u.gid
               AND ss.ssid OPERATOR(pg_catalog.=) COALESCE(u.ssid, dd.ssid)
            RETURNING u.ssid IS NULL AS inherited_ssid,
                      NOT (ss.smtp AND ss.pop3 AND ss.imap AND ss.%2$I) AS restricted)
        SELECT pg_catalog.jsonb_build_object(
                   'users', pg_catalog.count(*),
                   'services_inherited', pg_catalog.count(*) FILTER (WHERE inherited_ssid),
                   'services_restricted', pg_catalog.count(*) FILTER (WHERE restricted))
          FROM changed$q$, s, sieve));

    -- 5. users, structure: back to 0.5.2 (passwd narrows: the table is
    --    rewritten once, and the lengths were checked before).
    PERFORM vmm_upgrade._as_owner(format('%s.users', s)::regclass, format($q$
        ALTER TABLE %1$s.users
            DROP COLUMN ssid, DROP COLUMN qid, DROP COLUMN note,
            ALTER COLUMN passwd TYPE varchar(74),
            ALTER COLUMN tid SET DEFAULT 1,
            ALTER COLUMN tid SET NOT NULL$q$, s));

    -- 6. domain_data and maillocation: back to 0.5.2.
    EXECUTE format('SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE ssid OPERATOR(pg_catalog.<>) 1) FROM %s.domain_data', s)
       INTO n_domains, n_domain_ssid;
    PERFORM vmm_upgrade._as_owner(format('%s.domain_data', s)::regclass, format(
        'ALTER TABLE %s.domain_data DROP COLUMN qid, DROP COLUMN ssid, DROP COLUMN note', s));
    PERFORM vmm_upgrade._as_owner(format('%s.maillocation', s)::regclass, format(
        'ALTER TABLE %s.maillocation DROP COLUMN fid, DROP COLUMN extra', s));
    PERFORM vmm_upgrade._as_owner(format('%s.maillocation', s)::regclass, format(
        'ALTER TABLE %s.maillocation RENAME COLUMN directory TO maillocation', s));
    PERFORM vmm_upgrade._as_owner(format('%s.maillocation', s)::regclass, format(
        'ALTER TABLE %s.maillocation ADD CONSTRAINT ukey_maillocation UNIQUE (maillocation)', s));
    EXECUTE format('SELECT pg_catalog.count(*) FROM %s.maillocation', s) INTO n_locations;

    -- 7. The tables and sequences 0.5.2 does not have.
    EXECUTE format('DROP TABLE %1$s.service_set, %1$s.mailboxformat, %1$s.quotalimit', s);
    EXECUTE format('DROP SEQUENCE IF EXISTS %1$s.service_set_id, %1$s.mailboxformat_id, %1$s.quotalimit_id', s);
    n_dropped := n_dropped + 7;

    -- 8. The 0.5.2 views (but postfix_gid, which 0.6 has too) and, when
    --    asked, the optional lookup types and functions, handed over to the
    --    mail system.
    FOR d IN SELECT * FROM vmm_upgrade._definitions_0_5_2(mail_schema, variant, lookups) AS x
              WHERE NOT x.kept LOOP
        EXECUTE d.statement;
        PERFORM vmm_upgrade._hand_over(d.kind, s || '.' || d.object, owner);
        n_created := n_created + 1;
    END LOOP;

    RETURN r || jsonb_build_object(
        'mail_schema', mail_schema,
        'from_dovecot', variant,
        'to_dovecot', variant,
        'transport_inherited', n_tid_null,
        'lookups_created', lookups,
        'domains', n_domains,
        'domains_service_set_made_explicit', n_domain_ssid,
        'maillocations', n_locations,
        'objects_dropped', n_dropped,
        'objects_created', n_created);
END
$fn$;

-- The grants of the way back: whatever the 0.6 grants gave the Dovecot and
-- the Postfix role on the mail relations is taken back (USAGE on the
-- schema stays), then those of a vmm 0.5.2 installation are made
-- (_grant_0_5_2(name, jsonb), step-0.4-0.5.2.sql: SELECT on the views,
-- a WARNING for each role that does not exist).  Returns the statements
-- run.
CREATE FUNCTION vmm_upgrade._downgrade_grants(mail_schema name)
RETURNS text[]
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    s       text := quote_ident(mail_schema);
    role    name;
    stmts   text[] := '{}';
    stmt    text;
    relations CONSTANT text[] := ARRAY['alias', 'domain_data', 'domain_name', 'maillocation',
        'relocated', 'transport', 'users']
        || ARRAY(SELECT v.view::text FROM vmm_upgrade._client_views_0_5_2() AS v ORDER BY v.view)
        || 'vmm_domain_info'::text;
BEGIN
    FOREACH role IN ARRAY ARRAY[vmm_upgrade._configured_role('dovecot'), vmm_upgrade._configured_role('postfix')] LOOP
        IF EXISTS (SELECT FROM pg_roles r WHERE r.rolname = role) THEN
            stmts := stmts || format('REVOKE ALL ON TABLE %s FROM %I',
                                     (SELECT string_agg(s || '.' || quote_ident(x), ', ') FROM unnest(relations) AS x), role);
        END IF;
    END LOOP;
    FOREACH stmt IN ARRAY stmts LOOP
        EXECUTE stmt;
    END LOOP;
    RETURN stmts || ARRAY(SELECT jsonb_array_elements_text(vmm_upgrade._grant_0_5_2(mail_schema, NULL) -> 'statements'));
END
$fn$;

-- The WARNINGs that end the downgrade: the 0.6 lookup functions are gone,
-- Postfix and Dovecot must be given their 0.5.2 queries back.
CREATE FUNCTION vmm_upgrade._warn_downgrade_next_steps(mail_schema name, result jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    p text := CASE WHEN mail_schema = 'public' THEN ''
                   ELSE replace(quote_ident(mail_schema), '%', '%%') || '.' END;
    lookups boolean := coalesce((result->>'lookups_created')::boolean, false);
    postfix text;
    dovecot text;
BEGIN
    IF (result->>'domains_service_set_made_explicit')::bigint > 0 THEN
        RAISE WARNING '% domain% had a service set other than "all services"', result->>'domains_service_set_made_explicit',
            CASE WHEN result->>'domains_service_set_made_explicit' = '1' THEN '' ELSE 's' END
            USING DETAIL = 'Their accounts keep exactly their services (now the flags of each account); vmm 0.5.2 has no per-domain default, so accounts added later get every service.';
    END IF;
    -- The 0.5.2 queries from the one list of client queries
    -- (src/client_queries.tsv): the view named with the schema; the sender
    -- login map of 0.5.2 is the optional lookup function, with the same
    -- query as in 0.6; Dovecot's quota plugin has nothing in 0.5.2.
    SELECT string_agg(format('  %-30s %s',
                             CASE WHEN q.old_name IS NULL THEN q.setting
                                  ELSE format('%s, renamed back %s (and in main.cf)', q.setting, q.old_name)
                             END || ':',
                             CASE WHEN q.old_query IS NOT NULL
                                  THEN 'query = ' || regexp_replace(q.old_query, ' FROM ', ' FROM ' || p)
                                  WHEN lookups
                                  THEN 'query = ' || replace(q.query, '@p@', p)
                                  ELSE 'the 0.5.2 lookup functions were not created (SET vmm_upgrade.lookups_052 = on creates them): drop this map from main.cf.'
                             END),
                      E'\n' ORDER BY q.n) FILTER (WHERE q.client = 'postfix'),
           string_agg(format('  %s = %s', q.setting, regexp_replace(q.old_query, ' FROM ', ' FROM ' || p)),
                      E'\n' ORDER BY q.n) FILTER (WHERE q.client = 'dovecot' AND q.variant IS NULL)
      INTO postfix, dovecot
      FROM vmm_upgrade._client_queries() AS q;
    RAISE WARNING 'schema "%" now holds the vmm 0.5.2 layout; the 0.6 lookup functions are gone: put back the 0.5.2 Postfix maps before starting Postfix', mail_schema
        USING DETAIL = concat_ws(E'\n',
            'In the pgsql-*.cf files (hosts, user, password and dbname stay):',
            postfix,
            '  pgsql-virtual_gid_maps.cf and pgsql-virtual_mailbox_domains.cf keep querying postfix_gid.'),
              HINT = 'Then run "postfix reload" (or start Postfix).';
    RAISE WARNING 'put back the 0.5.2 Dovecot SQL queries before starting Dovecot'
        USING DETAIL = concat_ws(E'\n',
            'In dovecot-sql.conf(.ext):',
            dovecot,
            'The quota plugin has no table in 0.5.2: remove its SQL dictionary (quota usage and limits are gone).'),
              HINT = 'Put back vmm.cfg, the Postfix maps and the Dovecot queries of vmm 0.5.2 (then vmm 0.5.2 itself, and start Dovecot and Postfix) with: vmm-cfg-upgrade --revert --postfix-dir /etc/postfix --dovecot-sql /etc/dovecot/dovecot-sql.conf.ext';
END
$fn$;

-- The internal functions are for the scripts and the public functions,
-- not for everyone: they run with the caller's rights anyway, but nobody
-- else has a reason to call them.
REVOKE EXECUTE ON FUNCTION
    vmm_upgrade._require_downgradable(name, text[], text),
    vmm_upgrade._downgrade_0_6_to_0_5_2(name, boolean),
    vmm_upgrade._downgrade_grants(name),
    vmm_upgrade._warn_downgrade_next_steps(name, jsonb)
FROM PUBLIC;
