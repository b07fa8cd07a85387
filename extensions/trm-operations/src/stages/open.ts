/**
 * Opening a stage: materialise entry_segment_starts from the start-order strategy (order.ts) and the start
 * interval (schedule.ts), in one transaction that holds the stage row locked.
 *
 * Starters are the event's entries with status `scrutineered` (passed scrutineering, before their first
 * stage) or `started` (racing, including those with a DNS/DNF on an earlier stage): registered/confirmed
 * entries have not passed scrutineering; finished, retired, disqualified and withdrawn ones do not start.
 * Idempotent: a segment that already has starts is left as it is (timekeepers' edits and manual overrides
 * stay); only segments without any start are filled, so opening again writes nothing, and a segment added
 * after opening gets its starts when the stage is set to open again. Refused (400, nothing written) when the
 * strategy's input stage (start_order_input_stage_id, else the previous stage by sort_order) is missing, of
 * another event or not official, when the strategy's parameters are wrong, or when starts_at /
 * start_interval_seconds are missing while there is something to schedule.
 */
import { randomUUID } from 'node:crypto';
import { InvalidPayload, NotFound } from '../shared/errors';
import type { Db, Row } from '../shared/types';
import { recomputeClosing } from './closing';
import { isProblems, isStrategy, needsInputStage, overall, startOrder, type Starter, type Strategy } from './order';
import { startSlots, type SegmentTimes } from './schedule';

export const STARTING_STATUSES: readonly string[] = ['scrutineered', 'started'];
const INSERT_CHUNK = 1000;

