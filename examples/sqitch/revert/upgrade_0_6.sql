-- Revert vmm_mail:upgrade_0_6
-- The downgrade: back to exactly the 0.5.2 layout of the same Dovecot
-- variant, refused with nothing changed when the database holds what 0.5.2
-- cannot (see README, "Downgrading a vmm 0.6 database to 0.5.2";
-- vmm_upgrade.downgrade_discard accepts losing some kinds).
BEGIN;
ALTER EXTENSION vmm_upgrade UPDATE TO '0.5.2';
COMMIT;
