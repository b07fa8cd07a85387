/**
 * POST /trm/course/preview: what a change to one waypoint, geofence or speed zone would change in the
 * crossings and penalties of a stage that has run, without writing anything.
 *
 * The change is first run as Directus's own update for the caller, in a savepoint that is rolled
 * back: Directus checks the caller (a refusal is its 403, the same for an item that does not exist),
 * the hooks and the database check the values (400), and the row as it would be is read back. Then
 * the crossing contract (db-init/post/115, trm_course) is evaluated on the stage's positions for the
 * object as it is and as it would be, in one scan, and compared per entry; penalties under the
 * event's formulas (trm_timing.penalty_formula_for).
 */
import { InvalidPayload, NotFound } from '../shared/errors';
import type { Db, Row } from '../shared/types';
import {
	crossingChange,
	parsePreview,
	penaltySeconds,
	totals,
	VALIDATED_IN_SEQUENCE,
	type Crossing,
	type CrossingChange,
	type FormulaRow,
	type PenaltyChange,
} from './contract';
import { noRecompute, readObject, type CourseObject, type Stage, type Zone } from './objects';

type Updater = (collection: string, trx: Db) => { updateOne(key: string, data: Row, opts: Row): Promise<unknown> };
type Reader = (collection: string, query: Row) => Promise<Row[]>;

interface EntryChange {
	entry_id: string;
	race_number: number | null;
	stage_id: string;
	crossings: { target: string; change: CrossingChange; before: Crossing | null; after: Crossing | null; recorded: Row | null }[];
	penalties: (PenaltyChange & { recorded: Row | null })[];
}

class Undo extends Error {}

const rows = async (db: Db, sql: string, bindings: readonly unknown[]): Promise<Row[]> => ((await db.raw(sql, bindings as unknown[])) as { rows: Row[] }).rows;
const iso = (v: unknown): string => new Date(v as string).toISOString();

/** variant -> entry -> row, for the functions that answer per variant (1: as it is, 2: as it would be). */
function byVariant(found: Row[]): Map<number, Map<string, Row>> {
	const out = new Map<number, Map<string, Row>>([[1, new Map()], [2, new Map()]]);
	for (const r of found) out.get(Number(r['variant']))?.set(String(r['entry_id']), r);
	return out;
}

const crossingOf = (r: Row | undefined): Crossing | null => (r ? { ts: iso(r['ts']), device_imei: String(r['device_imei']) } : null);

async function formula(db: Db, type: string, targetType: string, targetId: string): Promise<FormulaRow[]> {
	const found = await rows(db, 'SELECT id, offence_min, offence_max, operator, penalty_seconds FROM trm_timing.penalty_formula_for(?, ?, ?)', [type, targetType, targetId]);
	return found.map((r) => ({
		id: String(r['id']),
		offence_min: r['offence_min'] === null ? null : Number(r['offence_min']),
		offence_max: r['offence_max'] === null ? null : Number(r['offence_max']),
		operator: String(r['operator']),
		penalty_seconds: Number(r['penalty_seconds']),
	}));
}

/** Per variant, per entry: the speeding excess in the zone as it is (1) and as it would be (2). */
async function excesses(db: Db, stage: string, variants: [Zone, Zone]): Promise<Map<number, Map<string, Row>>> {
	const judged = variants.map((z) => (z.enabled ? z : { ...z, geometry: null, dz: null, fz: null }));
	const arr = (pick: (z: Zone) => unknown, cast: string) => ({ sql: `ARRAY[?${cast}, ?${cast}]`, values: judged.map(pick) });
	const parts = [
		arr((z) => z.geometry, '::geometry'),
		arr((z) => z.limit_kmh, '::float8'),
		arr((z) => (z.dz && z.fz ? z.dz.location : null), '::geometry'),
		arr((z) => (z.dz && z.fz ? z.dz.valid_m : null), '::float8'),
		arr((z) => (z.dz && z.fz ? z.fz.location : null), '::geometry'),
		arr((z) => (z.dz && z.fz ? z.fz.valid_m : null), '::float8'),
	];
	const sql = `SELECT * FROM trm_course.zone_excesses(?, ${parts.map((p) => p.sql).join(', ')})`;
	return byVariant(await rows(db, sql, [stage, ...parts.flatMap((p) => p.values)]));
}

