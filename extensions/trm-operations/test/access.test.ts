import { describe, expect, it } from 'vitest';
import { mayCopy } from '../src/crew/endpoint';
import { mayFlag } from '../src/faulty/access';

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
