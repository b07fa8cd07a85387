/**
 * Timeline items that are not rows of the entry: results published with their stage, recompute
 * requests (faulty flags of the entry's devices during its event, course edits of its event's
 * stages), and device commands.
 *
 * Extension point: every source is a function from the entry's context to items, listed in SOURCES.
 * Device commands (issue 28: `commands`, device_id -> devices, queued_at, status and its times,
 * requested_by) are read through Directus as the caller, so its access rules decide what shows; the
 * source skips a database without that collection. A new source (say, marshal notes) is one function here.
 */
import type { Db, Row } from '../shared/types';
import type { Item, Label } from './history';

export interface Context {
	db: Db;
	entry: Row;
	event: { starts_at: Date; ends_at: Date };
	/** The entry's devices (current and removed): id -> IMEI. */
	devices: Map<string, string>;
	/** The entry's current stage results the caller may read. */
	results: Row[];
	read(collection: string, query: Row): Promise<Row[]>;
	has(collection: string): boolean;
}

/** References whose labels a source needs (its actors among them), and its items once the labels are read. */
export interface Found {
	refs: [string, string][];
	build(label: Label): Item[];
}

const users = (rows: readonly Row[], field: string): [string, string][] =>
	rows.filter((r) => r[field]).map((r) => ['directus_users', String(r[field])]);
type Source = (ctx: Context) => Promise<Found>;
const none: Found = { refs: [], build: () => [] };

const rows = async (db: Db, sql: string, bindings: readonly unknown[]): Promise<Row[]> => ((await db.raw(sql, bindings as unknown[])) as { rows: Row[] }).rows;
const iso = (v: unknown): string => new Date(v as string | Date).toISOString();
const item = (at: unknown, seq: number, kind: Item['kind'], action: string, user: unknown, what: string, collection: string, id: unknown): Item => ({
	at: iso(at),
	seq,
	kind,
	action,
	user: user ? String(user) : null,
	what,
	changes: [],
	collection,
	item: String(id),
});

/** Results become official when their stage is published: the stage's update at that moment says who. */
const published: Source = async ({ db, results }) => {
	const done = results.filter((r) => r['published_at']);
	if (done.length === 0) return none;
	// The update that made the stage official (its revision says so), the one closest to published_at
	// (the database's now() in that transaction; Directus stamps its activity with its own clock).
	const who = await rows(
		db,
		`SELECT DISTINCT ON (s.stage) s.stage, a."user"
		   FROM unnest(?::text[], ?::timestamptz[]) AS s(stage, published)
		   JOIN directus_activity a ON a.collection = 'stages' AND a.item = s.stage AND a.action = 'update'
		   JOIN directus_revisions r ON r.activity = a.id AND r.delta->>'status' = 'official'
		  ORDER BY s.stage, abs(extract(epoch FROM a.timestamp - s.published))`,
		[done.map((r) => String(r['stage_id'])), done.map((r) => iso(r['published_at']))],
	);
	const build = (label: Label) => done.map((r, i) => {
		const by = who.find((w) => String(w['stage']) === String(r['stage_id']));
		const stage = label('stages', String(r['stage_id'])) ?? 'a stage';
		const what = `Result of ${stage} published: ${r['total_seconds'] ?? '?'} s, rank ${r['rank_overall'] ?? '-'} overall, ${r['rank_class'] ?? '-'} in class`;
		return item(r['published_at'], 3e12 + i, 'result', 'publish', by?.['user'], what, 'stage_results', r['id']);
	});
	return { refs: [...done.map((r): [string, string] => ['stages', String(r['stage_id'])]), ...users(who, 'user')], build };
};

const faultyFlags: Source = async ({ db, devices, event }) => {
	if (devices.size === 0) return none;
	const found = await rows(
		db,
		`SELECT id, device_id, window_start, window_end, faulty, reason, requested_by, requested_at, rows_changed FROM recompute_requests
		  WHERE kind = 'faulty-flag' AND device_id = ANY(?) AND window_start < ? AND window_end > ?`,
		[[...new Set(devices.values())], event.ends_at, event.starts_at],
	);
	const byImei = new Map([...devices].map(([id, imei]) => [imei, id]));
	const build = (label: Label) => found.map((r, i) => {
		const dev = label('devices', byImei.get(String(r['device_id'])) ?? '') ?? 'a device of the entry';
		const what = `Positions of ${dev} ${r['faulty'] ? 'flagged faulty' : 'cleared'} from ${iso(r['window_start'])} to ${iso(r['window_end'])}: ${String(r['reason'])} (${String(r['rows_changed'])} positions; recompute requested)`;
		return item(r['requested_at'], 4e12 + i, 'faulty-flag', r['faulty'] ? 'flag' : 'clear', r['requested_by'], what, 'recompute_requests', r['id']);
	});
	return { refs: [...[...devices.keys()].map((id): [string, string] => ['devices', id]), ...users(found, 'requested_by')], build };
};

const courseEdits: Source = async ({ db, entry }) => {
	const found = await rows(
		db,
		`SELECT r.id, r.stage_id, r.object_collection, r.object_id, r.changed_fields, r.requested_by, r.requested_at
		   FROM recompute_requests r JOIN stages st ON st.id = r.stage_id
		  WHERE r.kind = 'course-edit' AND st.event_id = ?`,
		[entry['event_id']],
	);
	const noun: Row = { waypoints: 'a waypoint', geofences: 'a geofence', speed_limit_zones: 'a speed zone' };
	const build = (label: Label) => found.map((r, i) => {
		const object = label(String(r['object_collection']), String(r['object_id'])) ?? String(noun[String(r['object_collection'])]);
		const stage = label('stages', String(r['stage_id'])) ?? 'a stage';
		const what = `Course edit: ${object} of ${stage} (${(r['changed_fields'] as string[]).join(', ')}) — recompute of the stage requested`;
		return item(r['requested_at'], 5e12 + i, 'course-edit', 'edit', r['requested_by'], what, 'recompute_requests', r['id']);
	});
	const refs = found.flatMap((r): [string, string][] => [[String(r['object_collection']), String(r['object_id'])], ['stages', String(r['stage_id'])]]);
	return { refs: [...refs, ...users(found, 'requested_by')], build };
};

/** Commands to the entry's devices during its event (issue 28's `commands`), as the caller may read them. */
const commands: Source = async ({ devices, event, read, has }) => {
	if (!has('commands') || devices.size === 0) return none;
	let found: Row[];
	try {
		found = await read('commands', {
			filter: { device_id: { _in: [...devices.keys()] }, queued_at: { _between: [event.starts_at.toISOString(), event.ends_at.toISOString()] } },
			fields: ['*'],
			limit: -1,
		});
	} catch {
		return none; // the caller may not read commands
	}
	const times = ['acked_at', 'nacked_at', 'timed_out_at', 'failed_at', 'sent_at'];
	const build = (label: Label) => found.map((c, i) => {
		const end = times.find((t) => c[t]);
		const dev = label('devices', String(c['device_id'])) ?? 'a device of the entry';
		const what = `Command ${String(c['kind'])} to ${dev}: ${String(c['status'] ?? 'queued')}${end ? ` at ${iso(c[end])}` : ''}`;
		return item(c['queued_at'], 6e12 + i, 'command', String(c['status'] ?? 'queued'), c['requested_by'], what, 'commands', c['id']);
	});
	return { refs: [...found.map((c): [string, string] => ['devices', String(c['device_id'])]), ...users(found, 'requested_by')], build };
};

export const SOURCES: readonly Source[] = [published, faultyFlags, courseEdits, commands];
