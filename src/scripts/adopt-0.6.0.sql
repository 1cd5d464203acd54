
------------------------------------------------------------------------------
-- Version 0.6.0: adopt a database left by vmm 0.6.0
------------------------------------------------------------------------------

-- The 0.6 structure, either Dovecot variant, with or without vmm 0.6.0's
-- defects (accounts on the transport row named "domain"; a dovecotpassword()
-- that gives no row for an account with a NULL ssid).  The defects found are
-- recorded in vmm_upgrade.history; ALTER EXTENSION vmm_upgrade UPDATE then
-- fixes them.  The mail schema is only read.
SELECT vmm_upgrade._adopt('0.6.0');
