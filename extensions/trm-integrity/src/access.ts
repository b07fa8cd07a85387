/**
 * Creates in an organisation need an org role there whose policy may create them (issue 11), and the
 * organisation is the one of the row's real parent (issue 21).
 *
 * Directus 11 checks a policy's row filter on read, update and delete, not on create, and a
 * permission's validation cannot see the user's role in each organisation. So for a non-admin user,
 * a new row of an org-scoped collection is allowed only when the user's role in the row's
 * organisation (an accepted membership of organization_users) names a policy with a create
 * permission on the collection (directus_permissions: the committed snapshots/access.yaml, read at
 * request time). The organisation is found by following the collection's path up to organizations
 * (org-scope.json, the table the access artifact is built from): for stages that is `event_id` →
 * events.organization_id, whatever other keys the payload carries.
 *
 * Registrations (organization_vehicles, organization_devices): a vehicle or device already registered
 * to another organisation is registered to yours only by an administrator or by an org admin of an
 * organisation that holds it (it lends it: a rented tracker may serve two clubs, but a club cannot
 * claim another's device by itself). Assignments (entries.vehicle_id, entry_devices.device_id): a
 * non-admin user assigns only vehicles and devices registered to the entry's organisation.
 */
import { createError } from '@directus/errors';
import scope from './org-scope.json';
import type { Db, Row } from './shared';

export const Forbidden = createError<{ reason: string }>('FORBIDDEN', ({ reason }) => `Forbidden. ${reason}.`, 403);

export type Who = { user?: string | null; admin?: boolean } | null | undefined;

const PARENTS: Record<string, string> = scope.parents;
const PATHS: Record<string, string[]> = scope.paths;
const REGISTERED: Record<string, string[]> = scope.registered;
const VIA: Record<string, string[]> = scope.via;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The organisation a new row of `collection` belongs to: undefined when the collection has no parent
 * (vehicles, devices), null when the parent is missing or unknown (the database then refuses the row). */
export async function organisationOf(db: Db, collection: string, payload: Row): Promise<string | null | undefined> {
	const path = PATHS[collection];
	if (!path) return undefined;
	if (path.length === 0) return null; // a new organisation belongs to none yet
	let value: unknown = payload[path[0]!];
	for (let i = 1; i < path.length; i++) {
		if (typeof value !== 'string' || !UUID.test(value)) return null;
		const row = (await db(PARENTS[path[i - 1]!]!).select(path[i]!).where({ id: value }).first()) as Row | undefined;
		value = row?.[path[i]!];
	}
	return typeof value === 'string' && UUID.test(value) ? value : null;
}

/** The user's accepted org roles, in one organisation or (org undefined) in any. */
async function rolesWithCreate(db: Db, user: string, collection: string, org: string | undefined): Promise<Row[]> {
	const result = await db.raw(
		`SELECT u.role, bool_or(p.id IS NOT NULL) AS may
		   FROM organization_users u
		   LEFT JOIN directus_policies pol ON pol.name = u.role
		   LEFT JOIN directus_permissions p ON p.policy = pol.id AND p.collection = ? AND p.action = 'create'
		  WHERE u.user_id = ? AND u.status = 'active' AND (?::uuid IS NULL OR u.organization_id = ?::uuid)
		  GROUP BY u.role`,
		[collection, user, org ?? null, org ?? null],
	);
	return result.rows;
}

/** The organisations holding the item a `via` row points at (commands: those that registered the device). */
async function holders(db: Db, collection: string, payload: Row): Promise<string[]> {
	const [field, registered] = VIA[collection]!;
	const item = payload[field!];
	if (typeof item !== 'string' || !UUID.test(item)) return [];
	const [table, column] = REGISTERED[registered!]!;
	return (await db(table!).where({ [column!]: item }).pluck('organization_id')) as string[];
}

