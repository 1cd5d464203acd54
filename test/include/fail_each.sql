-- test/include/fail_each.sql - make a step fail at each of its DDL commands.
--
-- Included by the pg_regress tests that prove a step is atomic.  An event
-- trigger fails the Nth DDL command (setting t.fail_at; 0: never) with
-- "planted failure at DDL command N (TAG)" and counts them in t.ddl.
-- t.fail_each(step, schema) runs the step once to count its DDL commands
-- (and undoes it), then once failing at each of them; after each failure it
-- compares the schema (t.snapshot, test/include/snapshot.sql), the history (its
-- rows) and the extension version with what they were before.  It returns
-- the number of commands, of attempts that failed at the command planted,
-- and of attempts that left all three unchanged; any other error, or an
-- attempt that does not fail, stops it.  Each attempt of the last call is
-- in t.fail_each_log.  The caller drops the event trigger t_fail_at_nth
-- when done.
CREATE FUNCTION t.fail_at_nth() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE
	n integer := coalesce(nullif(current_setting('t.ddl', true), ''), '0')::integer + 1;
BEGIN
	PERFORM set_config('t.ddl', n::text, false);
	IF n = coalesce(nullif(current_setting('t.fail_at', true), ''), '0')::integer THEN
		RAISE EXCEPTION 'planted failure at DDL command % (%)', n, tg_tag USING ERRCODE = 'VT001';
	END IF;
END $$;
CREATE EVENT TRIGGER t_fail_at_nth ON ddl_command_end EXECUTE FUNCTION t.fail_at_nth();
-- One row per attempt of the last t.fail_each call: the command failed at,
-- its tag, the error message, and whether the schema, the history and the
-- extension version were as before.
CREATE TABLE t.fail_each_log (n integer PRIMARY KEY, command text, message text,
                              schema_unchanged boolean, history_unchanged boolean, version text);
-- (plpgsql: the extension, and its history, may come after this file)
CREATE FUNCTION t.history_state() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	RETURN (SELECT md5(coalesce(string_agg(h::text, E'\n' ORDER BY h.id), '')) FROM vmm_upgrade.history h);
END $$;
CREATE FUNCTION t.fail_each(step text, s name,
                            OUT commands integer, OUT failed integer, OUT unchanged integer)
LANGUAGE plpgsql AS $$
DECLARE
	before text := t.snapshot(s);
	history text := t.history_state();
	version text := (SELECT extversion FROM pg_extension WHERE extname = 'vmm_upgrade');
	msg text;
	r t.fail_each_log;
BEGIN
	DELETE FROM t.fail_each_log;
	BEGIN
		PERFORM set_config('t.fail_at', '0', false), set_config('t.ddl', '0', false);
		EXECUTE step;
		commands := current_setting('t.ddl')::integer;
		RAISE EXCEPTION 'undo' USING ERRCODE = 'VT002';
	EXCEPTION WHEN SQLSTATE 'VT002' THEN NULL;
	END;
	failed := 0;
	unchanged := 0;
	FOR i IN 1 .. commands LOOP
		BEGIN
			PERFORM set_config('t.fail_at', i::text, false), set_config('t.ddl', '0', false);
			EXECUTE step;
			RAISE EXCEPTION 'step did not fail at DDL command %', i;
		EXCEPTION WHEN SQLSTATE 'VT001' THEN
			GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
		END;
		r := ROW(i, substring(msg from '^planted failure at DDL command [0-9]+ \((.*)\)$'), msg,
		         t.snapshot(s) = before, t.history_state() = history,
		         (SELECT extversion FROM pg_extension WHERE extname = 'vmm_upgrade'));
		INSERT INTO t.fail_each_log SELECT r.*;
		IF msg LIKE format('planted failure at DDL command %s (%%)', i) THEN
			failed := failed + 1;
		END IF;
		IF r.schema_unchanged AND r.history_unchanged AND r.version IS NOT DISTINCT FROM version THEN
			unchanged := unchanged + 1;
		END IF;
	END LOOP;
	PERFORM set_config('t.fail_at', '0', false);
END $$;