export interface OpenReport {
	stage_id: string;
	strategy: Strategy;
	input_stage_id: string | null;
	starters: number;
	starts_created: number;
	segments_filled: number;
	segments_kept: number;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** The stage whose results order this one, or the reason opening is refused. */
export async function inputStageProblem(db: Db, stage: Row, strategy: Strategy): Promise<Row | string | null> {
	if (!needsInputStage(strategy)) return null;
	const name = `stage "${String(stage['name'])}"`;
	let id = stage['start_order_input_stage_id'] as string | null | undefined;
	if (!id) {
		const prev = (await db('stages')
			.select('id')
			.where('event_id', stage['event_id'] as string)
			.where('sort_order', '<', Number(stage['sort_order']))
			.orderBy('sort_order', 'desc')
			.first()) as Row | undefined;
		if (!prev) return `${name} cannot open: strategy ${strategy} orders from an input stage, and there is none (set start_order_input_stage_id, or use manual)`;
		id = String(prev['id']);
	}
	const input = (await db('stages').select('id', 'name', 'status', 'event_id', 'sort_order').where({ id }).first()) as Row | undefined;
	if (!input) return `${name} cannot open: its input stage ${id} does not exist`;
	if (input['event_id'] !== stage['event_id']) return `${name} cannot open: its input stage "${String(input['name'])}" is of another event`;
	if (input['status'] !== 'official') {
		return `${name} cannot open: its start order (${strategy}) comes from stage "${String(input['name'])}", which is ${String(input['status'])}, not official: publish that stage first`;
	}
	return input;
}

/** The times the strategy orders by, per entry id (absent: no time = DNS/DNF or not classified). */
async function secondsFor(db: Db, strategy: Strategy, input: Row | null): Promise<Map<string, number>> {
	if (!input) return new Map();
	const of = async (stageId: string, column: string): Promise<Map<string, number>> => {
		const rows = (await db('stage_results').select('entry_id', column).where('stage_id', stageId).whereNotNull(column)) as Row[];
		return new Map(rows.map((r) => [String(r['entry_id']), Number(r[column])]));
	};
	if (strategy === 'previous_stage_clean_result') return of(String(input['id']), 'elapsed_seconds');
	if (strategy === 'inverse_top_n_then_natural') return of(String(input['id']), 'total_seconds');
	const stages = (await db('stages')
		.select('id')
		.where({ event_id: input['event_id'] as string, status: 'official' })
		.where('sort_order', '<=', Number(input['sort_order']))
		.orderBy('sort_order')) as Row[];
	return overall(await Promise.all(stages.map((s) => of(String(s['id']), 'total_seconds'))));
}

/** Check what opening a stage needs that its own row says (create with status open: no segments yet). */
export async function checkOpenable(db: Db, stage: Row): Promise<void> {
	const strategy = stage['start_order_strategy'] ?? 'manual';
	if (!isStrategy(strategy)) throw new InvalidPayload({ reason: `unknown start_order_strategy ${JSON.stringify(strategy)}` });
	const input = await inputStageProblem(db, stage, strategy);
	if (typeof input === 'string') throw new InvalidPayload({ reason: input });
}

/**
 * Open these stages in one transaction (a batch update opens all of them or none). `changes` is the
 * update's payload: the stage as it will be (e.g. a strategy set in the same PATCH as the status).
 * `update`, when given, writes the update itself first in that transaction (Directus's own update,
 * with the caller's permissions: hooks.ts), so the start list exists only if the update is allowed.
 */
export async function openStages(
	db: Db,
	stageIds: readonly string[],
	changes: Row = {},
	update?: (trx: Db) => Promise<unknown>,
): Promise<OpenReport[]> {
	return db.transaction(async (trx) => {
		if (update) await update(trx);
		const reports: OpenReport[] = [];
		for (const id of stageIds) reports.push(await openOne(trx, id, changes));
		return reports;
	});
}

async function openOne(trx: Db, stageId: string, changes: Row): Promise<OpenReport> {
	const row = (await trx('stages').select('*').where({ id: stageId }).forUpdate().first()) as Row | undefined;
	if (!row) throw new NotFound({ reason: `no stage ${stageId}` });
	const stage: Row = { ...row, ...changes };
	const name = `stage "${String(stage['name'])}"`;
	const strategy = stage['start_order_strategy'] ?? 'manual';
	if (!isStrategy(strategy)) throw new InvalidPayload({ reason: `${name}: unknown start_order_strategy ${JSON.stringify(strategy)}` });
	const input = await inputStageProblem(trx, stage, strategy);
	if (typeof input === 'string') throw new InvalidPayload({ reason: input });

	const segments = (await trx('segments')
		.select('id', 'target_duration_seconds', 'max_duration_seconds')
		.where({ stage_id: stageId })
		.orderBy('sort_order')) as Row[];
	const filled = new Set(
		((await trx('entry_segment_starts').distinct('segment_id').whereIn('segment_id', segments.map((s) => s['id'] as string))) as Row[]).map((r) =>
			String(r['segment_id']),
		),
	);
	const entries = (await trx('entries').select('id', 'race_number', 'status').where({ event_id: stage['event_id'] as string })) as Row[];
	const starters: Starter[] = entries
		.filter((e) => STARTING_STATUSES.includes(String(e['status'])))
		.map((e) => ({ id: String(e['id']), race_number: Number(e['race_number']) }));
	const order = startOrder({
		strategy,
		params: stage['start_order_strategy_params'],
		starters,
		seconds: await secondsFor(trx, strategy, input),
		eventRaceNumbers: new Set(entries.map((e) => Number(e['race_number']))),
	});
	if (isProblems(order)) throw new InvalidPayload({ reason: `${name} cannot open: ${order.join('; ')}` });

	const todo: SegmentTimes[] = segments
		.filter((s) => !filled.has(String(s['id'])))
		.map((s) => ({ id: String(s['id']), target_duration_seconds: num(s['target_duration_seconds']), max_duration_seconds: num(s['max_duration_seconds']) }));
	let created = 0;
	if (todo.length > 0 && order.length > 0) {
		const missing = [
			stage['starts_at'] ? null : 'starts_at (the first start)',
			num(stage['start_interval_seconds']) === null ? 'start_interval_seconds (0 = all at once)' : null,
		].filter((m): m is string => m !== null);
		if (missing.length > 0) throw new InvalidPayload({ reason: `${name} cannot open: set ${missing.join(' and ')} to schedule its ${order.length} starters` });
		const slots = startSlots(
			order.map((s) => s.id),
			todo,
			new Date(stage['starts_at'] as string | Date),
			Number(stage['start_interval_seconds']),
		);
		const rows = slots.map((s) => ({ id: randomUUID(), ...s, manual_override: false }));
		for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
			const inserted = (await trx('entry_segment_starts')
				.insert(rows.slice(i, i + INSERT_CHUNK))
				.onConflict(['entry_id', 'segment_id'])
				.ignore()
				.returning('id')) as Row[];
			created += inserted.length;
		}
	}
	await recomputeClosing(trx, segments.map((s) => String(s['id'])));
	return {
		stage_id: stageId,
		strategy,
		input_stage_id: input ? String(input['id']) : null,
		starters: order.length,
		starts_created: created,
		segments_filled: order.length > 0 ? todo.length : 0,
		segments_kept: filled.size,
	};
}
