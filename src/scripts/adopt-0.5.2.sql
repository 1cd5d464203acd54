
------------------------------------------------------------------------------
-- Version 0.5.2: adopt a database that holds vmm's 0.5.2 layout
------------------------------------------------------------------------------

-- Either Dovecot variant, with or without the optional lookup functions.
-- The mail schema is only read; ALTER EXTENSION vmm_upgrade UPDATE then
-- takes it to 0.6.
SELECT vmm_upgrade._adopt('0.5.2');
