/**
 * GET /trm/entries/:id/timeline: one chronological list of what happened to an entry and what hangs
 * off it (crew, devices, penalties and their review, start slots, results, manual crossings), with
 * faulty flags of its devices, course edits of its stages and device commands (sources.ts).
 *
 * Directus's activity and revisions are readable by anyone who may read them, whatever the source
 * collection's rules (lessons.md), so this endpoint decides: the caller must read the entry through
 * Directus and be an administrator, staff of its organisation (TIMELINE_ROLES, an active membership)
 * or in its crew; a caller who may not gets the same 403 for an entry that does not exist. Then only
 * rows the caller reads through Directus are shown, with the fields they may read, and labels of
 * what they may read (labels.ts): a participant sees names, never another person's e-mail.
 */
import { Forbidden, InvalidPayload, NotFound } from '../shared/errors';
import type { Caller, Db, Row } from '../shared/types';
import { itemsOf, PARTS, REFERENCES, type Activity, type Item, type LogRow } from './history';
import { readLabels, type Read } from './labels';
import { pageOf, parsePage } from './page';
import { SOURCES, type Context } from './sources';

/** The org roles whose members see an entry's history (besides its crew and administrators). */
export const TIMELINE_ROLES: readonly string[] = ['org-admin', 'race-director', 'timekeeper', 'marshal'];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const rows = async (db: Db, sql: string, bindings: readonly unknown[]): Promise<Row[]> => ((await db.raw(sql, bindings as unknown[])) as { rows: Row[] }).rows;
const iso = (v: unknown): string => new Date(v as string | Date).toISOString();

export interface TimelineDeps {
	db: Db;
	caller: Caller;
	read: Read;
	has(collection: string): boolean;
}

/** Whether the caller is staff of the entry's organisation or in its crew (administrators are not asked). */
async function mayRead(db: Db, user: string, entry: string): Promise<boolean> {
	const [r] = await rows(
		db,
		`SELECT EXISTS (SELECT 1 FROM entries e JOIN events ev ON ev.id = e.event_id
		                  JOIN organization_users ou ON ou.organization_id = ev.organization_id
		                 WHERE e.id = ? AND ou.user_id = ? AND ou.status = 'active' AND ou.role = ANY(?))
		     OR EXISTS (SELECT 1 FROM entry_crew c WHERE c.entry_id = ? AND c.user_id = ?) AS ok`,
		[entry, user, [...TIMELINE_ROLES], entry, user],
	);
	return r?.['ok'] === true;
}

/** The rows of each part the caller reads (none when the collection is not theirs) and the fields they read. */
async function readParts(read: Read, entry: Row): Promise<{ current: Map<string, Row[]>; allowed: Map<string, Set<string>> }> {
	const current = new Map<string, Row[]>([['entries', [entry]]]);
	const allowed = new Map<string, Set<string>>([['entries', new Set(Object.keys(entry))]]);
	await Promise.all(
		Object.keys(PARTS)
			.filter((c) => c !== 'entries')
			.map(async (c) => {
				// Crossings with history are people's (manual): the processor's are written in SQL, without any.
				const filter = { entry_id: { _eq: entry['id'] }, ...(c === 'entry_crossings' ? { source: { _eq: 'manual' } } : {}) };
				try {
					const found = await read(c, { filter, fields: ['*'], limit: -1 });
					// The fields a caller reads of a collection: those Directus returns (any row will do).
					const sample = found.length > 0 ? found : await read(c, { fields: ['*'], limit: 1 });
					current.set(c, found);
					allowed.set(c, new Set(sample.flatMap((r) => Object.keys(r))));
				} catch {
					// not readable at all: no history of it
				}
			}),
	);
	return { current, allowed };
}

