
------------------------------------------------------------------------------
-- Version 0.4: adopt a database that holds vmm's 0.4 layout
------------------------------------------------------------------------------

-- Either form: vmm 0.4 as released (the SMTP flag misspelt users.smpt, no
-- view dovecot_password) or vmm 0.4-r41; the form found is recorded in
-- vmm_upgrade.history.  The mail schema is only read; ALTER EXTENSION
-- vmm_upgrade UPDATE then takes it to 0.5.2 and on to 0.6.
SELECT vmm_upgrade._adopt('0.4');
