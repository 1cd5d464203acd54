
------------------------------------------------------------------------------
-- Every update starts here: the library of the installed release goes
------------------------------------------------------------------------------

-- An update runs the code of the package installed now, not of the release
-- that was installed when the database was adopted: every function of the
-- extension (and the event trigger that calls one) is dropped here and
-- created again below from the same sources as the install scripts.  No
-- CASCADE: an object of the DBA's built on one of them stops the update,
-- naming it, with nothing changed.  The history table is no member and stays.
DROP EVENT TRIGGER IF EXISTS vmm_upgrade_installed_version;
DO $drop$
DECLARE
	f pg_catalog.regprocedure;
BEGIN
	FOR f IN
		SELECT d.objid::pg_catalog.regprocedure
		  FROM pg_catalog.pg_depend d
		  JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid
		 WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
		   AND e.extname OPERATOR(pg_catalog.=) 'vmm_upgrade'::pg_catalog.name
		   AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
		   AND d.deptype OPERATOR(pg_catalog.=) 'e'
	LOOP
		EXECUTE pg_catalog.format('DROP FUNCTION %s', f);
	END LOOP;
END
$drop$;
