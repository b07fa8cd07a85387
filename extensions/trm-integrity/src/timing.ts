/**
 * Timing rules (domain.md "Phase 3") that must answer 400 with the rule, before the database
 * constraints of db-init/post/103 and 104 would answer 500:
 * - penalty_formulas: the target (belongs_to_type / belongs_to_id) exists and is of the formula's
 *   event; no belongs_to_id for the event itself; waypoint_type only for missed_waypoint rules not
 *   attached to a waypoint or zone; brackets have offence_max > offence_min; the brackets of one
 *   rule neither overlap nor leave gaps and a rule is one flat row or brackets (on create, update
 *   and delete); a course row with formulas attached is not deleted; a superseded row (a rules
 *   re-import replaced its rule, superseded_at set: penalties computed from it still point at it)
 *   keeps its values and is left out of its rule's bracket checks;
 * - entry_segment_starts, entry_crossings, entry_penalties, stage_results: of the entry's event;
 *   a crossing is of exactly one geofence or waypoint;
 * - entry_penalties: proposed -> applied / waived, never back to proposed; a waive needs a note,
 *   changing the seconds of a reviewed penalty too; reviewed_by is the current user unless given;
 *   nothing changes once the stage is official;
 * - stage_results: the ranking columns are computed by the database; official only by publishing
 *   the stage; official results are final;
 * - stages: publishing (status -> official) with proposed penalties, or un-publishing official results.
 * Writes go through as they are otherwise; writes are checked on the row as it will be.
 */
import { InvalidPayload, type Db, type Row } from './shared';

export type Accountability = { user?: string | null } | null | undefined;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const has = (p: Row, key: string): boolean => Object.prototype.hasOwnProperty.call(p, key);
const blank = (v: unknown): boolean => v === null || v === undefined || String(v).trim() === '';

async function merged(db: Db, table: string, payload: Row, keys: unknown[] | null, columns: string[]): Promise<Row[]> {
	if (!keys) return [payload];
	const rows = (await db(table).select('id', ...columns).whereIn('id', keys as string[])) as Row[];
	return rows.map((row) => ({ ...row, ...payload }));
}

async function eventOf(db: Db, kind: string, id: unknown): Promise<string | null> {
	if (!id || !UUID.test(String(id))) return null;
	const row = (await db.raw('SELECT trm_timing.event_of(?, ?::uuid) AS event_id', [kind, String(id)])).rows[0];
	return (row?.['event_id'] as string | null) ?? null;
}

async function entry(db: Db, id: unknown): Promise<Row | undefined> {
	if (!id) return undefined;
	return (await db('entries').select('event_id', 'race_number').where({ id }).first()) as Row | undefined;
}

// --- penalty formulas ----------------------------------------------------------------------------

export type Bracket = { offence_min: number | null; offence_max: number | null };

/** The problem with one rule's rows (one flat row, or contiguous brackets), or null — as trm_timing.rule_problem. */
export function ruleProblem(rows: Bracket[]): string | null {
	const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
	const all = rows.map((r) => ({ min: num(r.offence_min), max: num(r.offence_max) }));
	const flat = all.filter((r) => r.min === null).length;
	const brackets = all.filter((r) => r.min !== null).sort((a, b) => a.min! - b.min!);
	for (let i = 1; i < brackets.length; i++) {
		const prev = brackets[i - 1]!;
		const cur = brackets[i]!;
		if (prev.max === null) return `bracket (> ${prev.min}) has no upper bound but bracket (> ${cur.min}) follows it`;
		if (cur.min! < prev.max) return `brackets (> ${prev.min} ≤ ${prev.max}) and (> ${cur.min}) overlap`;
		if (cur.min! > prev.max) {
			return `gap between brackets (> ${prev.min} ≤ ${prev.max}) and (> ${cur.min}): offences in (${prev.max}, ${cur.min}] have no penalty`;
		}
	}
	if (flat > 0 && brackets.length > 0) return 'a rule is either one flat row or brackets, not both';
	return null;
}

const RULE_KEY = ['event_id', 'type', 'belongs_to_type', 'belongs_to_id', 'waypoint_type'] as const;
const FORMULA_COLUMNS = [...RULE_KEY, 'offence_min', 'offence_max'];

function ruleLabel(f: Row): string {
	const wt = f['waypoint_type'] ? ` ${String(f['waypoint_type'])}` : '';
	return `${String(f['type'])}${wt} at ${String(f['belongs_to_type'])}`;
}

