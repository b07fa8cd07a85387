import { describe, expect, it } from 'vitest';
import { isProblems, overall, startOrder, topN, type OrderInput, type Starter, type Strategy } from '../src/stages/order';

// Five starters; #104 has no time (DNF of the input stage), #105 none either (DNS); #102 and #103 tie.
const S = (n: number): Starter => ({ id: `e${n}`, race_number: n });
const starters = [S(105), S(101), S(103), S(104), S(102)];
const seconds = new Map([
	['e101', 3000],
	['e102', 3100],
	['e103', 3100],
	['e106', 2000], // a time of an entry that does not start (withdrawn since): ignored
]);
const numbers = (r: Starter[] | string[]): (number | string)[] => (isProblems(r) ? r : r.map((s) => s.race_number));
const input = (strategy: Strategy, over: Partial<OrderInput> = {}): OrderInput => ({
	strategy,
	params: null,
	starters,
	seconds,
	eventRaceNumbers: new Set([101, 102, 103, 104, 105, 106]),
	...over,
});

describe('start order', () => {
	it.each<[string, OrderInput, (number | string)[]]>([
		['manual without a list: race numbers', input('manual'), [101, 102, 103, 104, 105]],
		['manual list first, the rest by race number', input('manual', { params: { order: [104, 102] } }), [104, 102, 101, 103, 105]],
		['manual list naming a non-starter skips it', input('manual', { params: { order: [106, 103] } }), [103, 101, 102, 104, 105]],
		['clean result: fastest first, tie by race number, no time last', input('previous_stage_clean_result'), [101, 102, 103, 104, 105]],
		['inverse top 2, then natural', input('inverse_top_n_then_natural', { params: { n: 2 } }), [102, 101, 103, 104, 105]],
		['inverse top 3 (a tie inside): exact reverse', input('inverse_top_n_then_natural', { params: { n: 3 } }), [103, 102, 101, 104, 105]],
		['inverse top n larger than the ranked', input('inverse_top_n_then_natural', { params: { n: 10 } }), [103, 102, 101, 104, 105]],
		['inverse of overall: leader last, unclassified after', input('inverse_of_overall'), [103, 102, 101, 104, 105]],
		['nobody ranked: race numbers', input('inverse_of_overall', { seconds: new Map() }), [101, 102, 103, 104, 105]],
		['an empty stage: empty order', input('previous_stage_clean_result', { starters: [] }), []],
		['an empty stage, manual', input('manual', { starters: [], params: { order: [101] } }), []],
	])('%s', (_name, i, expected) => {
		expect(numbers(startOrder(i))).toEqual(expected);
	});

	it.each<[string, unknown, string]>([
		['not a list', { order: 'x' }, 'start_order_strategy_params.order must be a list of race numbers, e.g. {"order": [305, 301]}'],
		['a number twice', { order: [101, 101] }, 'start_order_strategy_params.order: race number 101 is listed twice'],
		['a typo', { order: [999] }, 'start_order_strategy_params.order: no entry #999 in this event'],
		['not a number', { order: ['101'] }, 'start_order_strategy_params.order: "101" is not a race number'],
	])('manual refuses %s', (_name, params, problem) => {
		expect(startOrder(input('manual', { params }))).toEqual([problem]);
	});

	it.each<[unknown, number | string]>([
		[{ n: 10 }, 10],
		[{ n: 0 }, 'inverse_top_n_then_natural needs start_order_strategy_params {"n": <a whole number ≥ 1>} (got 0)'],
		[{ n: 2.5 }, 'inverse_top_n_then_natural needs start_order_strategy_params {"n": <a whole number ≥ 1>} (got 2.5)'],
		[null, 'inverse_top_n_then_natural needs start_order_strategy_params {"n": <a whole number ≥ 1>} (got null)'],
		[[3], 'inverse_top_n_then_natural needs start_order_strategy_params {"n": <a whole number ≥ 1>} (got null)'],
	])('top n of %j', (params, expected) => {
		expect(topN(params)).toEqual(expected);
	});
});

describe('overall classification', () => {
	it.each<[string, Map<string, number>[], [string, number][]]>([
		['no official stage', [], []],
		['one stage', [new Map([['a', 10]])], [['a', 10]]],
		[
			'sums, and an entry missing a stage is not classified',
			[new Map([['a', 10], ['b', 20], ['c', 5]]), new Map([['a', 15], ['b', 1]])],
			[['a', 25], ['b', 21]],
		],
	])('%s', (_name, stages, expected) => {
		expect([...overall(stages)]).toEqual(expected);
	});
});
