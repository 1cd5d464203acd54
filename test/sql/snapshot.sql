-- test/sql/snapshot.sql - a fingerprint of a schema's structure and rows.
--
-- Included by the pg_regress tests that must prove "nothing was changed":
-- they take t.snapshot('schema') before a failing step and compare it after.
-- Covers every relation, column, constraint, function, type, trigger,
-- privilege and owner in the schema, and every row of every table.
CREATE SCHEMA IF NOT EXISTS t;
CREATE OR REPLACE FUNCTION t.snapshot(s name) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	r record;
	acc text := '';
	rows text;
BEGIN
	SELECT string_agg(format('%s %s %s %s %s', c.relname, c.relkind, c.relowner::regrole,
	                         c.relacl, (SELECT string_agg(format('%s:%s:%s:%s:%s', a.attname,
	                                        format_type(a.atttypid, a.atttypmod), a.attnotnull,
	                                        pg_get_expr(d.adbin, d.adrelid), a.attacl), ',' ORDER BY a.attname)
	                                      FROM pg_attribute a
	                                      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
	                                     WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)),
	                  E'\n' ORDER BY c.relname)
	  INTO acc
	  FROM pg_class c WHERE c.relnamespace = s::regnamespace;
	acc := coalesce(acc, '') || coalesce((SELECT string_agg(format('%s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid)), E'\n' ORDER BY conrelid::regclass::text, conname)
	                                        FROM pg_constraint WHERE connamespace = s::regnamespace), '');
	acc := acc || coalesce((SELECT string_agg(format('%s(%s) %s %s %s', proname, pg_get_function_identity_arguments(oid),
	                                                 proowner::regrole, proacl, md5(prosrc)), E'\n'
	                                                 ORDER BY proname, pg_get_function_identity_arguments(oid))
	                          FROM pg_proc WHERE pronamespace = s::regnamespace), '');
	acc := acc || coalesce((SELECT string_agg(format('%s %s', typname, typowner::regrole), E'\n' ORDER BY typname)
	                          FROM pg_type WHERE typnamespace = s::regnamespace), '');
	acc := acc || coalesce((SELECT string_agg(tgname || ' ' || tgenabled::text, E'\n' ORDER BY c.relname, tgname)
	                          FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
	                         WHERE c.relnamespace = s::regnamespace), '');
	FOR r IN SELECT c.relname, c.relkind FROM pg_class c
	          WHERE c.relnamespace = s::regnamespace AND c.relkind IN ('r', 'S') ORDER BY 1 LOOP
		IF r.relkind = 'S' THEN
			EXECUTE format('SELECT format(%L, last_value, is_called) FROM %I.%I', '%s %s', s, r.relname)
			   INTO rows;
		ELSE
			EXECUTE format('SELECT md5(coalesce(string_agg(x::text, %L ORDER BY x::text), %L)) FROM %I.%I AS x',
			               E'\n', '', s, r.relname) INTO rows;
		END IF;
		acc := acc || E'\n' || r.relname || ' ' || rows;
	END LOOP;
	RETURN md5(acc);
END;
$$;