async function ruleRows(db: Db, f: Row): Promise<Row[]> {
	const q = db('penalty_formulas').select('id', 'offence_min', 'offence_max').whereNull('superseded_at');
	for (const k of RULE_KEY) {
		if (f[k] === null || f[k] === undefined) q.whereNull(k);
		else q.where(k, f[k]);
	}
	return (await q) as Row[];
}

export async function checkFormula(db: Db, p: Row, keys: unknown[] | null): Promise<Row> {
	if (keys && !FORMULA_COLUMNS.some((k) => has(p, k))) return p;
	for (const raw of await merged(db, 'penalty_formulas', p, keys, [...FORMULA_COLUMNS, 'superseded_at'])) {
		const f: Row = { belongs_to_type: 'event', belongs_to_id: null, waypoint_type: null, offence_min: null, offence_max: null, ...raw };
		if (!blank(f['superseded_at'])) {
			if (keys) throw new InvalidPayload({ reason: `penalty_formulas: rule ${ruleLabel(f)}: a superseded row is history (penalties were computed from it): its values do not change` });
			continue; // created as history (e.g. restored by an import's undo): not part of its rule's current brackets
		}
		const kind = String(f['belongs_to_type']);
		if (kind === 'event') {
			if (!blank(f['belongs_to_id'])) {
				throw new InvalidPayload({ reason: 'penalty_formulas: a formula of the event itself has no belongs_to_id (leave it empty)' });
			}
		} else {
			if (blank(f['belongs_to_id'])) throw new InvalidPayload({ reason: `penalty_formulas: belongs_to_id (the ${kind}) is required` });
			const target = await eventOf(db, kind, f['belongs_to_id']);
			if (target === null) throw new InvalidPayload({ reason: `penalty_formulas: ${kind} ${String(f['belongs_to_id'])} does not exist` });
			if (f['event_id'] && target !== f['event_id']) {
				throw new InvalidPayload({ reason: `penalty_formulas: ${kind} ${String(f['belongs_to_id'])} belongs to another event than the formula` });
			}
		}
		if (!blank(f['waypoint_type']) && (f['type'] !== 'missed_waypoint' || !['event', 'stage', 'segment'].includes(kind))) {
			throw new InvalidPayload({
				reason: 'penalty_formulas: waypoint_type is for missed_waypoint rules of an event, stage or segment (a waypoint has its own type)',
			});
		}
		const min = f['offence_min'];
		const max = f['offence_max'];
		if (max !== null && min === null) throw new InvalidPayload({ reason: 'penalty_formulas: a bracket with offence_max needs offence_min' });
		if (max !== null && min !== null && Number(max) <= Number(min)) {
			throw new InvalidPayload({ reason: `penalty_formulas: offence_max ${String(max)} must be above offence_min ${String(min)}` });
		}
		const others = (await ruleRows(db, f)).filter((r) => r['id'] !== f['id']);
		const problem = ruleProblem([...(others as Bracket[]), { offence_min: min as number | null, offence_max: max as number | null }]);
		if (problem) throw new InvalidPayload({ reason: `penalty_formulas: rule ${ruleLabel(f)}: ${problem}` });
	}
	return p;
}

async function checkFormulaDelete(db: Db, keys: unknown[]): Promise<void> {
	const gone = (await db('penalty_formulas').select('id', ...FORMULA_COLUMNS).whereIn('id', keys as string[])) as Row[];
	const ids = new Set(gone.map((r) => r['id']));
	const seen = new Set<string>();
	for (const f of gone) {
		const key = RULE_KEY.map((k) => String(f[k])).join('|');
		if (seen.has(key)) continue;
		seen.add(key);
		const left = (await ruleRows(db, f)).filter((r) => !ids.has(r['id']));
		const problem = ruleProblem(left as Bracket[]);
		if (problem) throw new InvalidPayload({ reason: `penalty_formulas: deleting leaves rule ${ruleLabel(f)} broken: ${problem}` });
	}
}

const FORMULA_TARGETS: Record<string, string> = {
	stages: 'stage',
	segments: 'segment',
	waypoints: 'waypoint',
	speed_limit_zones: 'speed_limit_zone',
};

// --- entry rows -------------------------------------------------------------------------------------

async function sameEvent(db: Db, table: string, r: Row, other: string, otherEvent: unknown): Promise<void> {
	const e = await entry(db, r['entry_id']);
	if (e && otherEvent && e['event_id'] !== otherEvent) {
		throw new InvalidPayload({ reason: `${table}: ${other} belongs to another event than entry #${String(e['race_number'])}` });
	}
}

