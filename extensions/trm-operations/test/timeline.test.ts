import { describe, expect, it } from 'vitest';
import { itemsOf, type Activity, type Label, type LogRow } from '../src/timeline/history';
import { pageOf, parsePage } from '../src/timeline/page';
import { durationMs } from '../src/timeline/retention';

const names: Record<string, string> = { 'directus_users/u1': 'Paul Pilot', 'devices/d1': '356307042441013', 'devices/d2': '356307042441021', 'classes/k1': 'C-2', 'classes/k2': 'C-1' };
const label: Label = (c, id) => names[`${c}/${id}`] ?? null;
const all = new Set(['*']);
const act = (id: number, action: string, data: object | null, delta: object | null, user: string | null = 'u9'): Activity => ({
	id,
	action,
	user,
	timestamp: `2026-06-0${id}T08:00:00.000Z`,
	collection: 'entry_devices',
	item: 'r1',
	data: data as Activity['data'],
	delta: delta as Activity['delta'],
});

describe('an item history', () => {
	// Directus's create revision has no relational field: the part log has the row as it was inserted.
	const inserted: LogRow = { id: 1, at: '2026-06-01T08:00:00.000Z', op: 'insert', collection: 'entry_devices', item: 'r1', row: { id: 'r1', entry_id: 'e', device_id: 'd1', purpose: 'chassis' } };
	it('takes a creation from the activity and its values from the part log', () => {
		const [created] = itemsOf('entry_devices', 'r1', [act(1, 'create', { purpose: 'chassis' }, { purpose: 'chassis' })], [inserted], all, label);
		expect(created).toMatchObject({ kind: 'device', action: 'create', user: 'u9', what: 'Device 356307042441013 assigned (chassis)' });
		expect(created!.changes).toEqual([
			{ field: 'device_id', before: null, after: '356307042441013' },
			{ field: 'purpose', before: null, after: 'chassis' },
		]);
	});
	it('shows an update as before → after, the before carried from what came earlier', () => {
		const history = [act(1, 'create', { purpose: 'chassis' }, { purpose: 'chassis' }), act(2, 'update', { id: 'r1', device_id: 'd2', purpose: 'chassis' }, { device_id: 'd2' })];
		const items = itemsOf('entry_devices', 'r1', history, [inserted], all, label);
		expect(items[1]).toMatchObject({ action: 'update', what: 'Device swapped: 356307042441013 → 356307042441021' });
		expect(items[1]!.changes).toEqual([{ field: 'device_id', before: '356307042441013', after: '356307042441021' }]);
	});
	it('keeps a removed row through the part log, and what the system wrote without activity', () => {
		const removed: LogRow = { ...inserted, id: 2, at: '2026-06-03T08:00:00.000Z', op: 'delete' };
		const items = itemsOf('entry_devices', 'r1', [], [inserted, removed], all, label);
		expect(items.map((i) => [i.action, i.user, i.what])).toEqual([
			['create', null, 'Device 356307042441013 assigned (chassis)'],
			['delete', null, 'Device 356307042441013 removed (chassis)'],
		]);
	});
	it('shows only fields the caller may read, and no reference they may not read', () => {
		const crew: LogRow = { id: 3, at: '2026-06-01T08:00:00.000Z', op: 'insert', collection: 'entry_crew', item: 'c1', row: { id: 'c1', entry_id: 'e', user_id: 'u2', role: 'pilot' } };
		const [item] = itemsOf('entry_crew', 'c1', [], [crew], new Set(['role']), label);
		expect(item!.what).toBe('A crew member joined the crew as pilot');
		expect(item!.changes).toEqual([{ field: 'role', before: null, after: 'pilot' }]);
	});
	it('says a status change in words and hides bookkeeping fields', () => {
		const entry: Activity[] = [
			{ ...act(1, 'update', { status: 'confirmed', updated_at: 'x' }, { status: 'confirmed', updated_at: '2026-06-01T09:00:00Z' }), collection: 'entries', item: 'e' },
		];
		const log: LogRow[] = [{ id: 4, at: '2026-05-30T08:00:00.000Z', op: 'insert', collection: 'entries', item: 'e', row: { id: 'e', race_number: 301, status: 'registered', class_id: 'k1' } }];
		const items = itemsOf('entries', 'e', entry, log, all, label);
		expect(items.map((i) => i.what)).toEqual(['Entry #301 registered in C-2 (registered)', 'Status registered → confirmed']);
		expect(items[1]!.changes).toEqual([{ field: 'status', before: 'registered', after: 'confirmed' }]);
	});
});

describe('the timeline query and its page', () => {
	it('defaults to the newest 50 first', () => {
		expect(parsePage({})).toEqual({ order: 'desc', limit: 50, offset: 0, kinds: null });
		expect(parsePage({ order: 'asc', page: '3', limit: '20', kind: 'crew,penalty' })).toEqual({ order: 'asc', limit: 20, offset: 40, kinds: ['crew', 'penalty'] });
	});
	it.each<[string, Record<string, unknown>, string]>([
		['a wrong order', { order: 'new' }, 'order must be asc (oldest first) or desc (newest first)'],
		['a limit over 500', { limit: '501' }, 'limit must be a whole number from 1 to 500'],
		['a negative offset', { offset: '-1' }, 'offset must be a whole number, 0 or more'],
		['page and offset', { page: '2', offset: '5' }, 'give page or offset, not both'],
		['an unknown kind', { kind: 'crew,gossip' }, 'unknown kind(s) gossip: the kinds are entry, crew, device, penalty, start, result, crossing, faulty-flag, course-edit, command'],
		['an unknown parameter', { fields: '*' }, 'unknown parameter(s) fields: the parameters are order, limit, offset, page, kind'],
	])('refuses %s', (_name, query, problem) => {
		expect(parsePage(query)).toEqual([problem]);
	});
	it('orders by time, then by the order things were written, and pages after filtering', () => {
		const item = (at: string, seq: number, kind: 'crew' | 'penalty') => ({ at, seq, kind, action: 'create', user: null, what: `${at}/${seq}`, changes: [], collection: 'c', item: 'i' });
		const items = [item('2026-06-02', 5, 'crew'), item('2026-06-01', 9, 'penalty'), item('2026-06-02', 2, 'penalty'), item('2026-06-03', 1, 'crew')];
		const asc = pageOf(items, { order: 'asc', limit: 10, offset: 0, kinds: null });
		expect(asc.items.map((i) => i.what)).toEqual(['2026-06-01/9', '2026-06-02/2', '2026-06-02/5', '2026-06-03/1']);
		const page = pageOf(items, { order: 'desc', limit: 1, offset: 1, kinds: ['penalty'] });
		expect([page.total, page.counts, page.items.map((i) => i.what)]).toEqual([2, { crew: 2, penalty: 2 }, ['2026-06-01/9']]);
		expect(Object.keys(pageOf([...items].reverse(), { order: 'asc', limit: 1, offset: 0, kinds: null }).counts)).toEqual(['crew', 'penalty']);
	});
});

describe('retention durations as Directus writes them', () => {
	it.each<[unknown, number | null]>([
		['400d', 400 * 86_400_000],
		['90 d', 90 * 86_400_000],
		['12h', 12 * 3_600_000],
		['1w', 7 * 86_400_000],
		[5000, 5000],
		['soon', null],
		['', null],
		['0d', null],
	])('%j', (value, ms) => {
		expect(durationMs(value)).toBe(ms);
	});
});
