-- Revert vmm_mail:adopt_0_5_2
-- The mail schema is not touched; vmm_upgrade.history stays.
BEGIN;
DROP EXTENSION vmm_upgrade;
COMMIT;
