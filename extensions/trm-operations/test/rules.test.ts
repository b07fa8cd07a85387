import { describe, expect, it } from 'vitest';
import { DISCIPLINES, DISCIPLINE_RULES, ROLES, entryProblems, roleCountProblem, roleProblem, vehicleProblem, type Discipline } from '../src/discipline/rules';

describe('the rule table', () => {
	it('covers every discipline and names only known roles', () => {
		expect(Object.keys(DISCIPLINE_RULES).sort()).toEqual([...DISCIPLINES].sort());
		for (const rule of Object.values(DISCIPLINE_RULES)) {
			for (const role of rule.roles) expect(ROLES).toContain(role);
			for (const role of Object.keys(rule.maxPerRole)) expect(rule.roles).toContain(role);
		}
	});
	it('gives every role a discipline', () => {
		for (const role of ROLES) expect(DISCIPLINES.some((d) => DISCIPLINE_RULES[d].roles.includes(role))).toBe(true);
	});
});

describe.each<[Discipline, string, boolean]>([
	['rally', 'pilot', true],
	['rally', 'rider', true],
	['rally', 'mechanic', true],
	['rally', 'hiker', false],
	['rally', 'runner', false],
	['time-trial', 'navigator', true],
	['time-trial', 'mechanic', false],
	['regatta', 'pilot', true],
	['regatta', 'rider', false],
	['trail-run', 'runner', true],
	['trail-run', 'pilot', false],
	['hike', 'hiker', true],
	['hike', 'runner', false],
	['hike', 'captain', false],
])('role %s / %s', (discipline, role, allowed) => {
	it(allowed ? 'is allowed' : 'is refused with the rule', () => {
		const p = roleProblem(discipline, role);
		if (allowed) expect(p).toBeNull();
		else expect(p).toBe(`crew role ${role} is not allowed in a ${discipline} event (allowed: ${DISCIPLINE_RULES[discipline].roles.join(', ')})`);
	});
});

describe.each<[Discipline, boolean, string | null]>([
	['rally', true, null],
	['rally', false, 'a rally entry needs a vehicle (vehicle_id)'],
	['time-trial', false, 'a time-trial entry needs a vehicle (vehicle_id)'],
	['regatta', false, 'a regatta entry needs a vehicle (vehicle_id)'],
	['trail-run', true, 'a trail-run entry has no vehicle (vehicle_id must be empty)'],
	['trail-run', false, null],
	['hike', true, 'a hike entry has no vehicle (vehicle_id must be empty)'],
	['hike', false, null],
])('vehicle in a %s entry (has vehicle: %s)', (discipline, hasVehicle, expected) => {
	it('answers the rule or null', () => expect(vehicleProblem(discipline, hasVehicle)).toBe(expected));
});

describe('role counts', () => {
	it.each<[Discipline, string, number, boolean]>([
		['rally', 'pilot', 1, true],
		['rally', 'pilot', 2, false],
		['rally', 'navigator', 3, true],
		['rally', 'rider', 2, false],
		['trail-run', 'runner', 2, false],
		['hike', 'hiker', 12, true],
	])('%s: %s x%i ok=%s', (discipline, role, n, ok) => {
		expect(roleCountProblem(discipline, role, n) === null).toBe(ok);
	});
});

describe('whole entries', () => {
	it('accepts the seed shapes: car crew, moto rider, SSV', () => {
		expect(entryProblems('rally', true, ['pilot', 'co-pilot'])).toEqual([]);
		expect(entryProblems('rally', true, ['rider'])).toEqual([]);
		expect(entryProblems('rally', true, ['pilot', 'navigator'])).toEqual([]);
	});
	it('lists every broken rule once', () => {
		expect(entryProblems('trail-run', true, ['runner', 'runner', 'hiker', 'hiker'])).toEqual([
			'a trail-run entry has no vehicle (vehicle_id must be empty)',
			'crew role hiker is not allowed in a trail-run event (allowed: runner)',
			'a trail-run entry has at most 1 runner (this would make 2)',
		]);
	});
	it('accepts an empty crew (crew is added after the entry)', () => {
		expect(entryProblems('hike', false, [])).toEqual([]);
	});
});
