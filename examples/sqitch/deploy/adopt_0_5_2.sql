-- Deploy vmm_mail:adopt_0_5_2
-- Installs vmm_upgrade at layout 0.5.2: an ERROR (and nothing changed)
-- unless the mail schema holds the vmm 0.5.2 layout.  A layout that is not
-- exact is adopted with a WARNING, and the verify step then fails.
BEGIN;
CREATE EXTENSION vmm_upgrade VERSION '0.5.2';
COMMIT;
