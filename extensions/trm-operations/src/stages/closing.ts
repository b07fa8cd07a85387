/** Control closing times: segments.controls_close_at recomputed from the segment's starts and maximum time. */
import type { Db, Row } from '../shared/types';
import { closingTime } from './schedule';

const asNumber = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const asDate = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(v as string | Date));

/** Recompute the closing time of these segments (unchanged values are not written). How many changed. */
export async function recomputeClosing(db: Db, segmentIds: readonly string[]): Promise<number> {
	const ids = [...new Set(segmentIds)];
	if (ids.length === 0) return 0;
	const segments = (await db('segments').select('id', 'max_duration_seconds', 'controls_close_at').whereIn('id', ids)) as Row[];
	const last = (await db('entry_segment_starts')
		.select('segment_id')
		.max({ last: 'target_at' })
		.whereIn('segment_id', ids)
		.groupBy('segment_id')) as Row[];
	const lastBySegment = new Map(last.map((r) => [String(r['segment_id']), asDate(r['last'])]));
	let changed = 0;
	for (const s of segments) {
		const id = String(s['id']);
		const closes = closingTime([lastBySegment.get(id) ?? null], asNumber(s['max_duration_seconds']));
		const before = asDate(s['controls_close_at']);
		if ((closes?.getTime() ?? null) === (before?.getTime() ?? null)) continue;
		await db('segments').where({ id }).update({ controls_close_at: closes });
		changed++;
	}
	return changed;
}

/** The segments of these start rows (before an update or delete changes or removes them). */
export async function segmentsOfStarts(db: Db, startIds: readonly string[]): Promise<string[]> {
	if (startIds.length === 0) return [];
	const rows = (await db('entry_segment_starts').distinct('segment_id').whereIn('id', startIds)) as Row[];
	return rows.map((r) => String(r['segment_id']));
}
