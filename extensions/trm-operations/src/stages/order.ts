/**
 * Start orders (pure): who starts a stage in which position, from its strategy and the input stage's results.
 *
 * - manual: params.order (race numbers) first, in that order; every other starter after, by race number.
 * - previous_stage_clean_result: the input stage's elapsed time without penalties, fastest first.
 * - inverse_top_n_then_natural: the input stage's ranking (total with applied penalties): its top n in
 *   reverse order (n-th first … winner n-th), then the rest in ranking order.
 * - inverse_of_overall: the overall classification (sum of totals over the official stages up to the input
 *   stage; only entries with a total in each of them are classified), last classified first, leader last.
 * Ties: the lower race number ranks first; an inverted part is the exact reverse of the natural part.
 * Starters without a time (DNS/DNF of the input stage, or not classified overall) start after every ranked
 * starter, by race number. An empty starter list gives an empty order.
 */

export const STRATEGIES = ['manual', 'previous_stage_clean_result', 'inverse_top_n_then_natural', 'inverse_of_overall'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export function isStrategy(v: unknown): v is Strategy {
	return typeof v === 'string' && (STRATEGIES as readonly string[]).includes(v);
}

/** Whether the strategy orders from an input stage (which must be official when the stage opens). */
export function needsInputStage(s: Strategy): boolean {
	return s !== 'manual';
}

export interface Starter {
	id: string;
	race_number: number;
}

export interface OrderInput {
	strategy: Strategy;
	params: unknown;
	starters: readonly Starter[];
	/** Seconds per entry id for the strategy (clean elapsed, stage total or overall total); absent = no time. */
	seconds: ReadonlyMap<string, number>;
	/** Every race number of the event (manual: a number not in the event is a typo, refused). */
	eventRaceNumbers: ReadonlySet<number>;
}

const byNumber = (a: Starter, b: Starter): number => a.race_number - b.race_number;

function param(params: unknown, key: string): unknown {
	return params && typeof params === 'object' && !Array.isArray(params) ? (params as Record<string, unknown>)[key] : undefined;
}

/** Ranked starters (fastest first, ties by race number) and the unranked ones (by race number). */
export function split(starters: readonly Starter[], seconds: ReadonlyMap<string, number>): { ranked: Starter[]; unranked: Starter[] } {
	const ranked = starters.filter((s) => seconds.has(s.id));
	const unranked = starters.filter((s) => !seconds.has(s.id)).sort(byNumber);
	ranked.sort((a, b) => seconds.get(a.id)! - seconds.get(b.id)! || byNumber(a, b));
	return { ranked, unranked };
}

function manual(input: OrderInput): Starter[] | string[] {
	const order = param(input.params, 'order') ?? [];
	if (!Array.isArray(order)) return ['start_order_strategy_params.order must be a list of race numbers, e.g. {"order": [305, 301]}'];
	const problems: string[] = [];
	const seen = new Set<number>();
	for (const n of order) {
		if (typeof n !== 'number' || !Number.isInteger(n)) problems.push(`start_order_strategy_params.order: ${JSON.stringify(n)} is not a race number`);
		else if (seen.has(n)) problems.push(`start_order_strategy_params.order: race number ${n} is listed twice`);
		else if (!input.eventRaceNumbers.has(n)) problems.push(`start_order_strategy_params.order: no entry #${n} in this event`);
		else seen.add(n);
	}
	if (problems.length > 0) return problems;
	const byRace = new Map(input.starters.map((s) => [s.race_number, s]));
	// A listed entry that does not start (withdrawn, retired …) is skipped: the list stays usable.
	const first = (order as number[]).flatMap((n) => byRace.get(n) ?? []);
	const listed = new Set(first.map((s) => s.id));
	return [...first, ...input.starters.filter((s) => !listed.has(s.id)).sort(byNumber)];
}

/** params.n: a positive integer. */
export function topN(params: unknown): number | string {
	const n = param(params, 'n');
	if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
		return `inverse_top_n_then_natural needs start_order_strategy_params {"n": <a whole number ≥ 1>} (got ${JSON.stringify(n ?? null)})`;
	}
	return n;
}

/** Whether startOrder answered problems instead of an order. */
export function isProblems(r: readonly Starter[] | readonly string[]): r is string[] {
	return r.length > 0 && typeof r[0] === 'string';
}

/** The start order (position 1 first), or the problems that prevent it. */
export function startOrder(input: OrderInput): Starter[] | string[] {
	if (input.strategy === 'manual') return manual(input);
	const { ranked, unranked } = split(input.starters, input.seconds);
	switch (input.strategy) {
		case 'previous_stage_clean_result':
			return [...ranked, ...unranked];
		case 'inverse_top_n_then_natural': {
			const n = topN(input.params);
			if (typeof n === 'string') return [n];
			return [...ranked.slice(0, n).reverse(), ...ranked.slice(n), ...unranked];
		}
		case 'inverse_of_overall':
			return [...ranked.reverse(), ...unranked];
	}
}

/** Overall totals: per entry the sum over the stages, only for entries with a total in every stage. */
export function overall(stages: readonly ReadonlyMap<string, number>[]): Map<string, number> {
	const sums = new Map<string, number>();
	if (stages.length === 0) return sums;
	for (const [entry, first] of stages[0]!) {
		let sum = first;
		let complete = true;
		for (const other of stages.slice(1)) {
			const s = other.get(entry);
			if (s === undefined) {
				complete = false;
				break;
			}
			sum += s;
		}
		if (complete) sums.set(entry, sum);
	}
	return sums;
}
