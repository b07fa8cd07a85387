/**
 * POST /trm/entries/:id/copy-crew: copy crew and devices from a previous entry of the same person, all or nothing.
 *
 * Both entries, their crews and devices are read with the caller's own permissions (issue 21): an entry
 * the caller may not read is refused exactly like one that does not exist, so nothing of another
 * organisation's entries (crew, trackers, race number) reaches the copy or the answer.
 */
import { isDiscipline } from '../discipline/rules';
import { Forbidden, InvalidPayload, NotFound } from '../shared/errors';
import type { Caller, Db, Row } from '../shared/types';
import { planCopy, type CopyPlan, type EntryState } from './plan';

/** Who may copy a crew: administrators, and those who register entries (domain.md "Phase 4": org admins and
 * race directors) in the organisation of the target entry's event. The rows are then created with the
 * caller's own permissions (snapshots/access.yaml), so the access rules apply to what is copied too. */
export const COPY_ROLES: readonly string[] = ['org-admin', 'race-director'];

export function mayCopy(caller: Caller, orgRoles: readonly string[]): boolean {
	return caller.admin || orgRoles.some((r) => COPY_ROLES.includes(r));
}

async function orgRolesOnEntry(db: Db, user: string, entryId: string): Promise<string[]> {
	const rows = (await db('entries as e')
		.join('events as ev', 'ev.id', 'e.event_id')
		.join('organization_users as ou', 'ou.organization_id', 'ev.organization_id')
		.where({ 'e.id': entryId, 'ou.user_id': user, 'ou.status': 'active' })
		.select('ou.role')) as Row[];
	return rows.map((r) => String(r['role']));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reads a collection as the caller (Directus's ItemsService with their accountability), in `trx`. */
export interface Reader {
	(collection: string, query: Row, trx: Db): Promise<Row[]>;
}

async function entryState(read: Reader, trx: Db, id: string): Promise<EntryState | null> {
	const by = (field: string) => ({ filter: { [field]: { _eq: id } }, limit: -1 });
	const [e] = await read('entries', { ...by('id'), fields: ['id', 'race_number', 'event_id', 'status', 'vehicle_id'] }, trx);
	if (!e) return null;
	const crew = await read('entry_crew', { ...by('entry_id'), fields: ['user_id', 'role'], sort: ['role'] }, trx);
	const devices = await read('entry_devices', { ...by('entry_id'), fields: ['device_id', 'assigned_user_id'] }, trx);
	return {
		id,
		race_number: String(e['race_number']),
		event_id: String(e['event_id']),
		status: String(e['status']),
		has_vehicle: e['vehicle_id'] !== null,
		crew: crew.map((c) => ({ user_id: String(c['user_id']), role: String(c['role']) })),
		devices: devices.map((d) => ({
			device_id: String(d['device_id']),
			assigned_user_id: d['assigned_user_id'] === null ? null : String(d['assigned_user_id']),
		})),
	};
}

async function busy(db: Db, table: 'entry_crew' | 'entry_devices', column: string, event: string, except: string): Promise<Map<string, string>> {
	const rows = (await db(`${table} as x`)
		.join('entries as e', 'e.id', 'x.entry_id')
		.where('e.event_id', event)
		.whereNot('e.id', except)
		.select(`x.${column} as key`, 'e.race_number')) as Row[];
	return new Map(rows.map((r) => [String(r['key']), String(r['race_number'])]));
}

export interface Inserter {
	(collection: 'entry_crew' | 'entry_devices', rows: Row[], trx: Db): Promise<void>;
}

export interface CopyResponse {
	entry_id: string;
	from_entry_id: string;
	crew: CopyPlan['crew'];
	devices: CopyPlan['devices'];
}

export async function copyCrew(db: Db, caller: Caller, targetId: string, body: unknown, read: Reader, insert: Inserter): Promise<CopyResponse> {
	const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
	const from = b['from_entry_id'];
	const person = b['person_id'] ?? caller.user;
	if (!UUID.test(targetId)) throw new InvalidPayload({ reason: 'the entry id in the path must be a UUID' });
	if (typeof from !== 'string' || !UUID.test(from)) throw new InvalidPayload({ reason: 'from_entry_id (the previous entry) is required, a UUID' });
	if (typeof person !== 'string' || !UUID.test(person)) throw new InvalidPayload({ reason: 'person_id must be a user UUID (default: you)' });
	const roles = caller.admin ? [] : await orgRolesOnEntry(db, caller.user ?? '', targetId);
	if (!mayCopy(caller, roles)) throw new Forbidden({ reason: 'you may not copy crews into this entry: org admins and race directors of its organisation may' });
	return db.transaction(async (trx) => {
		const target = await entryState(read, trx, targetId);
		const source = await entryState(read, trx, from);
		// Not readable and not there answer alike for everyone but administrators.
		const missing = (id: string, what: string) =>
			caller.admin ? new NotFound({ reason: `no entry ${id}${what}` }) : new Forbidden({ reason: `you may not read entry ${id}${what}` });
		if (!target) throw missing(targetId, '');
		if (!source) throw missing(from, ' to copy from');
		const event = (await trx('events').select('discipline').where({ id: target.event_id }).first()) as Row | undefined;
		const discipline = event && isDiscipline(event['discipline']) ? event['discipline'] : null;
		const plan = planCopy({
			source,
			target,
			targetDiscipline: discipline,
			person,
			busyUsers: await busy(trx, 'entry_crew', 'user_id', target.event_id, target.id),
			busyDevices: await busy(trx, 'entry_devices', 'device_id', target.event_id, target.id),
		});
		if (Array.isArray(plan)) throw new InvalidPayload({ reason: `nothing copied: ${plan.join('; ')}` });
		if (plan.crew.length > 0) await insert('entry_crew', plan.crew.map((c) => ({ entry_id: targetId, ...c })), trx);
		if (plan.devices.length > 0) await insert('entry_devices', plan.devices.map((d) => ({ entry_id: targetId, ...d })), trx);
		return { entry_id: targetId, from_entry_id: from, crew: plan.crew, devices: plan.devices };
	});
}