/** The speeding penalties of one zone that differ between the two variants. */
async function speedingChanges(db: Db, stage: string, zones: [Zone, Zone], add: (entry: string, p: PenaltyChange) => void): Promise<void> {
	const found = await excesses(db, stage, zones);
	const rule = await formula(db, 'speeding', 'speed_limit_zone', zones[0].id);
	const inputs = (r: Row | undefined, zone: Zone): Row | null =>
		r ? { peak_kmh: Number(r['peak_kmh']), limit_kmh: zone.limit_kmh, over_kmh: Number(r['over_kmh']), samples: Number(r['samples']) } : null;
	const entries = new Set([...found.get(1)!.keys(), ...found.get(2)!.keys()]);
	for (const entry of entries) {
		const [b, a] = [found.get(1)!.get(entry), found.get(2)!.get(entry)];
		const before = b ? penaltySeconds(rule, Number(b['over_kmh'])) : 0;
		const after = a ? penaltySeconds(rule, Number(a['over_kmh'])) : 0;
		if (before === after) continue;
		add(entry, {
			type: 'speeding',
			dedupe_key: `speeding:${zones[0].id}`,
			before_seconds: before,
			after_seconds: after,
			inputs_before: inputs(b, zones[0]),
			inputs_after: inputs(a, zones[1]),
		});
	}
}

interface StageOutcome {
	crossings: Map<string, { before: Crossing | null; after: Crossing | null }>;
	penalties: Map<string, PenaltyChange[]>;
	recordedCrossings: Map<string, Row>;
	target: string;
}

async function compute(db: Db, stage: Stage, was: CourseObject, will: CourseObject, window: Row): Promise<StageOutcome> {
	const out: StageOutcome = { crossings: new Map(), penalties: new Map(), recordedCrossings: new Map(), target: was.label };
	const addPenalty = (entry: string, p: PenaltyChange) => out.penalties.set(entry, [...(out.penalties.get(entry) ?? []), p]);
	const setCrossings = (found: Map<number, Map<string, Row>>) => {
		for (const entry of new Set([...found.get(1)!.keys(), ...found.get(2)!.keys()])) {
			out.crossings.set(entry, { before: crossingOf(found.get(1)!.get(entry)), after: crossingOf(found.get(2)!.get(entry)) });
		}
	};
	const recorded = async (column: string, id: string) => {
		const found = await rows(
			db,
			`SELECT DISTINCT ON (entry_id) entry_id, ts, source, device_imei FROM entry_crossings
			  WHERE ${column} = ? AND ts >= ? AND ts < ? ORDER BY entry_id, ts`,
			[id, window['window_start'], window['window_end']],
		);
		for (const r of found) out.recordedCrossings.set(String(r['entry_id']), { ts: iso(r['ts']), source: r['source'], device_imei: r['device_imei'] });
	};
	if (was.collection === 'waypoints' && will.collection === 'waypoints') {
		const [b, a] = [was.waypoint, will.waypoint];
		const found = byVariant(
			await rows(
				db,
				`SELECT * FROM trm_course.waypoint_crossings(?, ARRAY[?::geometry, ?::geometry], ARRAY[?, ?]::float8[], ARRAY[?, ?]::float8[])`,
				[stage.id, b.location, a.location, b.open_m, a.open_m, b.valid_m, a.valid_m],
			),
		);
		setCrossings(found);
		await recorded('waypoint_id', b.id);
		if (VALIDATED_IN_SEQUENCE.includes(b.type)) {
			const rule = await formula(db, 'missed_waypoint', 'waypoint', b.id);
			const missed = penaltySeconds(rule, 1);
			for (const r of await rows(db, 'SELECT entry_id FROM trm_course.stage_tracks(?)', [stage.id])) {
				const entry = String(r['entry_id']);
				const before = found.get(1)!.has(entry) ? 0 : missed;
				const after = found.get(2)!.has(entry) ? 0 : missed;
				if (before !== after) {
					const inputs = (n: number) => ({ waypoint: b.code, missed: n });
					addPenalty(entry, { type: 'missed_waypoint', dedupe_key: `missed:${b.id}`, before_seconds: before, after_seconds: after, inputs_before: before ? inputs(1) : null, inputs_after: after ? inputs(1) : null });
				}
			}
		}
		// A DZ or FZ delimits speed zones: where the entry validates it moves where the zone starts or ends.
		for (const zone of was.zones) {
			const moved = (end: Zone['dz']) => (end && end.id === a.id ? { ...end, location: a.location, valid_m: a.valid_m } : end);
			await speedingChanges(db, stage.id, [zone, { ...zone, dz: moved(zone.dz), fz: moved(zone.fz) }], addPenalty);
		}
	} else if (was.collection === 'geofences' && will.collection === 'geofences') {
		setCrossings(
			byVariant(await rows(db, 'SELECT * FROM trm_course.geofence_crossings(?, ARRAY[?::geometry, ?::geometry])', [stage.id, was.geofence.geometry, will.geofence.geometry])),
		);
		await recorded('geofence_id', was.geofence.id);
	} else if (was.collection === 'speed_limit_zones' && will.collection === 'speed_limit_zones') {
		await speedingChanges(db, stage.id, [was.zone, will.zone], addPenalty);
	}
	return out;
}

export interface PreviewDeps {
	db: Db;
	/** Directus's update of `collection` as the caller, on `trx`. */
	updater: Updater;
	/** A read of `collection` as the caller. */
	read: Reader;
}

