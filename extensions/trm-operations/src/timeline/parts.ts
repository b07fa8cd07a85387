/**
 * The entry and the rows that hang off it, as the caller reads them through Directus, with the fields
 * they read of each (those Directus returns): one read with the parts nested. When Directus refuses
 * that read (a part the caller may not read at all), the entry and each part on its own, leaving out
 * what is refused. (The labels of what they refer to are read from the history: endpoint.ts.)
 */
import type { Row } from '../shared/types';
import type { Read } from './labels';

/** The entry's one-to-many fields and the collections they list. */
const NESTED: Readonly<Record<string, string>> = {
	crew: 'entry_crew',
	devices: 'entry_devices',
	penalties: 'entry_penalties',
	segment_starts: 'entry_segment_starts',
	results: 'stage_results',
};
const FIELDS = ['*', ...Object.keys(NESTED).map((a) => `${a}.*`)];
const DEEP = Object.fromEntries(Object.keys(NESTED).map((a) => [a, { _limit: -1 }]));

export interface Parts {
	entry: Row | undefined;
	/** collection -> the rows the caller reads now */
	current: Map<string, Row[]>;
	/** collection -> the fields the caller reads of it */
	allowed: Map<string, Set<string>>;
}

function keep(parts: Parts, collection: string, found: Row[]): void {
	parts.current.set(collection, found);
	parts.allowed.set(collection, new Set(found.flatMap((r) => Object.keys(r))));
}

export async function readParts(read: Read, id: string): Promise<Parts> {
	const parts: Parts = { entry: undefined, current: new Map(), allowed: new Map() };
	const byEntry = { filter: { id: { _eq: id } }, limit: 1 };
	try {
		[parts.entry] = await read('entries', { ...byEntry, fields: FIELDS, deep: DEEP });
		for (const [alias, c] of Object.entries(NESTED)) {
			if (!parts.entry) break;
			keep(parts, c, (parts.entry[alias] as Row[] | undefined) ?? []);
			delete parts.entry[alias];
		}
	} catch {
		parts.entry = (await read('entries', { ...byEntry, fields: ['*'] }).catch(() => []))[0]; // none: refused like one that does not exist
		await Promise.all(
			Object.values(NESTED).map((c) =>
				read(c, { filter: { entry_id: { _eq: id } }, fields: ['*'], limit: -1 }).then((found) => keep(parts, c, found), () => undefined),
			),
		);
	}
	if (parts.entry) keep(parts, 'entries', [parts.entry]);
	return parts;
}

/** The entry's manual crossings as the caller reads them (the processor's, written in SQL, have no history). */
export async function readCrossings(read: Read, id: string, parts: Parts): Promise<void> {
	const found = await read('entry_crossings', { filter: { entry_id: { _eq: id }, source: { _eq: 'manual' } }, fields: ['*'], limit: -1 }).catch(() => null);
	if (found) keep(parts, 'entry_crossings', found);
}
