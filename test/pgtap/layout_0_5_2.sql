-- test/pgtap/layout_0_5_2.sql - the 0.5.2 objects the library creates are
-- those src/layouts.tsv lists for layout 0.5.2, in one place.
--
-- Both steps into 0.5.2 (0.4 -> 0.5.2 and the way back from 0.6) create the
-- views, and the way back the optional lookup types and functions, from
-- vmm_upgrade._definitions_0_5_2 (the tables, sequences, the primary-name
-- trigger and its function are the 0.4 step's own work).  For both Dovecot
-- variants:
--   * its views are exactly the views of layout 0.5.2 in src/layouts.tsv,
--     and its lookup objects exactly the types and functions of 0.5.2+lookups;
--   * "kept" (what the way back leaves as 0.6 has it) marks exactly the views
--     whose line the layout data shares between 0.5.2 and 0.6;
--   * the client views (_client_views_0_5_2, granted by _grant_0_5_2) are
--     the views that have a service; the compatibility views over 0.6 bear
--     the names and services of the client views 0.6 does not keep.
-- Reads src/layouts.tsv from the working directory (the repository root, as
-- for the fixtures).
\set ECHO none
\set QUIET on
SET client_min_messages = warning;
\set schema l052
\set dovecot 1.2
\set lookups false
\i test/fixtures/vmm-0.5.2.sql
SET vmm_upgrade.schema = l052;
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
RESET client_min_messages;

BEGIN;
SELECT plan(11);

-- src/layouts.tsv, one row per object line (comments left out).
CREATE TEMPORARY TABLE layout_line (line text);
\copy layout_line FROM 'src/layouts.tsv' WITH (FORMAT csv, DELIMITER E'\x01', QUOTE E'\x02')
CREATE TEMPORARY VIEW layout AS
SELECT string_to_array(split_part(line, E'\t', 1), ' ') AS versions,
       string_to_array(split_part(line, E'\t', 2), ' ') AS variants,
       upper(split_part(line, E'\t', 3)) AS kind,
       split_part(split_part(line, E'\t', 4), '(', 1) AS name
  FROM layout_line
 WHERE line !~ '^#' AND line <> '';

-- The objects of the definitions, by kind and name (without arguments).
CREATE TEMPORARY VIEW definitions AS
SELECT v.variant, l.lookups, d.kind, split_part(d.object, '(', 1) AS name, d.kept
  FROM unnest(ARRAY['1.1', '1.2']) AS v(variant),
       unnest(ARRAY[false, true]) AS l(lookups),
       vmm_upgrade._definitions_0_5_2('l052', v.variant, l.lookups) AS d;

SELECT ok((SELECT count(*) FROM layout WHERE '0.5.2' = ANY (versions)) > 0,
          'src/layouts.tsv is read and lists layout 0.5.2');

SELECT set_eq(format($$SELECT kind, name FROM definitions WHERE variant = %L AND NOT lookups$$, v),
              format($$SELECT kind, name FROM layout
                        WHERE kind = 'VIEW' AND '0.5.2' = ANY (versions) AND %L = ANY (variants)$$, v),
              format('Dovecot %s: the views of _definitions_0_5_2 are those of layout 0.5.2', v))
  FROM unnest(ARRAY['1.1', '1.2']) AS v;

SELECT set_eq(format($$SELECT kind, name FROM definitions WHERE variant = %1$L AND lookups
                       EXCEPT SELECT kind, name FROM definitions WHERE variant = %1$L AND NOT lookups$$, v),
              format($$SELECT kind, name FROM layout
                        WHERE '0.5.2+lookups' = ANY (versions) AND %L = ANY (variants)$$, v),
              format('Dovecot %s: the lookup objects of _definitions_0_5_2 are those of layout 0.5.2+lookups', v))
  FROM unnest(ARRAY['1.1', '1.2']) AS v;

SELECT set_eq(format($$SELECT name FROM definitions WHERE variant = %L AND lookups AND kept$$, v),
              format($$SELECT name FROM layout
                        WHERE kind = 'VIEW' AND '0.5.2' = ANY (versions) AND '0.6' = ANY (versions)
                          AND %L = ANY (variants)$$, v),
              format('Dovecot %s: the views kept on the way back are those 0.5.2 and 0.6 share', v))
  FROM unnest(ARRAY['1.1', '1.2']) AS v;

SELECT is((SELECT count(DISTINCT (variant, lookups)) FROM definitions WHERE kind = 'VIEW' AND kept), 4::bigint,
          'kept is the same for both variants, with and without lookups');

SELECT set_eq($$SELECT view::text FROM vmm_upgrade._client_views_0_5_2()$$,
              $$SELECT name FROM definitions WHERE variant = '1.2' AND NOT lookups AND kind = 'VIEW'
                   AND name <> 'vmm_domain_info'$$,
              'the client views are the 0.5.2 views but vmm_domain_info');

SELECT set_eq($$SELECT view::text, service FROM vmm_upgrade._compatibility_view_definitions('l052', '1.2')$$,
              $$SELECT c.view::text, c.service FROM vmm_upgrade._client_views_0_5_2() AS c
                  JOIN definitions AS d ON d.name = c.view::text AND d.variant = '1.2' AND NOT d.lookups
                 WHERE NOT d.kept$$,
              'the compatibility views: the client views the way back does not keep, with their services');

SELECT throws_ok($$SELECT * FROM vmm_upgrade._definitions_0_5_2('l052', '2.0', false)$$,
                 '22023', 'unknown Dovecot variant "2.0"',
                 'an unknown Dovecot variant is refused');

SELECT * FROM finish();
ROLLBACK;
DROP EXTENSION vmm_upgrade;
