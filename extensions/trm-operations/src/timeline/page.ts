/** The timeline's query (order, page, kinds) and the page of items it selects (pure). */
import type { Row } from '../shared/types';
import { KINDS, type Item, type Kind } from './history';

export const MAX_LIMIT = 500;

export interface PageQuery {
	order: 'asc' | 'desc';
	limit: number;
	offset: number;
	kinds: Kind[] | null;
}

const int = (v: unknown): number | null => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : typeof v === 'number' && Number.isInteger(v) ? v : null);

/** `?order=asc|desc&limit=1..500&offset=N` (or `page=N`, from 1) `&kind=crew,penalty`; every problem listed. */
export function parsePage(query: Row): PageQuery | string[] {
	const problems: string[] = [];
	const order = query['order'] ?? 'desc';
	if (order !== 'asc' && order !== 'desc') problems.push('order must be asc (oldest first) or desc (newest first)');
	const limit = query['limit'] === undefined ? 50 : int(query['limit']);
	if (limit === null || limit < 1 || limit > MAX_LIMIT) problems.push(`limit must be a whole number from 1 to ${MAX_LIMIT}`);
	let offset = query['offset'] === undefined ? 0 : int(query['offset']);
	if (offset === null) problems.push('offset must be a whole number, 0 or more');
	if (query['page'] !== undefined) {
		const page = int(query['page']);
		if (page === null || page < 1) problems.push('page must be a whole number from 1');
		else if (query['offset'] !== undefined) problems.push('give page or offset, not both');
		else offset = (page - 1) * (limit ?? 50);
	}
	let kinds: Kind[] | null = null;
	if (query['kind'] !== undefined && query['kind'] !== '') {
		const asked = String(query['kind']).split(',').map((k) => k.trim());
		const unknown = asked.filter((k) => !(KINDS as readonly string[]).includes(k));
		if (unknown.length > 0) problems.push(`unknown kind(s) ${unknown.join(', ')}: the kinds are ${KINDS.join(', ')}`);
		kinds = asked.filter((k): k is Kind => (KINDS as readonly string[]).includes(k));
	}
	const known = ['order', 'limit', 'offset', 'page', 'kind'];
	const other = Object.keys(query).filter((k) => !known.includes(k));
	if (other.length > 0) problems.push(`unknown parameter(s) ${other.join(', ')}: the parameters are ${known.join(', ')}`);
	if (problems.length > 0) return problems;
	return { order: order as PageQuery['order'], limit: limit as number, offset: offset as number, kinds };
}

/** Items in time order (ties: the order they were written), filtered by kind, and the requested page. */
export function pageOf(items: readonly Item[], q: PageQuery): { total: number; counts: Record<string, number>; items: Item[] } {
	const counts: Record<string, number> = {}; // in the order of KINDS, whatever order the items came in
	for (const k of KINDS) {
		const n = items.filter((i) => i.kind === k).length;
		if (n > 0) counts[k] = n;
	}
	const chosen = items.filter((i) => q.kinds === null || q.kinds.includes(i.kind));
	const sorted = [...chosen].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.seq - b.seq));
	if (q.order === 'desc') sorted.reverse();
	return { total: chosen.length, counts, items: sorted.slice(q.offset, q.offset + q.limit) };
}
