-- Verify vmm_mail:adopt_0_5_2
-- vmm_upgrade is installed and the mail schema holds exactly the layout its
-- version names (0.5.2, or 0.6 once upgrade_0_6 is deployed).  Raises on any
-- deviation (a query that returns false would pass in Sqitch).
BEGIN;
SELECT 1 / pg_catalog.count(*) FROM pg_catalog.pg_extension WHERE extname = 'vmm_upgrade';
SELECT vmm_upgrade.require_layout(pg_catalog.split_part(e.extversion, '+', 1), NULL,
                                  vmm_upgrade.mail_schema(), 'the verify script of Sqitch change adopt_0_5_2')
  FROM pg_catalog.pg_extension AS e WHERE e.extname = 'vmm_upgrade';
ROLLBACK;
