/**
 * The course objects a preview or a course-edit request is about, read as the database holds them
 * (geometry as PostGIS hex EWKB, for the trm_course functions), and the stages they belong to.
 */
import type { Db, Row } from '../shared/types';

export interface Stage {
	id: string;
	name: string;
	status: string;
	event_id: string;
}

/** A speed zone as trm_course.zone_excesses takes it: its geometry and limit, its DZ and FZ (location, validation radius). */
export interface Zone {
	id: string;
	name: string;
	geometry: string | null;
	limit_kmh: number;
	enabled: boolean;
	retroactive: boolean;
	dz: { id: string; location: string; valid_m: number } | null;
	fz: { id: string; location: string; valid_m: number } | null;
}

export interface Waypoint {
	id: string;
	code: string;
	type: string;
	location: string;
	open_m: number;
	valid_m: number;
}

export interface Geofence {
	id: string;
	name: string;
	geometry: string;
	retroactive: boolean;
}

export type CourseObject =
	| { collection: 'waypoints'; label: string; stages: Stage[]; waypoint: Waypoint; zones: Zone[] }
	| { collection: 'geofences'; label: string; stages: Stage[]; geofence: Geofence }
	| { collection: 'speed_limit_zones'; label: string; stages: Stage[]; zone: Zone };

const rows = async (db: Db, sql: string, bindings: readonly unknown[]): Promise<Row[]> => ((await db.raw(sql, bindings as unknown[])) as { rows: Row[] }).rows;

async function stagesWhere(db: Db, where: string, bindings: readonly unknown[]): Promise<Stage[]> {
	const found = await rows(
		db,
		`SELECT DISTINCT st.id, st.name, st.status, st.event_id, st.sort_order FROM segments s JOIN stages st ON st.id = s.stage_id
		  WHERE ${where} ORDER BY st.sort_order`,
		bindings,
	);
	return found.map((r) => ({ id: String(r['id']), name: String(r['name']), status: String(r['status']), event_id: String(r['event_id']) }));
}

const ZONE_SQL = `SELECT z.id, z.name, z.geometry, z.speed_limit_kmh, z.enabled, z.retroactive, z.segment_id,
        dz.id AS dz_id, dz.location AS dz_location, dz.validation_radius_m AS dz_valid,
        fz.id AS fz_id, fz.location AS fz_location, fz.validation_radius_m AS fz_valid
   FROM speed_limit_zones z
   LEFT JOIN waypoints dz ON dz.id = z.starts_at_waypoint_id
   LEFT JOIN waypoints fz ON fz.id = z.ends_at_waypoint_id`;

function zoneOf(r: Row): Zone {
	const end = (id: unknown, location: unknown, valid: unknown) =>
		id ? { id: String(id), location: String(location), valid_m: Number(valid) } : null;
	return {
		id: String(r['id']),
		name: String(r['name'] ?? ''),
		geometry: r['geometry'] === null ? null : String(r['geometry']),
		limit_kmh: Number(r['speed_limit_kmh']),
		enabled: r['enabled'] === true,
		retroactive: r['retroactive'] === true,
		dz: end(r['dz_id'], r['dz_location'], r['dz_valid']),
		fz: end(r['fz_id'], r['fz_location'], r['fz_valid']),
	};
}

/** The object `id` of `collection` as `db` sees it (a transaction sees its own changes), or null. */
export async function readObject(db: Db, collection: string, id: string): Promise<CourseObject | null> {
	if (collection === 'waypoints') {
		const [w] = await rows(db, 'SELECT id, code, type, location, open_radius_m, validation_radius_m, segment_id FROM waypoints WHERE id = ?', [id]);
		if (!w) return null;
		const zones = await rows(db, `${ZONE_SQL} WHERE z.starts_at_waypoint_id = ? OR z.ends_at_waypoint_id = ?`, [id, id]);
		return {
			collection,
			label: `${String(w['type'])} ${String(w['code'])}`,
			stages: await stagesWhere(db, 's.id = ?', [w['segment_id']]),
			waypoint: {
				id,
				code: String(w['code']),
				type: String(w['type']),
				location: String(w['location']),
				open_m: Number(w['open_radius_m']),
				valid_m: Number(w['validation_radius_m']),
			},
			zones: zones.map(zoneOf),
		};
	}
	if (collection === 'geofences') {
		const [g] = await rows(db, 'SELECT id, name, geometry, retroactive FROM geofences WHERE id = ?', [id]);
		if (!g) return null;
		return {
			collection,
			label: `geofence ${String(g['name'])}`,
			stages: await stagesWhere(db, 's.entry_geofence_id = ? OR s.exit_geofence_id = ?', [id, id]),
			geofence: { id, name: String(g['name']), geometry: String(g['geometry']), retroactive: g['retroactive'] === true },
		};
	}
	if (collection === 'speed_limit_zones') {
		const [z] = await rows(db, `${ZONE_SQL} WHERE z.id = ?`, [id]);
		if (!z) return null;
		const zone = zoneOf(z);
		return { collection, label: `speed zone ${zone.name || zone.id}`, stages: await stagesWhere(db, 's.id = ?', [z['segment_id']]), zone };
	}
	return null;
}

/** Why saving a change of this object does not ask for a recompute of the stage, or null when it does. */
export function noRecompute(object: CourseObject, stage: Stage): string | null {
	if (stage.status === 'draft') return `${stage.name} has not run (draft): nothing to recompute`;
	if (stage.status === 'official') return `${stage.name} is official: its results and penalties are final`;
	const retroactive = object.collection === 'geofences' ? object.geofence.retroactive : object.collection === 'speed_limit_zones' ? object.zone.retroactive : true;
	if (!retroactive) return `${object.label} is not retroactive: a change applies to what is computed from now on`;
	return null;
}
