import { describe, expect, it } from 'vitest';
import { MAX_WINDOW_DAYS, STREAM, parseFaultyFlag, streamFields } from '../src/faulty/request';

const ok = { imei: '356307042441013', from: '2026-06-08T07:00:00Z', to: '2026-06-08T09:30:00+02:00', reason: 'multipath in the canyon' };

describe('faulty-flag request validation', () => {
	it('accepts a valid request and defaults faulty to true', () => {
		const r = parseFaultyFlag(ok);
		expect(Array.isArray(r)).toBe(false);
		if (Array.isArray(r)) return;
		expect(r.faulty).toBe(true);
		expect(r.from.toISOString()).toBe('2026-06-08T07:00:00.000Z');
		expect(r.to.toISOString()).toBe('2026-06-08T07:30:00.000Z');
	});
	it('accepts clearing (faulty false) and trims the reason', () => {
		const r = parseFaultyFlag({ ...ok, faulty: false, reason: '  re-checked  ' });
		expect(Array.isArray(r) ? r : [r.faulty, r.reason]).toEqual([false, 're-checked']);
	});
	it.each<[string, Record<string, unknown>, string]>([
		['a short IMEI', { imei: '12345' }, 'imei must be the 15-digit IMEI of the device'],
		['a numeric IMEI', { imei: 356307042441013 }, 'imei must be the 15-digit IMEI of the device'],
		['a window without a timezone', { from: '2026-06-08T07:00:00' }, 'from must be an ISO 8601 timestamp with a timezone, e.g. 2026-06-08T07:00:00Z'],
		['an impossible date', { to: '2026-02-30T07:00:00Z' }, 'to is not a valid timestamp: 2026-02-30T07:00:00Z'],
		['day 32', { to: '2026-06-32T07:00:00Z' }, 'to is not a valid timestamp: 2026-06-32T07:00:00Z'],
		['an empty window', { to: '2026-06-08T07:00:00Z' }, 'to must be after from (the window is [from, to))'],
		['a reversed window', { to: '2026-06-08T06:00:00Z' }, 'to must be after from (the window is [from, to))'],
		['a too long window', { to: '2026-07-10T07:00:00Z' }, `the window is longer than ${MAX_WINDOW_DAYS} days: split it`],
		['no reason', { reason: '   ' }, 'reason is required: say why the positions are (not) faulty'],
		['a very long reason', { reason: 'x'.repeat(501) }, 'reason is longer than 500 characters'],
		['a non-boolean flag', { faulty: 'yes' }, 'faulty must be true (flag) or false (clear)'],
		['an unknown field', { device: 'x' }, 'unknown field(s): device'],
	])('refuses %s', (_name, change, problem) => {
		expect(parseFaultyFlag({ ...ok, ...change })).toEqual([problem]);
	});
	it('reports every problem at once', () => {
		const r = parseFaultyFlag({});
		expect(Array.isArray(r) && r.length).toBe(4);
	});
	it('refuses a non-object body', () => {
		expect(Array.isArray(parseFaultyFlag(null))).toBe(true);
	});
});

describe('the stream message', () => {
	it('has the documented fields in order', () => {
		expect(STREAM).toBe('recompute:requests');
		const fields = streamFields({
			id: '0b9c6f3e-1d2a-4c55-9a53-5d3c1c0f8e11',
			device_id: '356307042441013',
			window_start: new Date('2026-06-08T07:00:00Z'),
			window_end: new Date('2026-06-08T07:30:00Z'),
			faulty: true,
			reason: 'multipath',
			requested_by: null,
			requested_at: new Date('2026-06-08T12:00:00.123Z'),
			rows_changed: 1800,
		});
		expect(fields.filter((_, i) => i % 2 === 0)).toEqual([
			'version', 'request_id', 'kind', 'device_id', 'window_start', 'window_end', 'faulty', 'reason', 'requested_by', 'requested_at', 'rows_changed',
		]);
		expect(fields).toContain('2026-06-08T12:00:00.123Z');
		expect(fields[fields.indexOf('requested_by') + 1]).toBe('');
	});
});