export async function checkCreateRole(db: Db, collection: string, payload: Row, who: Who): Promise<void> {
	if (!who || who.admin || collection.startsWith('directus_')) return;
	if (!who.user) throw new Forbidden({ reason: "You don't have permission to access this" });
	if (collection in VIA) {
		for (const org of await holders(db, collection, payload)) {
			if ((await rolesWithCreate(db, who.user, collection, org)).some((r) => r['may'])) return;
		}
		throw new Forbidden({ reason: `creating ${collection} needs an org role that may create it in an organisation holding the ${VIA[collection]![1]!.replace(/s$/, '')}` });
	}
	const org = await organisationOf(db, collection, payload);
	if (org === null && (PATHS[collection]?.length ?? 0) > 0) {
		const given = payload[PATHS[collection]![0]!];
		if (given === undefined || given === null) return; // no parent given: Directus's own validation names the field
		// An unknown parent is refused as a foreign one is (403, same reason): the answer tells nothing about what
		// exists, and no later hook (course or timing rules) gets to answer first with a 400 about the payload.
		throw new Forbidden({ reason: `creating ${collection} needs a role in the organisation it belongs to; you have none there` });
	}
	const registered = collection in REGISTERED;
	if (org === undefined && !registered) {
		throw new Forbidden({ reason: `${collection} belongs to no organisation in org-scope.json: only administrators may create it` });
	}
	const held = await rolesWithCreate(db, who.user, collection, org ?? undefined);
	if (held.some((r) => r['may'])) {
		await checkClaims(db, collection, payload, who.user, org ?? null);
		return;
	}
	const roles = held.map((r) => String(r['role']));
	const where = org ? 'in this organisation' : 'in any of your organisations';
	throw new Forbidden({
		reason: roles.length
			? `creating ${collection} needs an org role that may create it ${where}; yours there: ${roles.join(', ')}`
			: `creating ${collection} needs a role in the organisation it belongs to; you have none there`,
	});
}

const REGISTRATIONS: Record<string, [string, string]> = {
	organization_vehicles: ['organization_vehicles', 'vehicle_id'],
	organization_devices: ['organization_devices', 'device_id'],
};

/** A registration of a vehicle or device that another organisation holds needs that organisation's org admin. */
async function checkClaims(db: Db, collection: string, payload: Row, user: string, org: string | null): Promise<void> {
	const registration = REGISTRATIONS[collection];
	if (!registration || !org) return;
	const [table, column] = registration;
	const item = payload[column];
	if (typeof item !== 'string' || !UUID.test(item)) return;
	const result = await db.raw(
		`SELECT bool_or(EXISTS (SELECT 1 FROM organization_users u WHERE u.organization_id = r.organization_id
		                          AND u.user_id = ? AND u.role = 'org-admin' AND u.status = 'active')) AS lender,
		        count(*) AS holders
		   FROM ${table} r WHERE r.${column} = ? AND r.organization_id <> ?`,
		[user, item, org],
	);
	const row = result.rows[0] ?? {};
	if (Number(row['holders'] ?? 0) > 0 && row['lender'] !== true) {
		const what = column === 'device_id' ? 'device' : 'vehicle';
		throw new Forbidden({
			reason: `this ${what} is registered to another organisation: an org admin of that organisation (or an administrator) must register it for yours`,
		});
	}
}

const ASSIGNED: Record<string, [string, string, string]> = {
	// collection: [field, registration table, its column]
	entries: ['vehicle_id', 'organization_vehicles', 'vehicle_id'],
	entry_devices: ['device_id', 'organization_devices', 'device_id'],
};

/** A non-admin user assigns to an entry only a vehicle or device registered to the entry's organisation. */
export async function checkAssignment(db: Db, collection: string, rows: Row[], who: Who): Promise<void> {
	const assigned = ASSIGNED[collection];
	if (!assigned || !who || who.admin) return;
	const [field, table, column] = assigned;
	for (const row of rows) {
		const item = row[field];
		if (item === null || item === undefined) continue;
		const org = await organisationOf(db, collection, row);
		if (!org) continue; // no parent: Directus refuses the row
		const found = await db(table).where({ organization_id: org, [column]: item }).first();
		if (!found) {
			const what = field === 'device_id' ? 'device' : 'vehicle';
			throw new Forbidden({ reason: `the ${what} is not registered to this entry's organisation: register it there first` });
		}
	}
}
