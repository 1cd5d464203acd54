
------------------------------------------------------------------------------
-- Version 0.6: adopt a database that holds vmm's 0.6 layout
------------------------------------------------------------------------------

-- Either Dovecot variant.  A schema with no vmm objects is accepted with a
-- WARNING, because that is how a pg_dump restore creates the extension.
-- The mail schema is only read.
SELECT vmm_upgrade._adopt('0.6');
