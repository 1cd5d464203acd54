-- vmm_upgrade: the extension's own objects, the same in every version.
--
-- This part starts every install script (vmm_upgrade--VERSION.sql); the
-- version's adoption check (src/scripts/adopt-VERSION.sql) follows it.  Nothing
-- here touches the mail schema.

\echo Use "CREATE EXTENSION vmm_upgrade" to load this file. \quit

-- Scripts run as superuser over a schema that others may write: resolve
-- every name through pg_catalog first.  (The extension's own schema comes
-- next, so that its objects are found; mail objects are always qualified.)
SET LOCAL search_path = pg_catalog, vmm_upgrade, pg_temp;

------------------------------------------------------------------------------
-- The validator (C, src/layout.c)
------------------------------------------------------------------------------

-- The schema that holds the mail layout: mail_schema if given, else the
-- setting vmm_upgrade.schema (default public).  An error if it does not exist.
CREATE FUNCTION vmm_upgrade.mail_schema(mail_schema name DEFAULT NULL)
RETURNS name
LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'vmm_upgrade_mail_schema';

COMMENT ON FUNCTION vmm_upgrade.mail_schema(name) IS
'the schema that holds the vmm mail layout: the argument, else the setting vmm_upgrade.schema (default public)';

-- The release of vmm_upgrade whose code this is (the file VERSION, filled
-- in by the Makefile).  Extension versions are layout names (0.5.2, 0.6.0,
-- 0.6) or a layout name with the release that brought its code
-- (0.6+@RELEASE@): see the README, "Versions and releases".
CREATE FUNCTION vmm_upgrade.release()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN '@RELEASE@';

COMMENT ON FUNCTION vmm_upgrade.release() IS
'the release of vmm_upgrade whose code is installed';

