import { describe, expect, it } from 'vitest';
import { mayCopy } from '../src/crew/endpoint';
import { flagRefusal, mayFlag } from '../src/faulty/access';

const user = { user: 'u1', admin: false };
const admin = { user: 'a1', admin: true };

describe('who may flag positions (roles on the organisations owning the device)', () => {
	it.each([
		[admin, [], true],
		[user, [], false],
		[user, ['marshal'], true],
		[user, ['race-director'], true],
		[user, ['org-admin'], true],
		[user, ['participant'], false],
		[user, ['viewer', 'timekeeper'], false],
		[user, ['participant', 'marshal'], true],
	])('%o with %o -> %s', (caller, roles, allowed) => {
		expect(mayFlag(caller, roles)).toBe(allowed);
	});
});

describe('who may copy a crew (roles on the organisation of the target entry)', () => {
	it.each([
		[admin, [], true],
		[user, [], false],
		[user, ['org-admin'], true],
		[user, ['race-director'], true],
		[user, ['marshal'], false],
		[user, ['participant'], false],
	])('%o with %o -> %s', (caller, roles, allowed) => {
		expect(mayCopy(caller, roles)).toBe(allowed);
	});
});

describe('when a flag is refused (events using the device, their dates, the caller\'s roles there)', () => {
	const rally = { name: 'Rally Albania 2026', starts_at: new Date('2026-06-06T00:00:00Z'), ends_at: new Date('2026-06-13T23:59:59Z') };
	const inRally: [Date, Date] = [new Date('2026-06-08T07:00:00Z'), new Date('2026-06-08T08:00:00Z')];
	const after: [Date, Date] = [new Date('2026-06-20T07:00:00Z'), new Date('2026-06-20T08:00:00Z')];
	const across: [Date, Date] = [new Date('2026-06-13T23:00:00Z'), new Date('2026-06-14T01:00:00Z')];
	it.each([
		['an administrator, no event', admin, [], inRally, null],
		['a marshal of the event, inside its dates', user, [{ ...rally, roles: ['marshal'] }], inRally, null],
		['a marshal of the event, after it', user, [{ ...rally, roles: ['marshal'] }], after, 'within the dates'],
		['a marshal of the event, a window that ends after it', user, [{ ...rally, roles: ['marshal'] }], across, 'within the dates'],
		['a participant of the event', user, [{ ...rally, roles: ['participant'] }], inRally, 'may not flag the positions'],
		['nobody there (or no such device)', user, [], inRally, 'may not flag the positions'],
	])('%s', (_what, caller, events, [from, to], refusal) => {
		const got = flagRefusal(caller, events, from, to, '356307042441013');
		if (refusal === null) expect(got).toBeNull();
		else expect(got).toContain(refusal);
	});
	it('names the dates of the caller\'s events, and only of those', () => {
		const got = flagRefusal(user, [{ ...rally, roles: ['race-director'] }], ...after, '356307042441013');
		expect(got).toContain('Rally Albania 2026 (2026-06-06T00:00:00.000Z');
	});
});
