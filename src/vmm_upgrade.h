/*-------------------------------------------------------------------------
 *
 * vmm_upgrade.h
 *		Declarations shared by the C parts of the vmm_upgrade extension.
 *
 * The extension validates and upgrades the database layout of vmm (Virtual
 * Mail Manager).  This header connects the module's GUCs (vmm_upgrade.c) with
 * the layout validator (layout.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef VMM_UPGRADE_H
#define VMM_UPGRADE_H

#include "postgres.h"

extern Oid	vmm_resolve_mail_schema(Name given, char **name_out);

#endif							/* VMM_UPGRADE_H */