export async function previewCourseEdit(deps: PreviewDeps, body: unknown): Promise<Row> {
	const { db } = deps;
	const req = parsePreview(body);
	if (Array.isArray(req)) throw new InvalidPayload({ reason: req.join('; ') });
	const got: { was: CourseObject | null; will: CourseObject | null } = { was: null, will: null };
	await db.transaction(async (trx) => {
		try {
			await trx.transaction(async (sp) => {
				// Directus's own update for the caller: permissions (403 as for a PATCH), hooks and checks (400).
				await deps.updater(req.collection, sp).updateOne(req.id, req.changes, { bypassEmitAction: () => undefined });
				got.will = await readObject(sp, req.collection, req.id);
				throw new Undo();
			});
		} catch (e) {
			if (!(e instanceof Undo)) throw e;
		}
		got.was = await readObject(trx, req.collection, req.id);
	});
	const { was, will } = got;
	if (!was || !will) throw new NotFound({ reason: `no ${req.collection} item ${req.id}` }); // administrators only: others got Directus's 403
	const before: CourseObject = was;
	const after: CourseObject = will;
	const entries = new Map<string, EntryChange>();
	const stages: Row[] = [];
	let mismatches = 0;
	for (const stage of before.stages) {
		const [window] = await rows(db, 'SELECT window_start, window_end FROM trm_course.stage_window(?)', [stage.id]);
		const why = noRecompute(before, stage);
		const info: Row = { id: stage.id, name: stage.name, status: stage.status, recompute_on_save: why === null, note: why };
		stages.push(info);
		if (!window) {
			info['note'] = `${stage.name} has no start time: no window to read positions in`;
			continue;
		}
		Object.assign(info, { window_start: iso(window['window_start']), window_end: iso(window['window_end']) });
		const out = await compute(db, stage, before, after, window);
		const entry = (id: string): EntryChange => {
			if (!entries.has(`${stage.id}/${id}`)) entries.set(`${stage.id}/${id}`, { entry_id: id, race_number: null, stage_id: stage.id, crossings: [], penalties: [] });
			return entries.get(`${stage.id}/${id}`)!;
		};
		// The crossings table against the contract (the processor's gps rows; a marshal's manual row stands).
		const processorRan = out.recordedCrossings.size > 0;
		for (const id of new Set([...out.crossings.keys(), ...out.recordedCrossings.keys()])) {
			const c = out.crossings.get(id) ?? { before: null, after: null };
			const rec = out.recordedCrossings.get(id) ?? null;
			const agrees = rec === null ? c.before === null || !processorRan : rec['source'] !== 'gps' || rec['ts'] === c.before?.ts;
			if (!agrees) mismatches++;
			const change = crossingChange(c.before, c.after);
			if (change) entry(id).crossings.push({ target: out.target, change, before: c.before, after: c.after, recorded: rec });
		}
		const recordedPenalties = new Map<string, Row>();
		for (const [id, list] of out.penalties) {
			for (const p of list) {
				if (!recordedPenalties.has(`${id}/${p.dedupe_key}`)) {
					const [r] = await rows(db, 'SELECT status, seconds FROM entry_penalties WHERE entry_id = ? AND stage_id = ? AND dedupe_key = ?', [id, stage.id, p.dedupe_key]);
					recordedPenalties.set(`${id}/${p.dedupe_key}`, r ?? {});
				}
				const r = recordedPenalties.get(`${id}/${p.dedupe_key}`)!;
				entry(id).penalties.push({ ...p, recorded: 'status' in r ? { status: r['status'], seconds: Number(r['seconds']) } : null });
			}
		}
	}
	// Race numbers as the caller reads them (an entry they may not read stays a number-less id).
	const ids = [...new Set([...entries.values()].map((e) => e.entry_id))];
	const numbers = new Map((ids.length ? await deps.read('entries', { filter: { id: { _in: ids } }, fields: ['id', 'race_number'], limit: -1 }) : []).map((r) => [String(r['id']), Number(r['race_number'])]));
	const list = [...entries.values()].map((e) => ({ ...e, race_number: numbers.get(e.entry_id) ?? null }));
	list.sort((x, y) => (x.race_number ?? Infinity) - (y.race_number ?? Infinity) || x.entry_id.localeCompare(y.entry_id));
	const { summary, ...t } = totals(list);
	const recompute = stages.filter((s) => s['recompute_on_save']).map((s) => String(s['name']));
	return {
		collection: req.collection,
		id: req.id,
		object: before.label,
		changes: req.changes,
		stages,
		entries: list,
		totals: { ...t, contract_mismatches: mismatches },
		summary,
		on_save: recompute.length
			? `saving requests a recompute (course-edit) of ${recompute.join(', ')}`
			: 'saving requests no recompute: ' + (stages.map((s) => s['note']).filter(Boolean).join('; ') || 'no stage uses it'),
	};
}
