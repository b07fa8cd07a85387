/**
 * Labels of the rows a timeline refers to (people, devices, classes, stages …), read through Directus
 * as the caller: a row they may not read has no label, so the timeline names nothing they could not
 * read item by item (another person's e-mail is never read: names only).
 */
import type { Row } from '../shared/types';
import type { Label } from './history';

/** Per referenced collection: the fields read and the label made of them. */
const LABELS: Readonly<Record<string, { fields: string[]; text: (r: Row) => string }>> = {
	directus_users: { fields: ['id', 'first_name', 'last_name'], text: (r) => [r['first_name'], r['last_name']].filter(Boolean).join(' ') },
	devices: { fields: ['id', 'imei', 'model'], text: (r) => `${String(r['imei'])}${r['model'] ? ` (${String(r['model'])})` : ''}` },
	classes: { fields: ['id', 'code'], text: (r) => String(r['code']) },
	vehicles: { fields: ['id', 'make', 'model', 'plate'], text: (r) => [r['make'], r['model'], r['plate']].filter(Boolean).join(' ') },
	stages: { fields: ['id', 'name'], text: (r) => String(r['name']) },
	segments: { fields: ['id', 'sort_order', 'type', 'name'], text: (r) => `segment ${String(r['sort_order'])} (${String(r['name'] ?? r['type'])})` },
	waypoints: { fields: ['id', 'code', 'type'], text: (r) => `${String(r['type'])} ${String(r['code'])}` },
	geofences: { fields: ['id', 'name'], text: (r) => `geofence ${String(r['name'])}` },
	speed_limit_zones: { fields: ['id', 'name', 'speed_limit_kmh'], text: (r) => `speed zone ${String(r['name'] ?? '')} (${String(r['speed_limit_kmh'])} km/h)` },
};

export type Read = (collection: string, query: Row) => Promise<Row[]>;


const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Read the labels of `refs` ([collection, id]) as the caller that `known` ("collection/id" -> label) lacks; all of them. */
export async function readLabels(read: Read, refs: Iterable<readonly [string, string]>, known: ReadonlyMap<string, string> = new Map()): Promise<Map<string, string>> {
	const wanted = new Map<string, Set<string>>();
	for (const [c, id] of refs) if (LABELS[c] && UUID.test(id) && !known.has(`${c}/${id}`)) (wanted.get(c) ?? wanted.set(c, new Set()).get(c)!).add(id);
	const out = new Map(known);
	await Promise.all(
		[...wanted].map(async ([c, ids]) => {
			let found: Row[] = [];
			try {
				found = await read(c, { filter: { id: { _in: [...ids] } }, fields: LABELS[c]!.fields, limit: -1 });
			} catch {
				return; // the caller reads nothing of that collection
			}
			for (const r of found) out.set(`${c}/${String(r['id'])}`, LABELS[c]!.text(r));
		}),
	);
	return out;
}

/** The lookup of labels read: null for anything the caller does not read. */
export const lookup =
	(labels: ReadonlyMap<string, string>): Label =>
	(collection, id) =>
		labels.get(`${collection}/${id}`) ?? null;
