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
 * Reads that do not depend on each other run at once (a 500-item history in ~3 round trips).
 */
import { Forbidden, InvalidPayload, NotFound } from '../shared/errors';
import type { Caller, Db, Row } from '../shared/types';
import { itemsOf, REFERENCES, type Activity, type Item, type LogRow } from './history';
import { lookup, readLabels, type Read } from './labels';
import { readCrossings, readParts } from './parts';
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

/** Every activity row (with its revision) of the entry and of its parts, now and removed; filtered to what the caller reads later. */
const ACTIVITY = `
WITH items(collection, item) AS (
    SELECT 'entries', ?::text
    UNION SELECT 'entry_crew', id::text FROM entry_crew WHERE entry_id = ?
    UNION SELECT 'entry_devices', id::text FROM entry_devices WHERE entry_id = ?
    UNION SELECT 'entry_penalties', id::text FROM entry_penalties WHERE entry_id = ?
    UNION SELECT 'entry_segment_starts', id::text FROM entry_segment_starts WHERE entry_id = ?
    UNION SELECT 'stage_results', id::text FROM stage_results WHERE entry_id = ?
    UNION SELECT 'entry_crossings', id::text FROM entry_crossings WHERE entry_id = ? AND source = 'manual'
    UNION SELECT collection, item FROM trm_audit.entry_rows WHERE entry_id = ?)
SELECT a.id, a.action, a."user", a.timestamp, a.collection, a.item, r.data, r.delta
  FROM items JOIN directus_activity a ON a.collection = items.collection AND a.item = items.item
  LEFT JOIN directus_revisions r ON r.activity = a.id AND r.collection = a.collection AND r.item = a.item
 WHERE a.action IN ('create', 'update', 'delete')
 ORDER BY a.id`;

const asActivity = (r: Row): Activity => ({
	id: Number(r['id']),
	action: String(r['action']),
	user: r['user'] ? String(r['user']) : null,
	timestamp: iso(r['timestamp']),
	collection: String(r['collection']),
	item: String(r['item']),
	data: r['data'] as Row | null,
	delta: r['delta'] as Row | null,
});
const asLog = (r: Row): LogRow => ({ id: Number(r['id']), at: iso(r['at']), op: r['op'] as LogRow['op'], collection: String(r['collection']), item: String(r['item']), row: r['row'] as Row });

/** The references in these rows (as [collection, id]), for their labels. */
function refsIn(values: readonly Row[]): [string, string][] {
	const out: [string, string][] = [];
	for (const v of values) for (const [f, c] of Object.entries(REFERENCES)) if (typeof v[f] === 'string') out.push([c, v[f] as string]);
	return out;
}

const users = (ids: Iterable<string | null>): string[] => [...new Set([...ids].filter((u): u is string => !!u))];