async function stageRow(db: Db, id: unknown): Promise<Row | undefined> {
	if (!id) return undefined;
	return (await db('stages').select('event_id', 'name', 'status').where({ id }).first()) as Row | undefined;
}

export async function checkSegmentStart(db: Db, p: Row, keys: unknown[] | null): Promise<Row> {
	if (keys && !has(p, 'entry_id') && !has(p, 'segment_id')) return p;
	for (const s of await merged(db, 'entry_segment_starts', p, keys, ['entry_id', 'segment_id'])) {
		await sameEvent(db, 'entry_segment_starts', s, 'the segment', await eventOf(db, 'segment', s['segment_id']));
	}
	return p;
}

export async function checkCrossing(db: Db, p: Row, keys: unknown[] | null): Promise<Row> {
	const columns = ['entry_id', 'geofence_id', 'waypoint_id'];
	if (keys && !columns.some((k) => has(p, k))) return p;
	for (const c of await merged(db, 'entry_crossings', p, keys, columns)) {
		const targets = [c['geofence_id'], c['waypoint_id']].filter((v) => !blank(v)).length;
		if (targets !== 1) throw new InvalidPayload({ reason: 'entry_crossings: a crossing is of exactly one geofence or one waypoint' });
		const fence = c['geofence_id']
			? ((await db('geofences').select('event_id', 'name').where({ id: c['geofence_id'] }).first()) as Row | undefined)
			: undefined;
		const event = fence ? fence['event_id'] : await eventOf(db, 'waypoint', c['waypoint_id']);
		await sameEvent(db, 'entry_crossings', c, fence ? `geofence ${String(fence['name'])}` : 'the waypoint', event);
	}
	return p;
}

async function refuseOfficialStage(db: Db, table: string, stageIds: unknown[]): Promise<void> {
	const ids = [...new Set(stageIds.filter((s) => s))] as string[];
	if (ids.length === 0) return;
	const st = (await db('stages').select('name').whereIn('id', ids).where({ status: 'official' }).first()) as Row | undefined;
	if (st) {
		throw new InvalidPayload({ reason: `${table}: stage ${String(st['name'])} is official (published): its ${table === 'stage_results' ? 'results' : 'penalties'} are final` });
	}
}

const REVIEWED = ['applied', 'waived'];

export async function checkPenalty(db: Db, p: Row, keys: unknown[] | null, who: Accountability): Promise<Row> {
	const columns = ['entry_id', 'stage_id', 'formula_id', 'status', 'seconds', 'note', 'reviewed_by'];
	const current = keys ? ((await db('entry_penalties').select('id', ...columns).whereIn('id', keys as string[])) as Row[]) : [null];
	// One look at the stages involved, whatever the number of rows (a review "apply all" is one update of many keys).
	await refuseOfficialStage(db, 'entry_penalties', [...current.map((old) => old?.['stage_id']), p['stage_id']]);
	for (const old of current) {
		const r: Row = { status: 'proposed', ...(old ?? {}), ...p };
		if (old && REVIEWED.includes(String(old['status'])) && r['status'] === 'proposed') {
			throw new InvalidPayload({ reason: `entry_penalties: a reviewed penalty (${String(old['status'])}) does not go back to proposed` });
		}
		const reviewing = REVIEWED.includes(String(r['status'])) && (!old || old['status'] !== r['status']);
		if (reviewing && blank(r['reviewed_by'])) {
			if (!who?.user) throw new InvalidPayload({ reason: 'entry_penalties: reviewed_by is required to apply or waive a penalty' });
			p['reviewed_by'] = who.user;
		}
		if (r['status'] === 'waived' && blank(r['note'])) {
			throw new InvalidPayload({ reason: 'entry_penalties: waiving a penalty needs a note (who and why)' });
		}
		if (old && has(p, 'seconds') && Number(p['seconds']) !== Number(old['seconds']) && r['status'] !== 'proposed' && blank(r['note'])) {
			throw new InvalidPayload({ reason: `entry_penalties: changing the seconds of a reviewed penalty (${String(old['seconds'])} -> ${String(p['seconds'])}) needs a note` });
		}
		if (!old || ['entry_id', 'stage_id', 'formula_id'].some((k) => has(p, k))) {
			const st = await stageRow(db, r['stage_id']);
			await sameEvent(db, 'entry_penalties', r, `stage ${String(st?.['name'])}`, st?.['event_id']);
			const f = r['formula_id']
				? ((await db('penalty_formulas').select('event_id', 'summary').where({ id: r['formula_id'] }).first()) as Row | undefined)
				: undefined;
			await sameEvent(db, 'entry_penalties', r, `formula ${String(f?.['summary'])}`, f?.['event_id']);
		}
	}
	return p;
}

