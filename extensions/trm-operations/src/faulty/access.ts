/**
 * Who may flag a device's positions. Administrators always; besides them, the org roles listed in
 * FLAG_ROLES (domain.md "Phase 4": marshals, race directors, org admins) on an organisation that
 * owns the device (organization_devices): a marshal of one club cannot flag another club's devices.
 */
import type { Caller } from '../shared/types';

export const FLAG_ROLES: readonly string[] = ['marshal', 'race-director', 'org-admin'];

/** Whether `caller`, with `orgRoles` (their roles in the organisations owning the device), may flag it. */
export function mayFlag(caller: Caller, orgRoles: readonly string[]): boolean {
	return caller.admin || orgRoles.some((r) => FLAG_ROLES.includes(r));
}
