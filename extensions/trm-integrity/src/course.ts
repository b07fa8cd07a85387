/**
 * Course rules (domain.md "Phase 2") that must answer 400 with the rule, before the database
 * constraints of db-init/post/102 would answer 500:
 * - geometries: the right GeoJSON type, valid (PostGIS ST_IsValid, with its reason), not degenerate,
 *   coordinates in range;
 * - waypoints: radii resolved from the event's waypoint_radius_defaults when empty; refused when
 *   none can be found; validation radius not larger than the opening radius;
 * - segments: entry/exit geofences of the segment's event; max duration not below the target;
 * - stages: the start-order input stage is another stage of the same event;
 * - speed zones: starts at a DZ and ends at an FZ of the zone's own segment;
 * - radius defaults: validation not larger than opening.
 * Updates are checked on the row as it will be (current values merged with the payload).
 */
import { InvalidPayload, type Db, type Row } from './shared';

const GEOMETRY_SQL = `
	SELECT GeometryType(g) AS kind, ST_IsValid(g) AS valid, ST_IsValidReason(g) AS reason,
	       ST_XMin(g) AS xmin, ST_XMax(g) AS xmax, ST_YMin(g) AS ymin, ST_YMax(g) AS ymax,
	       ST_Area(g) AS area, ST_Length(g) AS length
	  FROM (SELECT ST_GeomFromGeoJSON(?) AS g) AS s`;

const has = (p: Row, key: string): boolean => Object.prototype.hasOwnProperty.call(p, key);

/** Refuse a geometry that is not GeoJSON of one of `kinds` (upper case), invalid, degenerate or out of range. */
export async function checkGeometry(db: Db, label: string, value: unknown, kinds: string[], required: boolean): Promise<void> {
	if (value === null || value === undefined) {
		if (required) throw new InvalidPayload({ reason: `${label} is required` });
		return;
	}
	let json: string;
	if (typeof value === 'string') json = value;
	else if (typeof value === 'object') json = JSON.stringify(value);
	else throw new InvalidPayload({ reason: `${label} must be a GeoJSON ${kinds.join(' or ')}` });
	const wanted = kinds.map((k) => k.charAt(0) + k.slice(1).toLowerCase().replace('string', 'String')).join(' or ');
	let row: Row | undefined;
	try {
		row = (await db.raw(GEOMETRY_SQL, [json])).rows[0];
	} catch (err) {
		const msg = err instanceof Error ? err.message.split(' - ').pop() : String(err);
		throw new InvalidPayload({ reason: `${label} is not a valid GeoJSON ${wanted} (${msg})` });
	}
	if (!row) throw new InvalidPayload({ reason: `${label} is not a valid GeoJSON ${wanted}` });
	const kind = String(row['kind']);
	if (!kinds.includes(kind)) throw new InvalidPayload({ reason: `${label} must be a ${wanted}, not a ${kind}` });
	const [xmin, xmax, ymin, ymax] = ['xmin', 'xmax', 'ymin', 'ymax'].map((k) => Number(row?.[k]));
	if (xmin! < -180 || xmax! > 180 || ymin! < -90 || ymax! > 90) {
		throw new InvalidPayload({ reason: `${label} has coordinates out of range (longitude -180..180, latitude -90..90)` });
	}
	if (row['valid'] !== true) throw new InvalidPayload({ reason: `${label} is not a valid geometry: ${String(row['reason'])}` });
	if (kind === 'POLYGON' && !(Number(row['area']) > 0)) throw new InvalidPayload({ reason: `${label} is a degenerate polygon (no area)` });
	if (kind === 'LINESTRING' && !(Number(row['length']) > 0)) throw new InvalidPayload({ reason: `${label} is a degenerate line (no length)` });
}

/** The row as it will be after the write: the current row (update) overlaid with the payload. */
async function merged(db: Db, table: string, payload: Row, keys: unknown[] | null, columns: string[]): Promise<Row[]> {
	if (!keys) return [payload];
	const rows = (await db(table).select('id', ...columns).whereIn('id', keys as string[])) as Row[];
	return rows.map((row) => ({ ...row, ...payload }));
}

async function eventOfSegment(db: Db, segmentId: unknown): Promise<Row | undefined> {
	if (!segmentId) return undefined;
	return (await db('segments')
		.join('stages', 'stages.id', 'segments.stage_id')
		.select('stages.event_id as event_id', 'stages.name as stage')
		.where('segments.id', segmentId)
		.first()) as Row | undefined;
}

export async function checkWaypoint(db: Db, p: Row, keys: unknown[] | null): Promise<void> {
	if (has(p, 'location')) await checkGeometry(db, 'waypoints.location', p['location'], ['POINT'], true);
	const relevant = ['segment_id', 'type', 'open_radius_m', 'validation_radius_m'];
	if (keys && !relevant.some((k) => has(p, k))) return;
	for (const w of await merged(db, 'waypoints', p, keys, [...relevant, 'code'])) {
		let open = w['open_radius_m'] ?? null;
		let validation = w['validation_radius_m'] ?? null;
		if (open === null || validation === null) {
			const ev = await eventOfSegment(db, w['segment_id']);
			const d = ev
				? ((await db('waypoint_radius_defaults')
						.select('open_radius_m', 'validation_radius_m')
						.where({ event_id: ev['event_id'], waypoint_type: w['type'] })
						.first()) as Row | undefined)
				: undefined;
			if (!d) {
				throw new InvalidPayload({
					reason: `waypoint ${String(w['code'] ?? '')} (${String(w['type'])}) has no ${open === null ? 'opening' : 'validation'} radius and its event has no default for ${String(w['type'])}: set the radii on the waypoint or add a waypoint_radius_defaults row`,
				});
			}
			open = open ?? d['open_radius_m'] ?? null;
			validation = validation ?? d['validation_radius_m'] ?? null;
		}
		if (Number(validation) > Number(open)) {
			throw new InvalidPayload({
				reason: `waypoint ${String(w['code'] ?? '')}: validation radius ${String(validation)} m is larger than the opening radius ${String(open)} m`,
			});
		}
	}
}

