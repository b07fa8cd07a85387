import { describe, expect, it } from 'vitest';
import { planCopy, type CopyInput, type EntryState } from '../src/crew/plan';

const PAUL = 'u-paul';
const NORA = 'u-nora';
const source: EntryState = {
	id: 'e-2025', race_number: '301', event_id: 'ev-2025', status: 'finished', has_vehicle: true,
	crew: [{ user_id: PAUL, role: 'pilot' }, { user_id: NORA, role: 'co-pilot' }],
	devices: [{ device_id: 'd-chassis', assigned_user_id: null }, { device_id: 'd-panic', assigned_user_id: PAUL }],
};
const target: EntryState = { id: 'e-2026', race_number: '301', event_id: 'ev-2026', status: 'registered', has_vehicle: true, crew: [], devices: [] };
const input = (over: Partial<CopyInput> = {}): CopyInput => ({
	source, target, targetDiscipline: 'rally', person: PAUL, busyUsers: new Map(), busyDevices: new Map(), ...over,
});

describe('copy crew plan', () => {
	it('copies the whole crew and every device into an empty entry', () => {
		expect(planCopy(input())).toEqual({ crew: source.crew, devices: source.devices });
	});
	it('skips what the target already has', () => {
		const t = { ...target, crew: [{ user_id: PAUL, role: 'pilot' }], devices: [{ device_id: 'd-chassis', assigned_user_id: null }] };
		expect(planCopy(input({ target: t }))).toEqual({ crew: [{ user_id: NORA, role: 'co-pilot' }], devices: [{ device_id: 'd-panic', assigned_user_id: PAUL }] });
	});
	it.each<[string, Partial<CopyInput>, string]>([
		['the same entry', { target: { ...target, id: source.id } }, 'the source and the target are the same entry'],
		['an entry of the same event', { target: { ...target, event_id: 'ev-2025' } }, "the source entry is in the same event: copy from a previous event's entry"],
		['a started entry', { target: { ...target, status: 'started' } }, 'entry 301 is started: crew can be copied only while it is registered or confirmed'],
		['someone else\'s entry', { person: 'u-stranger' }, 'the person is not in the crew of entry 301: copy from one of their own entries'],
		['a target with another crew', { target: { ...target, crew: [{ user_id: 'u-x', role: 'navigator' }] } }, 'entry 301 already has a crew without the person'],
		['a crew member racing in another entry', { busyUsers: new Map([[NORA, '305']]) }, 'user u-nora is already in the crew of entry 305 of this event'],
		['a device in another entry', { busyDevices: new Map([['d-panic', '305']]) }, 'device d-panic is already assigned to entry 305 of this event'],
		['a rally crew into a trail run', { targetDiscipline: 'trail-run', target: { ...target, has_vehicle: false } }, 'entry 301: crew role pilot is not allowed in a trail-run event (allowed: runner)'],
		['a second pilot', { target: { ...target, crew: [{ user_id: PAUL, role: 'pilot' }, { user_id: 'u-x', role: 'pilot' }] } }, 'entry 301: a rally entry has at most 1 pilot (this would make 2)'],
		['a rally entry without a vehicle', { target: { ...target, has_vehicle: false } }, 'entry 301: a rally entry needs a vehicle (vehicle_id)'],
	])('refuses %s, copying nothing', (_name, over, problem) => {
		const r = planCopy(input(over));
		expect(Array.isArray(r)).toBe(true);
		expect(r).toContain(problem);
	});
	it('refuses a member already in the target with another role', () => {
		const t = { ...target, crew: [{ user_id: PAUL, role: 'pilot' }, { user_id: NORA, role: 'navigator' }] };
		expect(planCopy(input({ target: t }))).toContain('user u-nora is already in entry 301 with another role');
	});
	it('refuses a copy that adds nothing', () => {
		const t = { ...target, crew: source.crew, devices: source.devices };
		expect(planCopy(input({ target: t }))).toEqual(['nothing to copy: the target already has this crew and these devices']);
	});
});