-- The layout an extension version names: the version without "+release".
CREATE FUNCTION vmm_upgrade._layout_of(version text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN pg_catalog.split_part(version, '+', 1);

-- Which known layout the mail schema holds.  (PARALLEL UNSAFE: the
-- validator reads the catalogs in a subtransaction, retried when the schema
-- changes under it, and sets search_path for the duration of the call.)
CREATE FUNCTION vmm_upgrade.detect_layout(
	mail_schema name DEFAULT NULL,
	OUT mail_schema name,
	OUT version text,
	OUT dovecot text,
	OUT lookups boolean)
RETURNS record
LANGUAGE c STABLE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'vmm_upgrade_detect_layout';

COMMENT ON FUNCTION vmm_upgrade.detect_layout(name) IS
'the vmm layout a schema holds: version none, 0.4, 0.5.2, 0.6 or unknown; the Dovecot variant (1.1 or 1.2); whether the lookup functions are installed';

-- How the mail schema deviates from a named layout; no rows: it is exact.
CREATE FUNCTION vmm_upgrade.check_layout(
	version text,
	dovecot text DEFAULT NULL,
	mail_schema name DEFAULT NULL,
	OUT object text,
	OUT problem text)
RETURNS SETOF record
LANGUAGE c STABLE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'vmm_upgrade_check_layout';

COMMENT ON FUNCTION vmm_upgrade.check_layout(text, text, name) IS
'one row per deviation of a schema from vmm layout VERSION (0.4, 0.5.2 or 0.6; 0.4-r41 or 0.4-release for one form of 0.4) of Dovecot variant DOVECOT (1.1 or 1.2, NULL: the one the schema has); no rows: exact';

-- The lines of a listing for a message: sorted, one a line, the first
-- shown of them, then how many more there are.
CREATE FUNCTION vmm_upgrade._list(lines text[], shown integer DEFAULT 10)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT pg_catalog.string_agg(x.l, E'\n' ORDER BY x.l)
           OPERATOR(pg_catalog.||)
           CASE WHEN pg_catalog.cardinality(lines) OPERATOR(pg_catalog.>) shown
                THEN pg_catalog.format(E'\n... and %s more.', pg_catalog.cardinality(lines) OPERATOR(pg_catalog.-) shown)
                ELSE '' END
      FROM (SELECT l FROM pg_catalog.unnest(lines) AS l ORDER BY l LIMIT shown) AS x
$fn$;

-- Fail, with the deviations in DETAIL, unless the mail schema holds exactly
-- the named layout.  Every script calls this before it changes anything and
-- after; "context" says which step asked, for the message.
CREATE FUNCTION vmm_upgrade.require_layout(
	version text,
	dovecot text,
	mail_schema name,
	context text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	shown CONSTANT integer := 20;
	total integer;
	listing text;
BEGIN
	SELECT count(*)::integer,
	       string_agg(format('%s: %s', c.object, c.problem), E'\n' ORDER BY c.object, c.problem)
	         FILTER (WHERE c.n <= shown)
	  INTO total, listing
	  FROM (SELECT d.object, d.problem,
	               row_number() OVER (ORDER BY d.object, d.problem) AS n
	          FROM vmm_upgrade.check_layout(version, dovecot, mail_schema) AS d) AS c;

	IF total > 0 THEN
		RAISE EXCEPTION '%schema "%" does not hold vmm layout % (Dovecot % variant)',
			coalesce(context || ': ', ''), mail_schema, version, coalesce(dovecot, 'any')
		USING ERRCODE = 'object_not_in_prerequisite_state',
		      DETAIL = format('%s deviation%s: %s%s', total,
		                      CASE WHEN total = 1 THEN '' ELSE 's' END,
		                      E'\n' || listing,
		                      CASE WHEN total > shown
		                           THEN format(E'\n... and %s more.', total - shown) ELSE '' END),
		      HINT = format('Nothing was changed. Run SELECT * FROM vmm_upgrade.check_layout(%L, %L, %L) for the full list.',
		                    version, dovecot, mail_schema);
	END IF;
END;
$$;

COMMENT ON FUNCTION vmm_upgrade.require_layout(text, text, name, text) IS
'raise an error listing the deviations unless the schema holds exactly the named layout';

-- Which form of vmm 0.4 the mail schema holds: 'release' (vmm 0.4 as
-- released: users.smpt, no view dovecot_password), 'r41' (vmm 0.4-r41), or
-- NULL when it holds neither exactly.
CREATE FUNCTION vmm_upgrade._form_0_4(mail_schema name)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT CASE WHEN NOT EXISTS (SELECT FROM vmm_upgrade.check_layout('0.4-r41', NULL, mail_schema)) THEN 'r41'
                WHEN NOT EXISTS (SELECT FROM vmm_upgrade.check_layout('0.4-release', NULL, mail_schema)) THEN 'release'
           END
$fn$;

------------------------------------------------------------------------------
-- Running the mail owner's code safely (C, src/sandbox.c)
------------------------------------------------------------------------------

-- Execute one statement (ALTER TABLE, UPDATE, ...) on a mail table as the
-- owner of relation rel, in a security-restricted context: the triggers,
-- CHECK and index expressions and rules of that owner run with the owner's
-- rights, never with ours, and cannot SET ROLE their way back.  Returns the
-- first column of the first row when it is jsonb.  For the scripts only.
CREATE FUNCTION vmm_upgrade._as_owner(rel regclass, statement text)
RETURNS jsonb
LANGUAGE c VOLATILE STRICT
AS 'MODULE_PATHNAME', 'vmm_upgrade_as_owner';

REVOKE EXECUTE ON FUNCTION vmm_upgrade._as_owner(regclass, text) FROM PUBLIC;

-- ACCESS EXCLUSIVE on exactly one relation (LOCK TABLE on a view would lock
-- the tables its query reads too, in the query's order).  For the scripts.
CREATE FUNCTION vmm_upgrade._lock_relation(rel regclass)
RETURNS void
LANGUAGE c VOLATILE STRICT
AS 'MODULE_PATHNAME', 'vmm_upgrade_lock_relation';

REVOKE EXECUTE ON FUNCTION vmm_upgrade._lock_relation(regclass) FROM PUBLIC;

-- The schema vmm_upgrade.schema names (public when empty), whether or not it
-- exists; an ERROR when the name is longer than PostgreSQL keeps.
CREATE FUNCTION vmm_upgrade._schema_setting()
RETURNS name
LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'vmm_upgrade_schema_setting';

-- The Dovecot variant ('1.1' or '1.2') a Dovecot version needs, read as
-- "dovecot --version" prints it (its first word counts); an ERROR for
-- anything else.  The one reader of vmm_upgrade.dovecot_version.
CREATE FUNCTION vmm_upgrade._dovecot_variant(version text)
RETURNS text
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'vmm_upgrade_dovecot_variant';

------------------------------------------------------------------------------
-- History of the steps taken
------------------------------------------------------------------------------

-- One row per adoption or update.  The table is not a member of the
-- extension: DROP EXTENSION vmm_upgrade leaves it (it is the only record of
-- where the mail database came from), a later CREATE EXTENSION goes on
-- writing to it, and pg_dump dumps it like any table.  So that a restore
-- (which creates the extension before it restores the tables) does not find
-- it already there, it is created by the first step that writes to it, not
-- by the install script.  What each column means, for every kind of step:
-- README "The history" (the one place).
CREATE FUNCTION vmm_upgrade._history_table()
RETURNS regclass
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	IF to_regclass('vmm_upgrade.history') IS NULL THEN
		CREATE TABLE vmm_upgrade.history (
			id bigserial PRIMARY KEY,
			mail_schema name NOT NULL,
			from_version text,
			to_version text NOT NULL,
			from_dovecot text,
			to_dovecot text,
			started_at timestamptz NOT NULL DEFAULT transaction_timestamp(),
			duration interval,
			users_changed bigint,
			domains_changed bigint,
			performed_by name NOT NULL DEFAULT session_user,
			details jsonb,
			release text
		);
		COMMENT ON TABLE vmm_upgrade.history IS
		'what vmm_upgrade did to the mail schema: one row per adoption or update (kept by DROP EXTENSION)';
	END IF;
	-- A history from release 1.0.0 has no release column yet.
	IF NOT EXISTS (SELECT FROM pg_attribute a
	                WHERE a.attrelid = 'vmm_upgrade.history'::regclass
	                  AND a.attname = 'release' AND NOT a.attisdropped) THEN
		ALTER TABLE vmm_upgrade.history ADD COLUMN release text;
	END IF;
	-- Created inside an extension script, it became a member: undo that.
	IF EXISTS (SELECT FROM pg_depend d
	            WHERE d.classid = 'pg_class'::regclass
	              AND d.objid = 'vmm_upgrade.history'::regclass
	              AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e') THEN
		ALTER EXTENSION vmm_upgrade DROP TABLE vmm_upgrade.history;
		ALTER EXTENSION vmm_upgrade DROP SEQUENCE vmm_upgrade.history_id_seq;
	END IF;
	RETURN 'vmm_upgrade.history'::regclass;
END
$fn$;

-- The one writer of vmm_upgrade.history (the adoption, the refresh and the
-- step runner, src/library/runner.sql, call it).  started NULL: an adoption
-- (the transaction's start, no duration); else the step's start, and the
-- time since then as its duration.  The versions are layout names.
CREATE FUNCTION vmm_upgrade._record(mail_schema name, from_version text, to_version text,
                                    from_dovecot text, to_dovecot text, started timestamptz,
                                    users_changed bigint, domains_changed bigint, details jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	PERFORM vmm_upgrade._history_table();
	INSERT INTO vmm_upgrade.history (mail_schema, from_version, to_version, from_dovecot,
	                                 to_dovecot, started_at, duration, users_changed,
	                                 domains_changed, details, release)
	VALUES (mail_schema, from_version, to_version, from_dovecot, to_dovecot,
	        coalesce(started, transaction_timestamp()), clock_timestamp() - started,
	        users_changed, domains_changed, details, vmm_upgrade.release());
END
$fn$;

REVOKE EXECUTE ON FUNCTION vmm_upgrade._history_table(),
    vmm_upgrade._record(name, text, text, text, text, timestamptz, bigint, bigint, jsonb) FROM PUBLIC;

------------------------------------------------------------------------------
-- Adoption: what every install script does with the mail schema
------------------------------------------------------------------------------

-- Check that the mail schema holds the layout of the version being installed,
-- and say precisely what to do when it does not.  Changes nothing in the mail
-- schema.  "wanted" is the extension version: 0.4, 0.5.2, 0.6.0 or 0.6.
CREATE FUNCTION vmm_upgrade._adopt(wanted text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	mail_schema name := vmm_upgrade._schema_setting();
	structure text := CASE WHEN wanted IN ('0.4', '0.5.2') THEN wanted ELSE '0.6' END;
	layout record;
	deviations integer;
	defects jsonb;
	defect_list text;
	transport_users bigint;
BEGIN
	-- A pg_dump restore creates the extension before the mail tables, at the
	-- default version; that must succeed and change nothing.
	IF to_regnamespace(quote_ident(mail_schema)) IS NULL OR
	   (SELECT d.version FROM vmm_upgrade.detect_layout(mail_schema) AS d) = 'none' THEN
		IF structure = '0.6' AND wanted = '0.6' THEN
			RAISE WARNING 'schema "%" holds no vmm objects: nothing was checked', mail_schema
			USING DETAIL = 'This is expected while pg_restore or psql replays a dump: the mail tables are restored after the extension, which a dump always recreates at its default version.',
			      HINT = 'After a restore, run ALTER EXTENSION vmm_upgrade UPDATE; it says what to type if the dump was taken before an update. If the vmm tables live in another schema, DROP EXTENSION vmm_upgrade, SET vmm_upgrade.schema to that schema and create the extension again.';
			RETURN;
		END IF;
		RAISE EXCEPTION 'schema "%" holds no vmm objects', mail_schema
		USING ERRCODE = 'undefined_table',
		      DETAIL = format('vmm_upgrade %s adopts a database that already holds the vmm %s layout.', wanted, wanted),
		      HINT = 'Set vmm_upgrade.schema to the schema that holds the vmm tables before CREATE EXTENSION.';
	END IF;

	SELECT * INTO layout FROM vmm_upgrade.detect_layout(mail_schema);

	IF layout.version = structure THEN
		-- A 0.6 layout may still carry the vmm 0.6.0 defects (step-0.6.0-0.6.sql):
		-- version 0.6 refuses it, version 0.6.0 adopts it and its update to
		-- 0.6 fixes them.
		IF structure = '0.6' THEN
			SELECT jsonb_object_agg(d.defect, jsonb_build_object('present', d.present, 'detail', d.detail)),
			       string_agg(d.detail || '.', ' ' ORDER BY d.defect) FILTER (WHERE d.present)
			  INTO defects, defect_list
			  FROM vmm_upgrade.check_0_6_0_defects(mail_schema) AS d;
			IF wanted = '0.6' AND defect_list IS NOT NULL THEN
				transport_users := vmm_upgrade._domain_transport_users(mail_schema);
				IF transport_users > 0 AND vmm_upgrade._transport_domain_choice() = 'ask' THEN
					PERFORM vmm_upgrade._refuse_transport_domain(mail_schema, transport_users,
						'CREATE EXTENSION vmm_upgrade VERSION ''0.6.0''; ALTER EXTENSION vmm_upgrade UPDATE;');
				END IF;
				RAISE EXCEPTION 'schema "%" still has the defects of vmm 0.6.0', mail_schema
				USING ERRCODE = 'object_not_in_prerequisite_state',
				      DETAIL = defect_list || ' Nothing was changed.',
				      HINT = 'Install version 0.6.0, which adopts it, then update, which fixes the defects: CREATE EXTENSION vmm_upgrade VERSION ''0.6.0''; ALTER EXTENSION vmm_upgrade UPDATE;';
			END IF;
		END IF;
		PERFORM vmm_upgrade._record(mail_schema, layout.version, wanted, layout.dovecot, layout.dovecot, NULL,
		        NULL, NULL,
		        jsonb_build_object('step', 'adopt', 'lookups', layout.lookups)
		        || CASE WHEN wanted = '0.6.0' THEN jsonb_build_object('defects_0_6_0', defects)
		                WHEN wanted = '0.4' THEN jsonb_build_object('form', vmm_upgrade._form_0_4(mail_schema))
		                ELSE '{}'::jsonb END);
		RETURN;
	END IF;

	IF layout.version = 'unknown' THEN
		SELECT count(*) INTO deviations FROM vmm_upgrade.check_layout(structure, NULL, mail_schema);
		RAISE WARNING 'schema "%" does not hold the exact vmm % layout: % deviation%',
			mail_schema, structure, deviations, CASE WHEN deviations = 1 THEN '' ELSE 's' END
		USING DETAIL = format('vmm_upgrade %s was installed so that the layout can be diagnosed, but every update will refuse to run until the layout is exact.', wanted),
		      HINT = format('Run SELECT * FROM vmm_upgrade.check_layout(%L, NULL, %L) to list the deviations.', structure, mail_schema);
		PERFORM vmm_upgrade._record(mail_schema, 'unknown', wanted, NULL, NULL, NULL, NULL, NULL,
		        jsonb_build_object('step', 'adopt', 'deviations', deviations));
		RETURN;
	END IF;

	-- Another known layout (0.4 has only the Dovecot 1.1 variant).
	RAISE EXCEPTION 'schema "%" holds vmm layout %, not %', mail_schema,
		layout.version || CASE WHEN layout.version = '0.4' THEN ''
		                      ELSE format(' (Dovecot %s variant)', layout.dovecot) END,
		structure
	USING ERRCODE = 'object_not_in_prerequisite_state',
	      DETAIL = 'Nothing was changed.',
	      HINT = CASE
	             WHEN layout.version IN ('0.4', '0.5.2') THEN
	                 format('Install the version the database has, then update: CREATE EXTENSION vmm_upgrade VERSION %L; ALTER EXTENSION vmm_upgrade UPDATE;',
	                        layout.version)
	             ELSE
	                 'The database is already at 0.6: CREATE EXTENSION vmm_upgrade; adopts it.'
	             END;
END;
$$;

------------------------------------------------------------------------------
-- After a restore: the installed version must match the layout
------------------------------------------------------------------------------

-- pg_dump records no extension version: a dump taken at 0.5.2 (or 0.6.0)
-- restores with the extension at the default version over a 0.5.2 layout
-- (or one with the 0.6.0 defects), and ALTER EXTENSION vmm_upgrade UPDATE
-- would then do nothing at all.  This fails, saying what to type (the
-- history is kept by DROP EXTENSION), when the layout an installed version
-- names and the mail schema disagree that way.
CREATE FUNCTION vmm_upgrade._require_version_matches(layout text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	mail_schema name := vmm_upgrade._schema_setting();
	detected    record;
BEGIN
	IF layout IS NULL OR layout = '0.4' OR to_regnamespace(quote_ident(mail_schema)) IS NULL THEN
		RETURN;
	END IF;
	SELECT * INTO detected FROM vmm_upgrade.detect_layout(mail_schema);
	IF detected.version = '0.4' THEN
		RAISE EXCEPTION 'vmm_upgrade is at layout %, but schema "%" holds the vmm 0.4 layout', layout, mail_schema
		USING ERRCODE = 'object_not_in_prerequisite_state',
		      DETAIL = 'This is what restoring a dump taken before the update gives: pg_dump does not record the version of an extension, so the restore installed the default. Nothing was changed.',
		      HINT = 'Install the version the database has, then update (vmm_upgrade.history is kept): DROP EXTENSION vmm_upgrade; CREATE EXTENSION vmm_upgrade VERSION ''0.4''; ALTER EXTENSION vmm_upgrade UPDATE;';
	END IF;
	IF layout = '0.5.2' THEN
		RETURN;
	END IF;
	IF detected.version = '0.5.2' THEN
		RAISE EXCEPTION 'vmm_upgrade is at layout %, but schema "%" holds the vmm 0.5.2 layout', layout, mail_schema
		USING ERRCODE = 'object_not_in_prerequisite_state',
		      DETAIL = 'This is what restoring a dump taken before the update gives: pg_dump does not record the version of an extension, so the restore installed the default. Nothing was changed.',
		      HINT = 'Install the version the database has, then update (vmm_upgrade.history is kept): DROP EXTENSION vmm_upgrade; CREATE EXTENSION vmm_upgrade VERSION ''0.5.2''; ALTER EXTENSION vmm_upgrade UPDATE;';
	END IF;
	IF detected.version = '0.6' AND layout = '0.6'
	   AND EXISTS (SELECT FROM vmm_upgrade.check_0_6_0_defects(mail_schema) AS d WHERE d.present) THEN
		RAISE EXCEPTION 'vmm_upgrade is at layout 0.6, but schema "%" still has the defects of vmm 0.6.0', mail_schema
		USING ERRCODE = 'object_not_in_prerequisite_state',
		      DETAIL = 'This is what restoring a dump taken before the 0.6.0 fix gives: pg_dump does not record the version of an extension, so the restore installed the default. Nothing was changed.',
		      HINT = 'Install the version the database has, then update (vmm_upgrade.history is kept): DROP EXTENSION vmm_upgrade; CREATE EXTENSION vmm_upgrade VERSION ''0.6.0''; ALTER EXTENSION vmm_upgrade UPDATE;';
	END IF;
END
$fn$;

-- When an ALTER EXTENSION vmm_upgrade ran no update script (the version
-- asked for is installed already), this event trigger makes the same check.
-- Commands run by an update script, and every other command, are left
-- alone.
CREATE FUNCTION vmm_upgrade._check_installed_version()
RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	IF current_query() !~* 'alter\s+extension\s+(if\s+exists\s+)?"?vmm_upgrade\M' THEN
		RETURN;
	END IF;
	IF EXISTS (SELECT FROM pg_event_trigger_ddl_commands() AS c WHERE c.in_extension) THEN
		RETURN;		-- an update script ran, checked before and after
	END IF;
	PERFORM vmm_upgrade._require_version_matches(
		vmm_upgrade._layout_of((SELECT e.extversion FROM pg_extension e WHERE e.extname = 'vmm_upgrade')));
END
$fn$;

-- The refresh (src/scripts/refresh.sql): nothing in the mail schema changes;
-- it must hold the same layout before and after, and the one the version
-- names.  Recorded.
CREATE FUNCTION vmm_upgrade._refresh(layout text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	mail_schema name := vmm_upgrade._schema_setting();
	started timestamptz := clock_timestamp();
	before  record;
	after   record;
BEGIN
	PERFORM vmm_upgrade._require_version_matches(layout);
	IF to_regnamespace(quote_ident(mail_schema)) IS NULL THEN
		RETURN;		-- nothing to check, nothing to record (a restore in progress)
	END IF;
	SELECT * INTO before FROM vmm_upgrade.detect_layout(mail_schema);
	SELECT * INTO after FROM vmm_upgrade.detect_layout(mail_schema);
	IF (before.version, before.dovecot) IS DISTINCT FROM (after.version, after.dovecot) THEN
		RAISE EXCEPTION 'the layout of schema "%" changed during a refresh', mail_schema
		USING ERRCODE = 'object_not_in_prerequisite_state', DETAIL = 'Nothing was changed.';
	END IF;
	IF before.version = 'none' THEN
		RETURN;
	END IF;
	PERFORM vmm_upgrade._record(mail_schema, layout, layout, before.dovecot, after.dovecot, started, 0, 0,
		jsonb_build_object('step', 'refresh', 'layout_found', before.version));
END
$fn$;

REVOKE EXECUTE ON FUNCTION vmm_upgrade._require_version_matches(text),
    vmm_upgrade._refresh(text) FROM PUBLIC;

CREATE EVENT TRIGGER vmm_upgrade_installed_version ON ddl_command_end
	WHEN TAG IN ('ALTER EXTENSION')
	EXECUTE FUNCTION vmm_upgrade._check_installed_version();
