import { describe, expect, it } from 'vitest';
import { crossingChange, parsePreview, penaltySeconds, totals, type FormulaRow } from '../src/course/contract';
import { courseEditFields } from '../src/course/request';
import { streamFields } from '../src/faulty/request';

const id = '0b9c6f3e-1d2a-4c55-9a53-5d3c1c0f8e11';

describe('the preview request', () => {
	it('takes one object and the fields that decide crossings, as a PATCH carries them', () => {
		const r = parsePreview({ collection: 'waypoints', id, changes: { location: { type: 'Point', coordinates: [20, 41.5] } } });
		expect(r).toEqual({ collection: 'waypoints', id, changes: { location: { type: 'Point', coordinates: [20, 41.5] } } });
		expect(parsePreview({ collection: 'speed_limit_zones', id, changes: { speed_limit_kmh: 80, enabled: false } })).not.toBeInstanceOf(Array);
	});
	it.each<[string, unknown, string]>([
		['another collection', { collection: 'entries', id, changes: { notes: 'x' } }, 'collection must be one of waypoints, geofences, speed_limit_zones'],
		['no id', { collection: 'geofences', changes: { geometry: null } }, 'id must be the UUID of the item to change'],
		['no changes', { collection: 'geofences', id, changes: {} }, 'changes must be an object with the fields to change, as a PATCH would carry them'],
		['a field that decides nothing', { collection: 'waypoints', id, changes: { notes: 'x', code: 'WP9' } }, 'waypoints: a preview takes the fields that decide crossings (location, open_radius_m, validation_radius_m), not notes, code'],
		['an unknown key', { collection: 'geofences', id, changes: { geometry: null }, dry: true }, 'unknown field(s): dry'],
	])('refuses %s', (_name, body, problem) => {
		expect(parsePreview(body)).toEqual([problem]);
	});
	it('lists every problem of an empty body', () => {
		expect(parsePreview(null)).toHaveLength(3);
	});
});

const flat: FormulaRow[] = [{ id: 'f', offence_min: null, offence_max: null, operator: 'flat', penalty_seconds: 900 }];
const brackets: FormulaRow[] = [
	{ id: 'a', offence_min: 0, offence_max: 20, operator: 'flat', penalty_seconds: 60 },
	{ id: 'b', offence_min: 20, offence_max: 40, operator: 'flat', penalty_seconds: 120 },
	{ id: 'c', offence_min: 40, offence_max: null, operator: 'flat', penalty_seconds: 180 },
];

describe('penalty seconds under a rule', () => {
	it.each<[string, FormulaRow[], number, number]>([
		['a flat rule, once', flat, 1, 900],
		['a per-unit rule, per unit', [{ ...flat[0]!, operator: 'per_unit', penalty_seconds: 60 }], 3, 180],
		['the first bracket (0 < 1 ≤ 20)', brackets, 1, 60],
		['a bracket bound belongs below (20 is ≤ 20)', brackets, 20, 60],
		['just above it', brackets, 21, 120],
		['27 km/h over', brackets, 27, 120],
		['the open-ended bracket', brackets, 95, 180],
		['no offence', brackets, 0, 0],
		['no rule', [], 5, 0],
	])('%s', (_name, rule, offence, seconds) => {
		expect(penaltySeconds(rule, offence)).toBe(seconds);
	});
});

describe('a crossing before and after', () => {
	const at = (ts: string) => ({ ts, device_imei: '356307042441013' });
	it.each([
		[null, at('2026-06-07T08:00:00.000Z'), 'gained'],
		[at('2026-06-07T08:00:00.000Z'), null, 'lost'],
		[at('2026-06-07T08:00:00.000Z'), at('2026-06-07T08:00:10.000Z'), 'moved'],
		[at('2026-06-07T08:00:00.000Z'), at('2026-06-07T08:00:00.000Z'), null],
		[null, null, null],
	])('%j → %j is %s', (before, after, change) => {
		expect(crossingChange(before, after)).toBe(change);
	});
});

describe('totals', () => {
	it('counts entries, crossings and penalties, and says it', () => {
		const t = totals([
			{ crossings: [{ change: 'lost' }], penalties: [{ type: 'missed_waypoint', dedupe_key: 'k', before_seconds: 0, after_seconds: 3600, inputs_before: null, inputs_after: null }] },
			{ crossings: [{ change: 'gained' }, { change: 'moved' }], penalties: [] },
		]);
		expect(t).toMatchObject({ entries_affected: 2, crossings_gained: 1, crossings_lost: 1, crossings_moved: 1, penalties_changed: 1, penalty_seconds_after: 3600 });
		expect(t.summary).toBe('affects 2 entries, 1 penalty changes (crossings: 1 gained, 1 lost, 1 moved; penalty seconds 0 → 3600)');
		expect(totals([]).summary).toBe('affects 0 entries, 0 penalties change');
	});
});

describe('the course-edit stream message', () => {
	it('is version 2 with the documented fields in order, on the same stream function as the faulty flag', () => {
		const r = {
			kind: 'course-edit' as const,
			id,
			stage_id: '11111111-1111-4111-8111-111111111111',
			object_collection: 'waypoints',
			object_id: '22222222-2222-4222-8222-222222222222',
			changed_fields: ['location', 'validation_radius_m'],
			reason: 'WPN WP3 of Stage 1: location, validation_radius_m changed',
			requested_by: null,
			requested_at: new Date('2026-06-08T12:00:00.123Z'),
		};
		const fields = streamFields(r);
		expect(fields).toEqual(courseEditFields(r));
		expect(fields.filter((_, i) => i % 2 === 0)).toEqual([
			'version', 'request_id', 'kind', 'stage_id', 'object_collection', 'object_id', 'changed_fields', 'reason', 'requested_by', 'requested_at',
		]);
		expect(fields.slice(0, 2)).toEqual(['version', '2']);
		expect(fields[fields.indexOf('changed_fields') + 1]).toBe('location,validation_radius_m');
	});
});
