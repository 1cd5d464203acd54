-- Deploy vmm_mail:upgrade_0_6 (requires adopt_0_5_2)
-- The whole upgrade is this one statement and one transaction: validated
-- before and after, recorded in vmm_upgrade.history; any error changes
-- nothing.  WARNINGs say what to change in Postfix and Dovecot.
BEGIN;
ALTER EXTENSION vmm_upgrade UPDATE;
COMMIT;