const COMPUTED = ['penalty_seconds', 'total_seconds', 'rank_overall', 'rank_class', 'published_at'];

export async function checkResult(db: Db, p: Row, keys: unknown[] | null): Promise<Row> {
	const computed = COMPUTED.filter((k) => has(p, k));
	if (computed.length > 0) {
		throw new InvalidPayload({ reason: `stage_results: ${computed.join(', ')} ${computed.length === 1 ? 'is' : 'are'} computed by the database from results and applied penalties` });
	}
	const current = keys ? ((await db('stage_results').select('id', 'entry_id', 'stage_id', 'status').whereIn('id', keys as string[])) as Row[]) : [null];
	for (const old of current) {
		const r: Row = { status: 'provisional', ...(old ?? {}), ...p };
		if (old?.['status'] === 'official') throw new InvalidPayload({ reason: 'stage_results: an official result is final' });
		await refuseOfficialStage(db, 'stage_results', [r['stage_id']]);
		if (r['status'] !== 'provisional') {
			throw new InvalidPayload({ reason: 'stage_results: results become official by publishing the stage (set the stage\'s status to official)' });
		}
		if (!old || has(p, 'entry_id') || has(p, 'stage_id')) {
			const st = await stageRow(db, r['stage_id']);
			await sameEvent(db, 'stage_results', r, `stage ${String(st?.['name'])}`, st?.['event_id']);
		}
	}
	return p;
}

/** Publishing a stage (status -> official) needs every penalty of it reviewed; published results stay official. */
export async function checkStagePublish(db: Db, p: Row, keys: unknown[] | null): Promise<Row> {
	if (!keys || !has(p, 'status')) return p;
	for (const st of (await db('stages').select('id', 'name', 'status').whereIn('id', keys as string[])) as Row[]) {
		if (p['status'] === 'official' && st['status'] !== 'official') {
			const row = (await db('entry_penalties').where({ stage_id: st['id'], status: 'proposed' }).count({ n: '*' }).first()) as { n: string | number };
			const n = Number(row.n);
			if (n > 0) {
				throw new InvalidPayload({
					reason: `stage ${String(st['name'])} has ${n} proposed penalt${n === 1 ? 'y' : 'ies'} awaiting review: apply or waive ${n === 1 ? 'it' : 'them'} before publishing`,
				});
			}
		} else if (st['status'] === 'official' && p['status'] !== 'official') {
			const row = (await db('stage_results').where({ stage_id: st['id'], status: 'official' }).count({ n: '*' }).first()) as { n: string | number };
			if (Number(row.n) > 0) throw new InvalidPayload({ reason: `stage ${String(st['name'])} is published: its official results are final` });
		}
	}
	return p;
}

/** Deletes the timing rules care about (the generic foreign-key check runs first, in index.ts). */
export async function checkTimingDelete(db: Db, collection: string, keys: unknown[]): Promise<void> {
	if (keys.length === 0) return;
	if (collection === 'penalty_formulas') await checkFormulaDelete(db, keys);
	const kind = FORMULA_TARGETS[collection];
	if (kind) {
		const row = (await db('penalty_formulas').where({ belongs_to_type: kind }).whereIn('belongs_to_id', keys as string[]).count({ n: '*' }).first()) as { n: string | number };
		const n = Number(row.n);
		if (n > 0) {
			throw new InvalidPayload({ reason: `${collection} item(s) are still referenced by penalty_formulas.belongs_to_id (${n} row${n === 1 ? '' : 's'}): delete or reattach those first` });
		}
	}
	if (collection === 'entry_penalties' || collection === 'stage_results') {
		const rows = (await db(collection).select('stage_id', 'status').whereIn('id', keys as string[])) as Row[];
		if (collection === 'stage_results' && rows.some((r) => r['status'] === 'official')) {
			throw new InvalidPayload({ reason: 'stage_results: an official result is final' });
		}
		await refuseOfficialStage(db, collection, rows.map((r) => r['stage_id']));
	}
}