export async function entryTimeline(deps: TimelineDeps, entryId: string, query: Row): Promise<Row> {
	const { db, caller, read } = deps;
	const q = parsePage(query);
	if (Array.isArray(q)) throw new InvalidPayload({ reason: q.join('; ') });
	if (!UUID.test(entryId)) throw new InvalidPayload({ reason: 'the entry id in the path must be a UUID' });
	const refused = () => (caller.admin ? new NotFound({ reason: `no entry ${entryId}` }) : new Forbidden({ reason: `you may not read the history of entry ${entryId}: its organisation's staff and its crew may` }));
	// Everything that does not depend on another read starts at once; nothing read leaves this function
	// before the caller is known to read the entry's history (the check below).
	const log = rows(db, 'SELECT id, at, op, collection, item, row FROM trm_audit.entry_rows WHERE entry_id = ? ORDER BY id', [entryId]).then((r) => r.map(asLog));
	const everything = rows(db, ACTIVITY, Array(8).fill(entryId)).then((r) => r.map(asActivity));
	const event = rows(db, 'SELECT ev.starts_at, ev.ends_at, ev.organization_id FROM entries e JOIN events ev ON ev.id = e.event_id WHERE e.id = ?', [entryId]).then((r) => r[0]);
	// The history's labels and who acted, as the caller reads them, while Directus reads the entry.
	const early = Promise.all([log, everything, event]).then(async ([l, a, ev]) => {
		const actors = users(a.map((x) => x.user));
		const refs = [...refsIn([...l.map((x) => x.row), ...a.flatMap((x) => [x.data ?? {}, x.delta ?? {}])]), ...actors.map((u): [string, string] => ['directus_users', u])];
		const [labels, roles] = await Promise.all([readLabels(read, refs), actorRoles(db, read, actors, String(ev?.['organization_id']), caller)]);
		return { labels, roles, actors: new Set(actors) };
	});
	const [parts, allowedRole, devices] = await Promise.all([
		readParts(read, entryId),
		caller.admin ? true : mayRead(db, caller.user ?? '', entryId),
		rows(
			db,
			`SELECT d.id, d.imei FROM devices d WHERE d.id IN (SELECT device_id FROM entry_devices WHERE entry_id = ?
			   UNION SELECT (row->>'device_id')::uuid FROM trm_audit.entry_rows WHERE entry_id = ? AND collection = 'entry_devices')`,
			[entryId, entryId],
		),
	]);
	const { entry, current, allowed } = parts;
	if (!entry || !allowedRole) {
		await early.catch(() => undefined);
		throw refused();
	}
	const [history, activityAll, ev, first] = await Promise.all([log, everything, event, early]);
	if (activityAll.some((a) => a.collection === 'entry_crossings')) await readCrossings(read, entryId, parts);
	// Subjects: rows the caller reads now, and removed rows of collections they read (the part log keeps them).
	const subjects = new Map<string, [string, string]>();
	for (const [c, list] of current) for (const r of list) subjects.set(`${c}/${String(r['id'])}`, [c, String(r['id'])]);
	for (const l of history) if (l.op === 'delete' && current.has(l.collection)) subjects.set(`${l.collection}/${l.item}`, [l.collection, l.item]);
	const activity = activityAll.filter((a) => subjects.has(`${a.collection}/${a.item}`));

	// The other sources: the devices count only when the caller reads the entry's devices.
	const ctx: Context = {
		db,
		entry,
		event: { starts_at: new Date(ev!['starts_at'] as string), ends_at: new Date(ev!['ends_at'] as string) },
		devices: current.has('entry_devices') ? new Map(devices.map((r) => [String(r['id']), String(r['imei'])])) : new Map(),
		results: current.get('stage_results') ?? [],
		read,
		has: deps.has,
	};
	const found = await Promise.all(SOURCES.map((s) => s(ctx)));

	// Labels and roles the sources and the current rows add (usually none left to read).
	const refs = [...found.flatMap((f) => f.refs), ...refsIn([...current.values()].flat())];
	const newActors = users(refs.filter((r) => r[0] === 'directus_users').map((r) => r[1])).filter((u) => !first.actors.has(u));
	const [labels, moreRoles] = await Promise.all([
		readLabels(read, refs, first.labels),
		actorRoles(db, read, newActors, String(ev!['organization_id']), caller),
	]);
	const label = lookup(labels);
	const roles = new Map([...first.roles, ...moreRoles]);

	const items: Item[] = found.flatMap((f) => f.build(label));
	const byItem = new Map<string, { activity: Activity[]; log: LogRow[] }>([...subjects.keys()].map((k) => [k, { activity: [], log: [] }]));
	for (const a of activity) byItem.get(`${a.collection}/${a.item}`)?.activity.push(a);
	for (const l of history) byItem.get(`${l.collection}/${l.item}`)?.log.push(l);
	for (const [key, [c, id]] of subjects) items.push(...itemsOf(c, id, byItem.get(key)!.activity, byItem.get(key)!.log, allowed.get(c) ?? new Set(), label));
	const page = pageOf(items, q);
	return {
		entry: { id: entryId, race_number: entry['race_number'] ?? null, event_id: entry['event_id'] ?? null },
		order: q.order,
		limit: q.limit,
		offset: q.offset,
		total: page.total,
		kinds: page.counts,
		items: page.items.map(({ seq: _seq, user, ...i }) => ({ ...i, who: user ? { name: label('directus_users', user), role: roles.get(user) ?? null } : null })),
	};
}

/** The org role of each actor in the entry's organisation, where the caller may read that membership; administrators as such (for administrators). */
async function actorRoles(db: Db, read: Read, ids: readonly string[], org: string, caller: Caller): Promise<Map<string, string>> {
	const out = new Map<string, string>();
	if (ids.length === 0) return out;
	const [memberships, admins] = await Promise.all([
		read('organization_users', { filter: { organization_id: { _eq: org }, user_id: { _in: ids }, status: { _eq: 'active' } }, fields: ['user_id', 'role'], limit: -1 }).catch(() => [] as Row[]),
		caller.admin
			? rows(
					db,
					`SELECT u.id FROM directus_users u JOIN directus_access a ON a."user" = u.id OR a.role = u.role
					   JOIN directus_policies p ON p.id = a.policy WHERE p.admin_access AND u.id = ANY(?::uuid[])`,
					[ids],
				)
			: Promise.resolve([] as Row[]),
	]);
	for (const id of ids) {
		const role = memberships.filter((r) => String(r['user_id']) === id).map((r) => String(r['role']));
		if (role.length > 0) out.set(id, role.sort().join(', '));
		else if (admins.some((r) => String(r['id']) === id)) out.set(id, 'administrator');
	}
	return out;
}
