/** Discipline checks against the database: the event's discipline, an entry's crew and vehicle (rules.ts decides). */
import { InvalidPayload } from '../shared/errors';
import type { Db, Row } from '../shared/types';
import { entryProblems, isDiscipline, roleCountProblem, roleProblem, vehicleProblem, type Discipline } from './rules';

function refuse(problems: string[]): void {
	if (problems.length > 0) throw new InvalidPayload({ reason: problems.join('; ') });
}

async function eventDiscipline(db: Db, eventId: unknown): Promise<Discipline | null> {
	if (typeof eventId !== 'string') return null;
	const row = (await db('events').select('discipline').where({ id: eventId }).first()) as Row | undefined;
	return row && isDiscipline(row['discipline']) ? row['discipline'] : null;
}

async function entryEvent(db: Db, entryId: unknown): Promise<Row | undefined> {
	if (typeof entryId !== 'string') return undefined;
	return (await db('entries').select('id', 'event_id', 'vehicle_id').where({ id: entryId }).first()) as Row | undefined;
}

/** An entry (created or as it will be after an update) against its event's discipline, crew included. */
export async function checkEntry(db: Db, entry: Row, entryId: string | null): Promise<void> {
	const discipline = await eventDiscipline(db, entry['event_id']);
	if (!discipline) return;
	const hasVehicle = entry['vehicle_id'] !== null && entry['vehicle_id'] !== undefined && entry['vehicle_id'] !== '';
	if (entryId === null) {
		refuse([vehicleProblem(discipline, hasVehicle)].filter((p): p is string => p !== null));
		return;
	}
	const crew = (await db('entry_crew').select('role').where({ entry_id: entryId })) as Row[];
	refuse(entryProblems(discipline, hasVehicle, crew.map((c) => String(c['role']))));
}

/** A crew row (created, or as it will be after an update: `rowId` excludes itself from the counts). */
export async function checkCrew(db: Db, crew: Row, rowId: string | null): Promise<void> {
	const entry = await entryEvent(db, crew['entry_id']);
	if (!entry || typeof crew['role'] !== 'string') return;
	const discipline = await eventDiscipline(db, entry['event_id']);
	if (!discipline) return;
	const role = crew['role'];
	const problem = roleProblem(discipline, role);
	if (problem) refuse([problem]);
	let same = db('entry_crew').where({ entry_id: entry['id'], role });
	if (rowId !== null) same = same.whereNot({ id: rowId });
	const row = (await same.count({ n: '*' }).first()) as { n: string | number } | undefined;
	const count = Number(row?.n ?? 0) + 1;
	refuse([roleCountProblem(discipline, role, count)].filter((p): p is string => p !== null));
}

/** Changing an event's discipline: every existing entry must satisfy the new one. */
export async function checkEventDiscipline(db: Db, eventId: string, discipline: unknown): Promise<void> {
	if (!isDiscipline(discipline)) return;
	const entries = (await db('entries').select('id', 'race_number', 'vehicle_id').where({ event_id: eventId })) as Row[];
	if (entries.length === 0) return;
	const crew = (await db('entry_crew')
		.select('entry_id', 'role')
		.whereIn(
			'entry_id',
			entries.map((e) => String(e['id'])),
		)) as Row[];
	const problems: string[] = [];
	for (const e of entries) {
		const roles = crew.filter((c) => c['entry_id'] === e['id']).map((c) => String(c['role']));
		for (const p of entryProblems(discipline, e['vehicle_id'] !== null, roles)) {
			problems.push(`entry ${String(e['race_number'])}: ${p}`);
		}
	}
	if (problems.length > 0) {
		const shown = problems.slice(0, 5).join('; ');
		const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
		refuse([`the event cannot become ${discipline}: ${shown}${more}`]);
	}
}
