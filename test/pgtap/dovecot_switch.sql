-- test/pgtap/dovecot_switch.sql - the two ways to the Dovecot >= 1.2 variant
-- make the same objects:
--   * a 0.6 database of the Dovecot 1.1 variant switched by
--     vmm_upgrade.upgrade_dovecot_layout() (schema by_switch), and
--   * a 0.5.2 database of the Dovecot 1.1 variant taken to 0.6 by
--     ALTER EXTENSION vmm_upgrade UPDATE with vmm_upgrade.dovecot_version
--     = '2.3.19' (schema by_update),
-- each as a DBA runs it (the update with its grant step; the switch after
-- set_permissions for the same roles).  Compared, schema name aside: table
-- userquota (columns, constraints, indexes, triggers, owner, privileges),
-- the merge trigger and its function, the columns, constraints and
-- sequences of service_set, every function of the schema (its definition
-- with the body, owner, privileges) and every composite type (attributes,
-- owner, privileges), dovecotpassword among them.  Then the merge trigger
-- the switch installs behaves as Dovecot's dict quota needs.
\set ECHO none
\set QUIET on
SET client_min_messages = warning;
BEGIN;
\set schema by_update
\set dovecot 1.1
\set lookups true
\i test/fixtures/vmm-0.5.2.sql
\set schema by_switch
\set dovecot 1.1
\set release 0.6.2
\i test/fixtures/vmm-0.6.sql
SET search_path = by_switch, pg_catalog;
INSERT INTO by_switch.domain_data (gid, domaindir) VALUES (70000, '/srv/mail/0');
INSERT INTO by_switch.domain_name VALUES ('example.org', 70000, true);
INSERT INTO by_switch.users (local_part, passwd, uid, gid) VALUES ('ann', '{PLAIN}a', 70000, 70000), ('bob', '{PLAIN}b', 70001, 70000);
INSERT INTO by_switch.userquota_11 VALUES (70000, 'quota/storage', 100), (70000, 'quota/messages', 2);
RESET search_path;

CREATE ROLE regress_vmm_tap_sw_dovecot;
CREATE ROLE regress_vmm_tap_sw_postfix;
-- The mail system belongs to a role of its own, so that owners are facts.
CREATE ROLE regress_vmm_tap_sw_owner;
DO $$
DECLARE
    o record;
BEGIN
    FOR o IN SELECT format('ALTER SCHEMA %I OWNER TO regress_vmm_tap_sw_owner', n.nspname) AS stmt
               FROM pg_namespace n WHERE n.nspname IN ('by_update', 'by_switch')
             UNION ALL
             SELECT format('ALTER %s %s OWNER TO regress_vmm_tap_sw_owner',
                           CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END, c.oid::regclass)
               FROM pg_class c WHERE c.relnamespace IN ('by_update'::regnamespace, 'by_switch'::regnamespace)
                AND c.relkind IN ('r', 'S', 'v')
             UNION ALL
             SELECT format('ALTER FUNCTION %s OWNER TO regress_vmm_tap_sw_owner', p.oid::regprocedure)
               FROM pg_proc p WHERE p.pronamespace IN ('by_update'::regnamespace, 'by_switch'::regnamespace)
             UNION ALL
             SELECT format('ALTER TYPE %s OWNER TO regress_vmm_tap_sw_owner', t.oid::regtype)
               FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid
              WHERE t.typnamespace IN ('by_update'::regnamespace, 'by_switch'::regnamespace) AND c.relkind = 'c'
    LOOP
        EXECUTE o.stmt;
    END LOOP;
END $$;
SET vmm_upgrade.dovecot_role = regress_vmm_tap_sw_dovecot;
SET vmm_upgrade.postfix_role = regress_vmm_tap_sw_postfix;
SET client_min_messages = error;
-- The update: 0.5.2, Dovecot 1.1 -> 0.6, Dovecot >= 1.2, grants included.
SET vmm_upgrade.schema = by_update;
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
SET vmm_upgrade.dovecot_version = '2.3.19';
ALTER EXTENSION vmm_upgrade UPDATE;
RESET vmm_upgrade.dovecot_version;
DROP EXTENSION vmm_upgrade;
-- The switch: 0.6, Dovecot 1.1, with the roles' privileges -> Dovecot >= 1.2.
SET vmm_upgrade.schema = by_switch;
CREATE EXTENSION vmm_upgrade;
DO $$
BEGIN
    PERFORM * FROM vmm_upgrade.set_permissions();
    PERFORM vmm_upgrade.upgrade_dovecot_layout();
