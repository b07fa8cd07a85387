/**
 * The discipline rules as data: which crew roles, how many of each, and whether a vehicle is
 * required or forbidden, per event discipline (domain.md "Phase 1 — event participation" roles and
 * disciplines). Every check that needs them (the discipline hook, copy crew) reads this table.
 */

export const DISCIPLINES = ['rally', 'time-trial', 'regatta', 'trail-run', 'hike'] as const;
export const ROLES = ['pilot', 'co-pilot', 'navigator', 'mechanic', 'rider', 'runner', 'hiker'] as const;

export type Discipline = (typeof DISCIPLINES)[number];
export type Role = (typeof ROLES)[number];

export interface DisciplineRule {
	/** Crew roles an entry of this discipline may have. */
	roles: readonly Role[];
	/** Motorised and sailing disciplines race a vehicle (a regatta's boat is its vehicle); foot races none. */
	vehicle: 'required' | 'forbidden';
	/** At most this many crew members of a role per entry (a role absent here: no limit). */
	maxPerRole: Readonly<Partial<Record<Role, number>>>;
}

export const DISCIPLINE_RULES: Readonly<Record<Discipline, DisciplineRule>> = {
	// Cars/SSV: pilot + co-pilot/navigator (+ mechanic in trucks); moto/quad: one rider.
	rally: { roles: ['pilot', 'co-pilot', 'navigator', 'mechanic', 'rider'], vehicle: 'required', maxPerRole: { pilot: 1, rider: 1 } },
	'time-trial': { roles: ['pilot', 'co-pilot', 'navigator', 'rider'], vehicle: 'required', maxPerRole: { pilot: 1, rider: 1 } },
	// The skipper is the boat's pilot; the crew sails as co-pilot/navigator/mechanic.
	regatta: { roles: ['pilot', 'co-pilot', 'navigator', 'mechanic'], vehicle: 'required', maxPerRole: { pilot: 1 } },
	'trail-run': { roles: ['runner'], vehicle: 'forbidden', maxPerRole: { runner: 1 } },
	// Hikes may be walked in teams: any number of hikers per entry.
	hike: { roles: ['hiker'], vehicle: 'forbidden', maxPerRole: {} },
};

export function isDiscipline(value: unknown): value is Discipline {
	return typeof value === 'string' && (DISCIPLINES as readonly string[]).includes(value);
}

/** The rule broken by a crew member of `role` in an event of `discipline`, or null. */
export function roleProblem(discipline: Discipline, role: string): string | null {
	const rule = DISCIPLINE_RULES[discipline];
	if (!(rule.roles as readonly string[]).includes(role)) {
		return `crew role ${role} is not allowed in a ${discipline} event (allowed: ${rule.roles.join(', ')})`;
	}
	return null;
}

/** The rule broken when an entry has `count` crew members of `role`, or null. */
export function roleCountProblem(discipline: Discipline, role: string, count: number): string | null {
	const max = DISCIPLINE_RULES[discipline].maxPerRole[role as Role];
	if (max !== undefined && count > max) {
		return `a ${discipline} entry has at most ${max} ${role}${max === 1 ? '' : 's'} (this would make ${count})`;
	}
	return null;
}

/** The rule broken by an entry of `discipline` with or without a vehicle, or null. */
export function vehicleProblem(discipline: Discipline, hasVehicle: boolean): string | null {
	const rule = DISCIPLINE_RULES[discipline].vehicle;
	if (rule === 'required' && !hasVehicle) return `a ${discipline} entry needs a vehicle (vehicle_id)`;
	if (rule === 'forbidden' && hasVehicle) return `a ${discipline} entry has no vehicle (vehicle_id must be empty)`;
	return null;
}

/** Every rule a whole entry (vehicle + crew roles) breaks in an event of `discipline`. */
export function entryProblems(discipline: Discipline, hasVehicle: boolean, roles: readonly string[]): string[] {
	const problems: string[] = [];
	const vehicle = vehicleProblem(discipline, hasVehicle);
	if (vehicle) problems.push(vehicle);
	const counts = new Map<string, number>();
	for (const role of roles) {
		const p = roleProblem(discipline, role);
		if (p && !problems.includes(p)) problems.push(p);
		counts.set(role, (counts.get(role) ?? 0) + 1);
	}
	for (const [role, n] of counts) {
		const p = roleCountProblem(discipline, role, n);
		if (p) problems.push(p);
	}
	return problems;
}
