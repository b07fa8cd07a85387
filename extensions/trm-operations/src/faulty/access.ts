/**
 * Who may flag a device's positions, and when (issue 21). Administrators always. Besides them, the
 * org roles in FLAG_ROLES (domain.md "Phase 4": marshals, race directors, org admins), held in an
 * accepted membership of the organisation of an event whose entries use the device
 * (entry_devices), and only for a window within that event's dates: a club that registered another
 * club's tracker cannot flag its positions during the other club's rally, and a marshal cannot
 * rewrite a device's history outside the event they work at.
 */
import type { Caller } from '../shared/types';

export const FLAG_ROLES: readonly string[] = ['marshal', 'race-director', 'org-admin'];

/** An event whose entries use the device, with the caller's roles in its organisation. */
export interface DeviceEvent {
	name: string;
	starts_at: Date;
	ends_at: Date;
	roles: readonly string[];
}

/** Whether `caller`, with `orgRoles` in some organisation, holds a role that flags. */
export function mayFlag(caller: Caller, orgRoles: readonly string[]): boolean {
	return caller.admin || orgRoles.some((r) => FLAG_ROLES.includes(r));
}

/** Why `caller` may not flag [from, to) of a device used in `events`, or null when they may. */
export function flagRefusal(caller: Caller, events: readonly DeviceEvent[], from: Date, to: Date, imei: string): string | null {
	if (caller.admin) return null;
	const staffed = events.filter((e) => mayFlag(caller, e.roles));
	if (staffed.length === 0) {
		return `you may not flag the positions of device ${imei}: marshals, race directors and org admins of the organisation of an event that uses it may`;
	}
	if (staffed.some((e) => e.starts_at.getTime() <= from.getTime() && to.getTime() <= e.ends_at.getTime())) return null;
	const dates = staffed.map((e) => `${e.name} (${e.starts_at.toISOString()} – ${e.ends_at.toISOString()})`).join(', ');
	return `you may not flag the positions of device ${imei} in this window: it must lie within the dates of an event of yours that uses it: ${dates}`;
}
