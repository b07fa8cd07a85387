/**
 * An entry's history as items (pure): Directus's activity with its revisions, and the part log
 * (trm_audit.entry_rows, db-init/post/116: rows as they were inserted or deleted, whoever wrote them),
 * folded per item into "what happened", with the changed fields before → after.
 *
 * Only fields in `allowed` (what the caller may read of that collection) are used, for the changes
 * and for the sentences; references are shown through `label` (what the caller may read of the
 * referenced row, else nothing).
 */
import type { Row } from '../shared/types';

export const KINDS = ['entry', 'crew', 'device', 'penalty', 'start', 'result', 'crossing', 'faulty-flag', 'course-edit', 'command'] as const;
export type Kind = (typeof KINDS)[number];

/** The entry's own collection and those that hang off it, with the kind their items are. */
export const PARTS: Readonly<Record<string, Kind>> = {
	entries: 'entry',
	entry_crew: 'crew',
	entry_devices: 'device',
	entry_penalties: 'penalty',
	entry_segment_starts: 'start',
	stage_results: 'result',
	entry_crossings: 'crossing',
};

/** Reference fields and the collection they point to (labels), and fields that are never shown. */
export const REFERENCES: Readonly<Record<string, string>> = {
	user_id: 'directus_users',
	assigned_user_id: 'directus_users',
	reviewed_by: 'directus_users',
	device_id: 'devices',
	class_id: 'classes',
	vehicle_id: 'vehicles',
	stage_id: 'stages',
	segment_id: 'segments',
	waypoint_id: 'waypoints',
	geofence_id: 'geofences',
};
const HIDDEN = new Set(['id', 'entry_id', 'event_id', 'created_at', 'updated_at', 'dedupe_key', 'formula_id', 'formula_snapshot', 'timeline']);

export interface Activity {
	id: number;
	action: string;
	user: string | null;
	timestamp: string;
	collection: string;
	item: string;
	data: Row | null;
	delta: Row | null;
}

export interface LogRow {
	id: number;
	at: string;
	op: 'insert' | 'delete';
	collection: string;
	item: string;
	row: Row;
}

export interface Change {
	field: string;
	before: string | null;
	after: string | null;
}

export interface Item {
	at: string;
	seq: number;
	kind: Kind;
	action: string;
	user: string | null;
	what: string;
	changes: Change[];
	collection: string;
	item: string;
}

export type Label = (collection: string, id: string) => string | null;

export function display(field: string, value: unknown, label: Label): string | null {
	if (value === null || value === undefined || value === '') return null;
	const ref = REFERENCES[field];
	if (ref) return label(ref, String(value));
	if (typeof value === 'object') return JSON.stringify(value);
	if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return new Date(value).toISOString();
	return String(value);
}

const duration = (s: unknown): string => {
	const n = Number(s);
	return n >= 60 && n % 60 === 0 ? `${n / 60} min` : `${n} s`;
};

/** The sentence of an item: what happened to the row, in the words of the collection. */
export function sentence(collection: string, action: string, row: Row, changed: readonly Change[], show: (f: string) => string | null): string {
	const has = (f: string) => changed.some((c) => c.field === f);
	const change = (f: string) => changed.find((c) => c.field === f);
	const name = (f: string, fallback: string) => show(f) ?? fallback;
	const list = changed.map((c) => c.field).join(', ');
	switch (collection) {
		case 'entries': {
			const n = show('race_number') ? `#${show('race_number')}` : 'the entry';
			if (action === 'create') return `Entry ${n} registered${show('class_id') ? ` in ${show('class_id')}` : ''}${show('status') ? ` (${show('status')})` : ''}`;
			if (action === 'delete') return `Entry ${n} deleted`;
			if (has('status')) return `Status ${change('status')!.before ?? '?'} → ${change('status')!.after ?? '?'}`;
			if (has('class_id')) return `Class ${change('class_id')!.before ?? '?'} → ${change('class_id')!.after ?? '?'}`;
			return `Entry changed: ${list || 'no field you may read'}`;
		}
		case 'entry_crew': {
			const who = name('user_id', 'A crew member');
			if (action === 'create') return `${who} joined the crew${show('role') ? ` as ${show('role')}` : ''}`;
			if (action === 'delete') return `${who} left the crew${show('role') ? ` (${show('role')})` : ''}`;
			if (has('role')) return `${who}: role ${change('role')!.before ?? '?'} → ${change('role')!.after ?? '?'}`;
			return `Crew member changed: ${list}`;
		}
		case 'entry_devices': {
			const dev = name('device_id', 'a device');
			if (action === 'create') return `Device ${dev} assigned${show('purpose') ? ` (${show('purpose')})` : ''}`;
			if (action === 'delete') return `Device ${dev} removed${show('purpose') ? ` (${show('purpose')})` : ''}`;
			if (has('device_id')) return `Device swapped: ${change('device_id')!.before ?? '?'} → ${change('device_id')!.after ?? '?'}`;
			return `Device ${dev} changed: ${list}`;
		}
		case 'entry_penalties': {
			const what = `${show('type') ?? 'penalty'}${show('seconds') ? `, ${duration(show('seconds'))}` : ''}${show('stage_id') ? ` (${show('stage_id')})` : ''}`;
			if (action === 'create') return `Penalty ${show('status') && show('status') !== 'proposed' ? show('status') : 'proposed'}: ${what}`;
			if (action === 'delete') return `Penalty deleted: ${what}`;
			if (has('status')) return `Penalty ${change('status')!.after ?? '?'}: ${what}${show('note') ? ` — ${show('note')}` : ''}`;
			if (has('seconds')) return `Penalty ${show('type') ?? ''} changed: ${duration(change('seconds')!.before)} → ${duration(change('seconds')!.after)}${show('note') ? ` — ${show('note')}` : ''}`;
			return `Penalty changed: ${list}`;
		}
		case 'entry_segment_starts': {
			const slot = `${show('segment_id') ?? 'a segment'}${show('start_position') ? `, position ${show('start_position')}` : ''}${show('target_at') ? ` at ${show('target_at')}` : ''}`;
			if (action === 'create') return `Start slot: ${slot}`;
			if (action === 'delete') return `Start slot removed: ${slot}`;
			if (has('target_at')) return `Start time ${change('target_at')!.before ?? '?'} → ${change('target_at')!.after ?? '?'} (${show('segment_id') ?? 'segment'})`;
			return `Start slot changed: ${list}`;
		}
		case 'stage_results': {
			const stage = name('stage_id', 'a stage');
			if (action === 'publish') return `Result of ${stage} published: ${show('total_seconds') ?? '?'} s, rank ${show('rank_overall') ?? '-'} overall, ${show('rank_class') ?? '-'} in class`;
			if (action === 'create') return `Result of ${stage} recorded${show('elapsed_seconds') ? `: ${show('elapsed_seconds')} s` : ''}`;
			if (action === 'delete') return `Result of ${stage} deleted`;
			return `Result of ${stage} changed: ${list}`;
		}
		case 'entry_crossings': {
			const target = show('waypoint_id') ?? show('geofence_id') ?? 'a control';
			if (action === 'create') return `Crossing of ${target} at ${show('ts') ?? '?'} recorded (${show('source') ?? 'manual'})${show('note') ? ` — ${show('note')}` : ''}`;
			if (action === 'delete') return `Crossing of ${target} deleted`;
			return `Crossing of ${target} changed: ${list}`;
		}
	}
	return `${collection} ${action}`;
}