export async function entryTimeline(deps: TimelineDeps, entryId: string, query: Row): Promise<Row> {
	const { db, caller, read } = deps;
	const q = parsePage(query);
	if (Array.isArray(q)) throw new InvalidPayload({ reason: q.join('; ') });
	if (!UUID.test(entryId)) throw new InvalidPayload({ reason: 'the entry id in the path must be a UUID' });
	const refused = () => (caller.admin ? new NotFound({ reason: `no entry ${entryId}` }) : new Forbidden({ reason: `you may not read the history of entry ${entryId}: its organisation's staff and its crew may` }));
	let entry: Row | undefined;
	try {
		[entry] = await read('entries', { filter: { id: { _eq: entryId } }, fields: ['*'], limit: 1 });
	} catch {
		entry = undefined; // no read of entries at all: the same answer as for an entry they may not read
	}
	if (!entry) throw refused();
	if (!caller.admin && !(await mayRead(db, caller.user ?? '', entryId))) throw refused();

	const { current, allowed } = await readParts(read, entry);
	const log = (await rows(db, 'SELECT id, at, op, collection, item, row FROM trm_audit.entry_rows WHERE entry_id = ? ORDER BY id', [entryId])).map(
		(r): LogRow => ({ id: Number(r['id']), at: iso(r['at']), op: r['op'] as LogRow['op'], collection: String(r['collection']), item: String(r['item']), row: r['row'] as Row }),
	);
	// Subjects: rows the caller reads now, and removed rows of collections they read (the part log keeps them).
	const subjects = new Map<string, [string, string]>();
	for (const [c, list] of current) for (const r of list) subjects.set(`${c}/${String(r['id'])}`, [c, String(r['id'])]);
	for (const l of log) if (l.op === 'delete' && current.has(l.collection)) subjects.set(`${l.collection}/${l.item}`, [l.collection, l.item]);
	const pairs = [...subjects.values()];
	const activity = (
		await rows(
			db,
			`SELECT a.id, a.action, a."user", a.timestamp, a.collection, a.item, r.data, r.delta
			   FROM directus_activity a
			   JOIN unnest(?::text[], ?::text[]) AS s(collection, item) ON a.collection = s.collection AND a.item = s.item
			   LEFT JOIN directus_revisions r ON r.activity = a.id AND r.collection = a.collection AND r.item = a.item
			  WHERE a.action IN ('create', 'update', 'delete')
			  ORDER BY a.id`,
			[pairs.map((p) => p[0]), pairs.map((p) => p[1])],
		)
	).map((r): Activity => ({ id: Number(r['id']), action: String(r['action']), user: r['user'] ? String(r['user']) : null, timestamp: iso(r['timestamp']), collection: String(r['collection']), item: String(r['item']), data: r['data'] as Row | null, delta: r['delta'] as Row | null }));

	// The entry's devices (now and removed), its event's dates, the other sources.
	const deviceIds = new Set<string>();
	for (const r of [...(current.get('entry_devices') ?? []), ...log.filter((l) => l.collection === 'entry_devices').map((l) => l.row)]) deviceIds.add(String(r['device_id']));
	const imeis = await rows(db, 'SELECT id, imei FROM devices WHERE id = ANY(?::uuid[])', [[...deviceIds]]);
	const [event] = await rows(db, 'SELECT starts_at, ends_at, organization_id FROM events WHERE id = ?', [entry['event_id']]);
	const ctx: Context = {
		db,
		entry,
		event: { starts_at: new Date(event!['starts_at'] as string), ends_at: new Date(event!['ends_at'] as string) },
		devices: new Map(imeis.map((r) => [String(r['id']), String(r['imei'])])),
		results: current.get('stage_results') ?? [],
		read,
		has: deps.has,
	};
	const found = await Promise.all(SOURCES.map((s) => s(ctx)));

	// Labels of everything referred to, read as the caller.
	const refs: [string, string][] = found.flatMap((f) => f.refs);
	const values = [...[...current.values()].flat(), ...log.map((l) => l.row), ...activity.flatMap((a) => [a.data ?? {}, a.delta ?? {}])];
	for (const v of values) for (const [f, c] of Object.entries(REFERENCES)) if (typeof v[f] === 'string') refs.push([c, v[f] as string]);
	const label = await readLabels(read, refs);

	const items: Item[] = found.flatMap((f) => f.build(label));
	for (const [c, id] of pairs) {
		const mine = (x: { collection: string; item: string }) => x.collection === c && x.item === id;
		items.push(...itemsOf(c, id, activity.filter(mine), log.filter(mine), allowed.get(c) ?? new Set(), label));
	}
	const page = pageOf(items, q);
	const who = await actors(db, read, page.items, String(event!['organization_id']), caller);
	return {
		entry: { id: entryId, race_number: entry['race_number'] ?? null, event_id: entry['event_id'] ?? null },
		order: q.order,
		limit: q.limit,
		offset: q.offset,
		total: page.total,
		kinds: page.counts,
		items: page.items.map(({ seq: _seq, user, ...i }) => ({ ...i, who: user ? (who.get(user) ?? { name: null, role: null }) : null })),
	};
}

/** Who acted: the name and the org role in the entry's organisation, each only when the caller may read it. */
async function actors(db: Db, read: Read, items: readonly Item[], org: string, caller: Caller): Promise<Map<string, { name: string | null; role: string | null }>> {
	const ids = [...new Set(items.map((i) => i.user).filter((u): u is string => !!u))];
	const out = new Map(ids.map((id) => [id, { name: null as string | null, role: null as string | null }]));
	if (ids.length === 0) return out;
	const label = await readLabels(read, ids.map((id) => ['directus_users', id] as const));
	let roles: Row[] = [];
	try {
		roles = await read('organization_users', { filter: { organization_id: { _eq: org }, user_id: { _in: ids }, status: { _eq: 'active' } }, fields: ['user_id', 'role'], limit: -1 });
	} catch {
		roles = []; // the caller reads no memberships
	}
	const admins = caller.admin
		? new Set(
				(
					await rows(
						db,
						`SELECT u.id FROM directus_users u JOIN directus_access a ON a."user" = u.id OR a.role = u.role
						   JOIN directus_policies p ON p.id = a.policy WHERE p.admin_access AND u.id = ANY(?::uuid[])`,
						[ids],
					)
				).map((r) => String(r['id'])),
			)
		: new Set<string>();
	for (const id of ids) {
		const role = roles.filter((r) => String(r['user_id']) === id).map((r) => String(r['role']));
		out.set(id, { name: label('directus_users', id), role: role.length > 0 ? role.sort().join(', ') : admins.has(id) ? 'administrator' : null });
	}
	return out;
}
