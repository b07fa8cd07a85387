import { describe, expect, it } from 'vitest';
import { closingTime, startSlots, type SegmentTimes } from '../src/stages/schedule';

const T0 = new Date('2026-06-08T07:00:00Z');
const at = (iso: string | null): Date | null => (iso === null ? null : new Date(iso));
const seg = (id: string, target: number | null, max: number | null = null): SegmentTimes => ({
	id,
	target_duration_seconds: target,
	max_duration_seconds: max,
});
const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

describe('start slots', () => {
	it('positions and interval on the first segment, target durations after it', () => {
		const slots = startSlots(['a', 'b'], [seg('liaison', 3600), seg('ss', 5400), seg('liaison2', null)], T0, 120);
		expect(slots.map((s) => [s.entry_id, s.segment_id, s.start_position, iso(s.target_at)])).toEqual([
			['a', 'liaison', 1, '2026-06-08T07:00:00.000Z'],
			['a', 'ss', 1, '2026-06-08T08:00:00.000Z'],
			['a', 'liaison2', 1, '2026-06-08T09:30:00.000Z'],
			['b', 'liaison', 2, '2026-06-08T07:02:00.000Z'],
			['b', 'ss', 2, '2026-06-08T08:02:00.000Z'],
			['b', 'liaison2', 2, '2026-06-08T09:32:00.000Z'],
		]);
	});
	it('targets after a segment without a target duration are unknown', () => {
		const slots = startSlots(['a'], [seg('s1', null), seg('s2', 60), seg('s3', 60)], T0, 60);
		expect(slots.map((s) => iso(s.target_at))).toEqual(['2026-06-08T07:00:00.000Z', null, null]);
	});
	it('a mass start (interval 0): every starter at the same time, positions still distinct', () => {
		const slots = startSlots(['a', 'b', 'c'], [seg('s1', null)], T0, 0);
		expect(slots.map((s) => [s.start_position, iso(s.target_at)])).toEqual([
			[1, '2026-06-08T07:00:00.000Z'],
			[2, '2026-06-08T07:00:00.000Z'],
			[3, '2026-06-08T07:00:00.000Z'],
		]);
	});
	it.each<[string, string[], SegmentTimes[]]>([
		['no starters', [], [seg('s1', 60)]],
		['no segments', ['a', 'b'], []],
	])('an empty stage (%s): no slots', (_name, order, segments) => {
		expect(startSlots(order, segments, T0, 60)).toEqual([]);
	});
});

describe('control closing time', () => {
	it.each<[string, (string | null)[], number | null, string | null]>([
		['last start + max', ['2026-06-08T07:00:00Z', '2026-06-08T07:58:00Z', '2026-06-08T07:02:00Z'], 7200, '2026-06-08T09:58:00.000Z'],
		['unknown targets ignored', [null, '2026-06-08T07:00:00Z'], 60, '2026-06-08T07:01:00.000Z'],
		['no maximum time', ['2026-06-08T07:00:00Z'], null, null],
		['no starts (empty stage)', [], 7200, null],
		['only unknown targets', [null, null], 7200, null],
	])('%s', (_name, targets, max, expected) => {
		expect(iso(closingTime(targets.map(at), max))).toEqual(expected);
	});
});
