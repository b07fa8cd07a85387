/**
 * The retroactivity preview's pure part: the request (which fields of which collection decide
 * crossings), a penalty's seconds under a rule (db-init/README.md "The processor contract"), and the
 * comparison of an entry's crossing and penalty before and after an edit.
 */
import type { Row } from '../shared/types';

/** The fields that decide crossings and penalties, per collection a preview and a course-edit request cover. */
export const DECIDING: Readonly<Record<string, readonly string[]>> = {
	waypoints: ['location', 'open_radius_m', 'validation_radius_m'],
	geofences: ['geometry'],
	speed_limit_zones: ['geometry', 'speed_limit_kmh', 'enabled'],
};

/** Waypoints that are validated in sequence: missing one costs a missed_waypoint penalty (course/document.py). */
export const VALIDATED_IN_SEQUENCE: readonly string[] = ['DSS', 'ASS', 'WPV', 'WPM', 'WPE', 'WPS', 'WPC', 'WPN', 'WPP', 'CP'];

export interface PreviewRequest {
	collection: keyof typeof DECIDING & string;
	id: string;
	changes: Row;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The validated request, or every problem of the body. Values are checked by Directus (the update it would be). */
export function parsePreview(body: unknown): PreviewRequest | string[] {
	const problems: string[] = [];
	const b = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Row;
	const collection = b['collection'];
	const deciding = typeof collection === 'string' ? DECIDING[collection] : undefined;
	if (!deciding) problems.push(`collection must be one of ${Object.keys(DECIDING).join(', ')}`);
	if (typeof b['id'] !== 'string' || !UUID.test(b['id'])) problems.push('id must be the UUID of the item to change');
	const changes = b['changes'];
	if (!changes || typeof changes !== 'object' || Array.isArray(changes) || Object.keys(changes).length === 0) {
		problems.push('changes must be an object with the fields to change, as a PATCH would carry them');
	} else if (deciding) {
		const other = Object.keys(changes).filter((k) => !deciding.includes(k));
		if (other.length > 0) {
			problems.push(`${String(collection)}: a preview takes the fields that decide crossings (${deciding.join(', ')}), not ${other.join(', ')}`);
		}
	}
	const unknown = Object.keys(b).filter((k) => !['collection', 'id', 'changes'].includes(k));
	if (unknown.length > 0) problems.push(`unknown field(s): ${unknown.join(', ')}`);
	if (problems.length > 0) return problems;
	return { collection: collection as PreviewRequest['collection'], id: b['id'] as string, changes: changes as Row };
}

/** A row of trm_timing.penalty_formula_for: one flat row, or brackets in order. */
export interface FormulaRow {
	id: string;
	offence_min: number | null;
	offence_max: number | null;
	operator: string;
	penalty_seconds: number;
}

/** Seconds under the rule for an offence (flat: once; per_unit: × the offence); 0 without a rule or a bracket. */
export function penaltySeconds(rule: readonly FormulaRow[], offence: number): number {
	const row = rule.find((r) => r.offence_min === null) ?? rule.find((r) => r.offence_min !== null && r.offence_min < offence && (r.offence_max === null || offence <= r.offence_max));
	if (!row) return 0;
	return row.operator === 'per_unit' ? row.penalty_seconds * offence : row.penalty_seconds;
}

/** A crossing as the contract decides it: when, with which device (null: not crossed). */
export interface Crossing {
	ts: string;
	device_imei: string;
}

export type CrossingChange = 'gained' | 'lost' | 'moved';

export function crossingChange(before: Crossing | null, after: Crossing | null): CrossingChange | null {
	if (!before && after) return 'gained';
	if (before && !after) return 'lost';
	if (before && after && before.ts !== after.ts) return 'moved';
	return null;
}

/** One entry's penalty under the contract, before and after (seconds 0: none). */
export interface PenaltyChange {
	type: string;
	dedupe_key: string;
	before_seconds: number;
	after_seconds: number;
	inputs_before: Row | null;
	inputs_after: Row | null;
}

export interface Totals {
	entries_affected: number;
	crossings_gained: number;
	crossings_lost: number;
	crossings_moved: number;
	penalties_changed: number;
	penalty_seconds_before: number;
	penalty_seconds_after: number;
}

/** The totals of the entries a preview lists, and the sentence that says them. */
export function totals(entries: readonly { crossings: readonly { change: CrossingChange }[]; penalties: readonly PenaltyChange[] }[]): Totals & { summary: string } {
	const t: Totals = {
		entries_affected: entries.length,
		crossings_gained: 0,
		crossings_lost: 0,
		crossings_moved: 0,
		penalties_changed: 0,
		penalty_seconds_before: 0,
		penalty_seconds_after: 0,
	};
	for (const e of entries) {
		for (const c of e.crossings) t[`crossings_${c.change}`]++;
		for (const p of e.penalties) {
			t.penalties_changed++;
			t.penalty_seconds_before += p.before_seconds;
			t.penalty_seconds_after += p.after_seconds;
		}
	}
	const n = (k: number, one: string, many: string) => `${k} ${k === 1 ? one : many}`;
	const summary =
		`affects ${n(t.entries_affected, 'entry', 'entries')}, ${n(t.penalties_changed, 'penalty changes', 'penalties change')}` +
		(t.entries_affected > 0
			? ` (crossings: ${t.crossings_gained} gained, ${t.crossings_lost} lost, ${t.crossings_moved} moved; ` +
				`penalty seconds ${t.penalty_seconds_before} → ${t.penalty_seconds_after})`
			: '');
	return { ...t, summary };
}