const shown = (collection: string, field: string, allowed: ReadonlySet<string>): boolean =>
	!HIDDEN.has(field) && (allowed.has('*') || allowed.has(field)) && !(collection === 'entries' && field === 'timeline');

/**
 * The items of one row (collection, item): its activity (oldest first, each with its revision) and
 * its part-log rows. Values are carried forward: an update's before is the row as the previous
 * revision (or the insert log) left it.
 */
export function itemsOf(collection: string, item: string, activity: readonly Activity[], log: readonly LogRow[], allowed: ReadonlySet<string>, label: Label): Item[] {
	const kind = PARTS[collection] ?? 'entry';
	const inserted = log.find((l) => l.op === 'insert');
	const deleted = log.find((l) => l.op === 'delete');
	let state: Row = { ...(inserted?.row ?? {}) };
	const out: Item[] = [];
	const make = (at: string, seq: number, action: string, user: string | null, row: Row, changes: Change[]): Item => {
		const show = (f: string) => (shown(collection, f, allowed) ? display(f, row[f], label) : null);
		return { at, seq, kind, action, user, what: sentence(collection, action, row, changes, show), changes, collection, item };
	};
	const fieldsOf = (row: Row): Change[] =>
		Object.keys(row)
			.filter((f) => shown(collection, f, allowed))
			.map((f) => ({ field: f, before: null, after: display(f, row[f], label) }))
			.filter((c) => c.after !== null);
	let created = false;
	for (const a of activity) {
		if (a.action === 'create') {
			created = true;
			state = { ...state, ...(a.data ?? {}) };
			out.push(make(a.timestamp, a.id, 'create', a.user, state, fieldsOf(state)));
		} else if (a.action === 'update') {
			const delta = a.delta ?? {};
			const changes = Object.keys(delta)
				.filter((f) => shown(collection, f, allowed))
				.map((f) => ({ field: f, before: display(f, state[f], label), after: display(f, delta[f], label) }))
				.filter((c) => c.before !== c.after);
			state = { ...state, ...(a.data ?? {}), ...delta };
			if (changes.length > 0 || Object.keys(delta).length === 0) out.push(make(a.timestamp, a.id, 'update', a.user, state, changes));
		} else if (a.action === 'delete') {
			out.push(make(a.timestamp, a.id, 'delete', a.user, { ...state, ...(deleted?.row ?? {}) }, []));
		}
	}
	// Written without Directus (the processor, stage opening, SQL): the part log has it, no activity.
	const logSeq = (l: LogRow) => 1e12 + l.id;
	if (!created && inserted) {
		const at = typeof inserted.row['created_at'] === 'string' ? new Date(inserted.row['created_at']).toISOString() : inserted.at;
		out.unshift(make(at, logSeq(inserted), 'create', null, inserted.row, fieldsOf(inserted.row)));
	}
	if (deleted && !activity.some((a) => a.action === 'delete')) out.push(make(deleted.at, logSeq(deleted), 'delete', null, deleted.row, []));
	return out;
}
