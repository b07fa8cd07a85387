/**
 * Who may flag a device's positions. Administrators always; besides them, the org roles listed in
 * FLAG_ROLES on an organisation that owns the device (organization_devices). The list is empty
 * until the access issue lands: adding 'marshal', 'race-director', 'org-admin' there is the change.
 */
import type { Caller } from '../shared/types';

export const FLAG_ROLES: readonly string[] = [];

/** Whether `caller`, with `orgRoles` (their roles in the organisations owning the device), may flag it. */
export function mayFlag(caller: Caller, orgRoles: readonly string[]): boolean {
	return caller.admin || orgRoles.some((r) => FLAG_ROLES.includes(r));
}
