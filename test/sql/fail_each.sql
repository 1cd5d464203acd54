-- test/sql/fail_each.sql - make a step fail at each of its DDL commands.
--
-- Included by the pg_regress tests that prove a step is atomic.  An event
-- trigger fails the Nth DDL command (setting t.fail_at; 0: never) and counts
-- them in t.ddl.  t.fail_each(step, schema) runs the step once to count its
-- DDL commands (and undoes it), then once failing at each of them; after each
-- failure it compares the schema (t.snapshot, test/sql/snapshot.sql), the
-- history and the extension version with what they were before.  The caller
-- drops the event trigger t_fail_at_nth when done.
CREATE FUNCTION t.fail_at_nth() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE
	n integer := coalesce(nullif(current_setting('t.ddl', true), ''), '0')::integer + 1;
BEGIN
	PERFORM set_config('t.ddl', n::text, false);
	IF n = coalesce(nullif(current_setting('t.fail_at', true), ''), '0')::integer THEN
		RAISE EXCEPTION 'planted failure at DDL command %', n USING ERRCODE = 'VT001';
	END IF;
END $$;
CREATE EVENT TRIGGER t_fail_at_nth ON ddl_command_end EXECUTE FUNCTION t.fail_at_nth();
CREATE FUNCTION t.fail_each(step text, s name,
                            OUT commands integer, OUT failed integer, OUT unchanged integer)
LANGUAGE plpgsql AS $$
DECLARE
	before text := t.snapshot(s);
	history bigint := (SELECT count(*) FROM vmm_upgrade.history);
	version text := (SELECT extversion FROM pg_extension WHERE extname = 'vmm_upgrade');
BEGIN
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
			failed := failed + 1;
		END;
		IF t.snapshot(s) = before
		   AND (SELECT count(*) FROM vmm_upgrade.history) = history
		   AND (SELECT extversion FROM pg_extension WHERE extname = 'vmm_upgrade') = version THEN
			unchanged := unchanged + 1;
		END IF;
	END LOOP;
	PERFORM set_config('t.fail_at', '0', false);
END $$;