export async function checkRadiusDefault(db: Db, p: Row, keys: unknown[] | null): Promise<void> {
	if (keys && !has(p, 'open_radius_m') && !has(p, 'validation_radius_m')) return;
	for (const r of await merged(db, 'waypoint_radius_defaults', p, keys, ['waypoint_type', 'open_radius_m', 'validation_radius_m'])) {
		if (r['open_radius_m'] != null && r['validation_radius_m'] != null && Number(r['validation_radius_m']) > Number(r['open_radius_m'])) {
			throw new InvalidPayload({
				reason: `radius default for ${String(r['waypoint_type'])}: validation radius ${String(r['validation_radius_m'])} m is larger than the opening radius ${String(r['open_radius_m'])} m`,
			});
		}
	}
}

export async function checkSegment(db: Db, p: Row, keys: unknown[] | null): Promise<void> {
	const columns = ['stage_id', 'entry_geofence_id', 'exit_geofence_id', 'target_duration_seconds', 'max_duration_seconds'];
	if (keys && !columns.some((k) => has(p, k))) return;
	for (const s of await merged(db, 'segments', p, keys, columns)) {
		const target = s['target_duration_seconds'];
		const max = s['max_duration_seconds'];
		if (target != null && max != null && Number(max) < Number(target)) {
			throw new InvalidPayload({ reason: `segment: max_duration_seconds ${String(max)} is below target_duration_seconds ${String(target)}` });
		}
		const fences = [s['entry_geofence_id'], s['exit_geofence_id']].filter((g) => g);
		if (fences.length === 0 || !s['stage_id']) continue;
		const stage = (await db('stages').select('event_id', 'name').where({ id: s['stage_id'] }).first()) as Row | undefined;
		const foreign = (await db('geofences')
			.select('name')
			.whereIn('id', fences as string[])
			.whereNot({ event_id: stage?.['event_id'] ?? null })) as Row[];
		if (stage && foreign.length > 0) {
			throw new InvalidPayload({
				reason: `geofence ${foreign.map((g) => String(g['name'])).join(', ')} belongs to another event than stage ${String(stage['name'])}: a segment's geofences must be of its own event`,
			});
		}
	}
}

export async function checkStage(db: Db, p: Row, keys: unknown[] | null): Promise<void> {
	if (has(p, 'route')) await checkGeometry(db, 'stages.route', p['route'], ['LINESTRING'], false);
	if (keys && !has(p, 'start_order_input_stage_id') && !has(p, 'event_id')) return;
	for (const s of await merged(db, 'stages', p, keys, ['event_id', 'start_order_input_stage_id', 'name'])) {
		const input = s['start_order_input_stage_id'];
		if (!input) continue;
		if (s['id'] !== undefined && input === s['id']) {
			throw new InvalidPayload({ reason: `stage ${String(s['name'])} cannot take its start order from itself` });
		}
		const other = (await db('stages').select('event_id', 'name').where({ id: input }).first()) as Row | undefined;
		if (other && other['event_id'] !== s['event_id']) {
			throw new InvalidPayload({ reason: `start-order input stage ${String(other['name'])} belongs to another event` });
		}
	}
}

export async function checkGeofence(db: Db, p: Row): Promise<void> {
	if (has(p, 'geometry')) await checkGeometry(db, 'geofences.geometry', p['geometry'], ['POLYGON'], true);
}

export async function checkSpeedZone(db: Db, p: Row, keys: unknown[] | null): Promise<void> {
	if (has(p, 'geometry')) await checkGeometry(db, 'speed_limit_zones.geometry', p['geometry'], ['POLYGON', 'LINESTRING'], true);
	const columns = ['segment_id', 'starts_at_waypoint_id', 'ends_at_waypoint_id'];
	if (keys && !columns.some((k) => has(p, k))) return;
	for (const z of await merged(db, 'speed_limit_zones', p, keys, columns)) {
		for (const [column, type] of [['starts_at_waypoint_id', 'DZ'], ['ends_at_waypoint_id', 'FZ']] as const) {
			if (!z[column]) continue;
			const w = (await db('waypoints').select('code', 'type', 'segment_id').where({ id: z[column] }).first()) as Row | undefined;
			if (!w) continue; // a missing waypoint is Directus's own foreign-key error (400)
			if (w['type'] !== type) {
				throw new InvalidPayload({ reason: `speed zone: ${column} must be a ${type} waypoint, ${String(w['code'])} is a ${String(w['type'])}` });
			}
			if (w['segment_id'] !== z['segment_id']) {
				throw new InvalidPayload({ reason: `speed zone: ${type} waypoint ${String(w['code'])} belongs to another segment than the zone` });
			}
		}
	}
}
