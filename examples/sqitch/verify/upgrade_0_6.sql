-- Verify vmm_mail:upgrade_0_6
-- Exactly the vmm 0.6 layout; raises on any deviation.
BEGIN;
SELECT vmm_upgrade.require_layout('0.6', NULL, vmm_upgrade.mail_schema(), 'the verify script of Sqitch change upgrade_0_6');
ROLLBACK;
