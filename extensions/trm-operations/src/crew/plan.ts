/**
 * Copy crew (pure): what copying a previous entry's crew and devices into a new entry would insert,
 * or every rule it would break. All or nothing: any problem refuses the whole copy.
 */
import { entryProblems, type Discipline } from '../discipline/rules';

export interface CrewMember {
	user_id: string;
	role: string;
}

export interface DeviceAssignment {
	device_id: string;
	assigned_user_id: string | null;
}

export interface EntryState {
	id: string;
	race_number: string;
	event_id: string;
	status: string;
	has_vehicle: boolean;
	crew: CrewMember[];
	devices: DeviceAssignment[];
}

export interface CopyInput {
	source: EntryState;
	target: EntryState;
	targetDiscipline: Discipline | null;
	/** The person whose previous entry it is: must be in the source crew. */
	person: string;
	/** Crew members and devices of the target event's other entries: id -> race number. */
	busyUsers: ReadonlyMap<string, string>;
	busyDevices: ReadonlyMap<string, string>;
}

export interface CopyPlan {
	crew: CrewMember[];
	devices: DeviceAssignment[];
}

/** Target statuses in which registration may still change the crew. */
export const COPYABLE_STATUSES: readonly string[] = ['registered', 'confirmed'];

export function planCopy(input: CopyInput): CopyPlan | string[] {
	const { source, target } = input;
	const problems: string[] = [];
	if (source.id === target.id) return ['the source and the target are the same entry'];
	if (source.event_id === target.event_id) problems.push('the source entry is in the same event: copy from a previous event\'s entry');
	if (!COPYABLE_STATUSES.includes(target.status)) {
		problems.push(`entry ${target.race_number} is ${target.status}: crew can be copied only while it is ${COPYABLE_STATUSES.join(' or ')}`);
	}
	if (!source.crew.some((c) => c.user_id === input.person)) {
		problems.push(`the person is not in the crew of entry ${source.race_number}: copy from one of their own entries`);
	}
	if (target.crew.length > 0 && !target.crew.some((c) => c.user_id === input.person)) {
		problems.push(`entry ${target.race_number} already has a crew without the person`);
	}
	const crew = source.crew.filter((c) => !target.crew.some((t) => t.user_id === c.user_id && t.role === c.role));
	for (const c of crew) {
		if (target.crew.some((t) => t.user_id === c.user_id)) {
			problems.push(`user ${c.user_id} is already in entry ${target.race_number} with another role`);
		}
		const other = input.busyUsers.get(c.user_id);
		if (other !== undefined) problems.push(`user ${c.user_id} is already in the crew of entry ${other} of this event`);
	}
	const devices = source.devices.filter((d) => !target.devices.some((t) => t.device_id === d.device_id));
	for (const d of devices) {
		const other = input.busyDevices.get(d.device_id);
		if (other !== undefined) problems.push(`device ${d.device_id} is already assigned to entry ${other} of this event`);
	}
	if (input.targetDiscipline) {
		const roles = [...target.crew, ...crew].map((c) => c.role);
		for (const p of entryProblems(input.targetDiscipline, target.has_vehicle, roles)) problems.push(`entry ${target.race_number}: ${p}`);
	}
	if (crew.length === 0 && devices.length === 0 && problems.length === 0) problems.push('nothing to copy: the target already has this crew and these devices');
	return problems.length > 0 ? problems : { crew, devices };
}
