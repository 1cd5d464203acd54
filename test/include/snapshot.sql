-- test/include/snapshot.sql - a fingerprint of a schema's structure and rows.
--
-- Included by the pg_regress tests that must prove "nothing was changed"
-- (they take t.snapshot('schema') before a failing step and compare it
-- after) and by the dump test (t.state before the dump and after the
-- restore).  t.state covers every relation, column, constraint, view,
-- function, type, trigger, privilege and owner in the schema and the schema
-- itself, and every row of every table and every sequence's position,
-- without what a restore renumbers (OIDs in the names of internal triggers);
-- a default ACL counts the same whether spelt out or NULL.
CREATE SCHEMA IF NOT EXISTS t;
CREATE OR REPLACE FUNCTION t.state(s name) RETURNS text LANGUAGE plpgsql AS $f$
-- Structure, owners, privileges, definitions and rows of schema s, without
-- what a restore renumbers (OIDs in the names of internal triggers); a
-- default ACL counts the same whether spelt out or NULL.
DECLARE
    acc text;
    r record;
    rows text;
BEGIN
    SELECT string_agg(x, E'\n' ORDER BY x) INTO acc FROM (
        SELECT format('rel %s %s %s %s', c.relname, c.relkind, c.relowner::regrole,
                      coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) AS x
          FROM pg_class c WHERE c.relnamespace = s::regnamespace
        UNION ALL
        SELECT format('col %s.%s %s %s %s %s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                      a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attacl)
          FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
          LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
         WHERE c.relnamespace = s::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
        UNION ALL
        SELECT format('con %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) FROM pg_constraint
         WHERE connamespace = s::regnamespace
        UNION ALL
        SELECT format('view %s %s', c.relname, pg_get_viewdef(c.oid)) FROM pg_class c
         WHERE c.relnamespace = s::regnamespace AND c.relkind = 'v'
        UNION ALL
        SELECT format('fn %s %s %s %s', p.oid::regprocedure, p.proowner::regrole, p.proacl,
                      md5(pg_get_functiondef(p.oid))) FROM pg_proc p WHERE p.pronamespace = s::regnamespace
        UNION ALL
        SELECT format('type %s %s', t.typname, t.typowner::regrole) FROM pg_type t
         WHERE t.typnamespace = s::regnamespace
        UNION ALL
        SELECT format('trigger %s %s', pg_get_triggerdef(t.oid), t.tgenabled) FROM pg_trigger t
          JOIN pg_class c ON c.oid = t.tgrelid
         WHERE c.relnamespace = s::regnamespace AND NOT t.tgisinternal
        UNION ALL
        SELECT format('schema %s %s', n.nspowner::regrole, n.nspacl) FROM pg_namespace n WHERE n.nspname = s) AS o;
    FOR r IN SELECT c.relname, c.relkind FROM pg_class c
              WHERE c.relnamespace = s::regnamespace AND c.relkind IN ('r', 'S') ORDER BY 1 LOOP
        IF r.relkind = 'S' THEN
            EXECUTE format('SELECT format(%L, last_value, is_called) FROM %I.%I', '%s %s', s, r.relname) INTO rows;
        ELSE
            EXECUTE format('SELECT md5(coalesce(string_agg(x::text, %L ORDER BY x::text), %L)) FROM %I.%I AS x',
                           E'\n', '', s, r.relname) INTO rows;
        END IF;
        acc := acc || E'\n' || r.relname || ' ' || rows;
    END LOOP;
    RETURN acc;
END
$f$;

CREATE OR REPLACE FUNCTION t.snapshot(s name) RETURNS text
LANGUAGE sql AS $$ SELECT md5(t.state(s)) $$;