END $$;
RESET client_min_messages;

-- What the comparisons compare: one row per fact about an object of schema
-- s, the schema's name written @s@.  Privileges as sorted lists (the order
-- of grants is no fact), NULL (the default) spelt out.
CREATE FUNCTION pg_temp.acl(a aclitem[], owner oid, kind "char") RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(x, ' ' ORDER BY x)
      FROM aclexplode(coalesce(a, acldefault(kind, owner))) AS e,
           format('%s:%s:%s%s', e.grantor::regrole, CASE e.grantee WHEN 0 THEN 'PUBLIC' ELSE e.grantee::regrole::text END,
                  e.privilege_type, CASE WHEN e.is_grantable THEN '*' ELSE '' END) AS x
$$;
CREATE FUNCTION pg_temp.facts(s name, OUT kind text, OUT object text, OUT fact text) RETURNS SETOF record
LANGUAGE sql AS $$
    WITH rel AS (SELECT c.* FROM pg_class c
                  WHERE c.relnamespace = s::regnamespace AND c.relname IN ('userquota', 'service_set')),
         seq AS (SELECT c.* FROM pg_class c JOIN pg_depend d ON d.objid = c.oid AND d.classid = 'pg_class'::regclass
                  WHERE c.relkind = 'S' AND d.refclassid = 'pg_class'::regclass AND d.refobjid IN (SELECT oid FROM rel)
                 UNION
                 SELECT c.* FROM pg_class c
                  WHERE c.relkind = 'S' AND c.relnamespace = s::regnamespace AND EXISTS (
                        SELECT FROM pg_attrdef ad WHERE ad.adrelid IN (SELECT oid FROM rel)
                           AND pg_get_expr(ad.adbin, ad.adrelid) LIKE '%' || c.relname || '%')),
         fn AS (SELECT p.* FROM pg_proc p WHERE p.pronamespace = s::regnamespace),
         ty AS (SELECT t.* FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid
                 WHERE t.typnamespace = s::regnamespace AND c.relkind = 'c')
    SELECT x.kind, replace(x.object, s, '@s@'), replace(x.fact, s, '@s@') FROM (
        SELECT 'table', r.relname::text,
               format('kind %s, owner %s, persistence %s, options %s, rls %s, privileges %s',
                      r.relkind, r.relowner::regrole, r.relpersistence, r.reloptions, r.relrowsecurity,
                      pg_temp.acl(r.relacl, r.relowner, 'r'))
          FROM rel r
        UNION ALL
        SELECT 'column', r.relname || '.' || a.attname,
               format('#%s %s, not null %s, default %s, collation %s, privileges %s',
                      a.attnum, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                      pg_get_expr(ad.adbin, ad.adrelid), a.attcollation::regcollation,
                      CASE WHEN a.attacl IS NOT NULL THEN pg_temp.acl(a.attacl, r.relowner, 'c') END)
          FROM rel r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
          LEFT JOIN pg_attrdef ad ON ad.adrelid = r.oid AND ad.adnum = a.attnum
        UNION ALL
        SELECT 'constraint', r.relname || '.' || co.conname,
               format('%s %s deferrable %s deferred %s', co.contype, pg_get_constraintdef(co.oid),
                      co.condeferrable, co.condeferred)
          FROM rel r JOIN pg_constraint co ON co.conrelid = r.oid
        UNION ALL
        SELECT 'index', r.relname || '.' || i.relname, pg_get_indexdef(i.oid) || ' owner ' || i.relowner::regrole
          FROM rel r JOIN pg_index x ON x.indrelid = r.oid JOIN pg_class i ON i.oid = x.indexrelid
        UNION ALL
        SELECT 'trigger', r.relname || '.' || tg.tgname,
               format('%s enabled %s function %s', pg_get_triggerdef(tg.oid), tg.tgenabled, tg.tgfoid::regprocedure)
          FROM rel r JOIN pg_trigger tg ON tg.tgrelid = r.oid AND NOT tg.tgisinternal
        UNION ALL
        SELECT 'sequence', q.relname::text,
               format('type %s, start %s, increment %s, min %s, max %s, cache %s, cycle %s, owner %s, privileges %s',
                      sq.seqtypid::regtype, sq.seqstart, sq.seqincrement, sq.seqmin, sq.seqmax, sq.seqcache,
                      sq.seqcycle, q.relowner::regrole, pg_temp.acl(q.relacl, q.relowner, 's'))
          FROM seq q JOIN pg_sequence sq ON sq.seqrelid = q.oid
        UNION ALL
        SELECT 'function', p.oid::regprocedure::text,
               format(E'owner %s, privileges %s\n%s', p.proowner::regrole, pg_temp.acl(p.proacl, p.proowner, 'f'),
                      pg_get_functiondef(p.oid))
          FROM fn p
        UNION ALL
        SELECT 'type', t.typname::text,
               format('owner %s, privileges %s, attributes %s', t.typowner::regrole,
                      pg_temp.acl(t.typacl, t.typowner, 'T'),
                      (SELECT string_agg(format('%s %s', a.attname, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY a.attnum)
                         FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped))
          FROM ty t
    ) AS x (kind, object, fact)
$$;
CREATE TEMP TABLE facts AS
SELECT 'by_update'::name AS s, f.* FROM pg_temp.facts('by_update') AS f
UNION ALL
SELECT 'by_switch', f.* FROM pg_temp.facts('by_switch') AS f;
CREATE FUNCTION pg_temp.same(k text, description text) RETURNS SETOF text LANGUAGE sql AS $$
    SELECT * FROM set_eq(format('SELECT object, fact FROM facts WHERE s = %L AND kind = %L', 'by_switch', k),
                         format('SELECT object, fact FROM facts WHERE s = %L AND kind = %L', 'by_update', k),
                         description)
$$;

SELECT plan(24);

SELECT is_empty($$SELECT * FROM vmm_upgrade.check_layout('0.6', '1.2', 'by_update')$$, 'the 0.5.2 -> 0.6 update gives the exact 1.2 layout');
SELECT is_empty($$SELECT * FROM vmm_upgrade.check_layout('0.6', '1.2', 'by_switch')$$, 'the switch gives the exact 1.2 layout');

-- Something to compare: each kind of fact is there, for what the switch makes.
SELECT is((SELECT array_agg(DISTINCT kind ORDER BY kind) FROM facts WHERE s = 'by_switch'),
          ARRAY['column', 'constraint', 'function', 'index', 'sequence', 'table', 'trigger', 'type'],
          'facts of every kind are compared');
SELECT is((SELECT count(*)::integer FROM vmm_upgrade._lookup_objects_0_6() AS l
            WHERE EXISTS (SELECT FROM facts f
                           WHERE f.s = 'by_switch' AND f.kind = lower(l.kind)
                             AND f.object = CASE l.kind
                                 WHEN 'FUNCTION' THEN replace(to_regprocedure('by_switch.' || l.object)::text, 'by_switch', '@s@')
                                 ELSE l.object END)),
          (SELECT count(*)::integer FROM vmm_upgrade._lookup_objects_0_6()),
          'every lookup function and type is among them');
SELECT ok((SELECT fact FROM facts WHERE s = 'by_switch' AND kind = 'column' AND object = 'service_set.sieve') IS NOT NULL
          AND (SELECT fact FROM facts WHERE s = 'by_switch' AND kind = 'trigger' AND object = 'userquota.mergeuserquota') IS NOT NULL
          AND (SELECT fact FROM facts WHERE s = 'by_switch' AND kind = 'type' AND object = 'dovecotpassword') LIKE '%, sieve boolean',
          'service_set.sieve, the merge trigger and dovecotpassword''s sieve attribute are among them');
SELECT ok((SELECT fact FROM facts WHERE s = 'by_switch' AND kind = 'table' AND object = 'userquota')
          ~ ':regress_vmm_tap_sw_dovecot:DELETE .*:regress_vmm_tap_sw_dovecot:INSERT .*:regress_vmm_tap_sw_dovecot:SELECT .*:regress_vmm_tap_sw_dovecot:UPDATE',
          'the privileges compared: Dovecot may use userquota');
SELECT ok((SELECT fact FROM facts WHERE s = 'by_switch' AND kind = 'table' AND object = 'service_set')
          ~ ':regress_vmm_tap_sw_dovecot:SELECT', 'and read service_set');

-- The same objects.
SELECT pg_temp.same('table', 'userquota and service_set: the same tables (owner, privileges)');
SELECT pg_temp.same('column', 'the same columns (userquota; service_set with sieve), defaults and privileges');
SELECT pg_temp.same('constraint', 'the same constraints');
SELECT pg_temp.same('index', 'the same indexes');
SELECT pg_temp.same('trigger', 'the same triggers, the merge trigger on userquota among them');
SELECT pg_temp.same('sequence', 'the same sequences');
SELECT pg_temp.same('function', 'the same functions: definitions, bodies, owners, privileges');
SELECT pg_temp.same('type', 'the same composite types (dovecotpassword with sieve among them)');
SELECT is((SELECT fact FROM facts WHERE s = 'by_switch' AND kind = 'function' AND object = '@s@.merge_userquota()'),
          (SELECT fact FROM facts WHERE s = 'by_update' AND kind = 'function' AND object = '@s@.merge_userquota()'),
          'merge_userquota() is the one the 0.5.2 -> 0.6 update creates');
SELECT is((SELECT relowner::regrole::text FROM pg_class WHERE oid = 'by_switch.userquota'::regclass),
          (SELECT relowner::regrole::text FROM pg_class WHERE oid = 'by_switch.users'::regclass),
          'userquota is owned by the owner of users');
SELECT is((SELECT count(*)::integer FROM facts WHERE s = 'by_switch' AND fact ~ '\mowner regress_vmm_tap_sw_owner\M'),
          (SELECT count(*)::integer FROM facts WHERE s = 'by_switch' AND kind IN ('table', 'index', 'sequence', 'function', 'type')),
          'every object compared belongs to the owner of the mail system');
SELECT is((SELECT count(*)::integer FROM pg_depend d
            WHERE d.deptype = 'e' AND d.classid IN ('pg_class'::regclass, 'pg_proc'::regclass, 'pg_type'::regclass)
              AND d.objid IN (SELECT oid FROM pg_class WHERE relnamespace = 'by_switch'::regnamespace
                              UNION ALL SELECT oid FROM pg_proc WHERE pronamespace = 'by_switch'::regnamespace
                              UNION ALL SELECT oid FROM pg_type WHERE typnamespace = 'by_switch'::regnamespace)),
          0, 'nothing the switch made belongs to the extension');

-- The merge trigger after the switch: deltas add up, a first delta makes
-- the row, a uid without an account counts nothing (and is no error).
SELECT results_eq($$SELECT uid, bytes, messages FROM by_switch.userquota ORDER BY uid$$,
                  $$VALUES (70000::bigint, 100::bigint, 2)$$, 'carried: 100 bytes, 2 messages');
INSERT INTO by_switch.userquota (uid, bytes, messages) VALUES (70000, 50, 1);
SELECT results_eq($$SELECT bytes, messages FROM by_switch.userquota WHERE uid = 70000$$,
                  $$VALUES (150::bigint, 3)$$, 'a delta is added to the carried row');
INSERT INTO by_switch.userquota (uid, bytes, messages) VALUES (70001, 7, 0);
SELECT results_eq($$SELECT bytes, messages FROM by_switch.userquota WHERE uid = 70001$$,
                  $$VALUES (7::bigint, 0)$$, 'a first delta makes the row');
SELECT lives_ok($$INSERT INTO by_switch.userquota (uid, bytes, messages) VALUES (99999, 1, 1)$$,
                'a delta for a uid without an account is no error');
SELECT is((SELECT count(*)::integer FROM by_switch.userquota WHERE uid = 99999), 0, 'and counts nothing');

SELECT * FROM finish();
ROLLBACK;
