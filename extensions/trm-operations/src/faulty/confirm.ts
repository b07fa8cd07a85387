/**
 * The outbox does not take Redis's word for it: a request marked sent is confirmed only when the
 * schedule finds its entry still in the stream CONFIRM_AFTER_SECONDS after the XADD (Redis runs
 * with AOF, appendfsync everysec: by then the entry is on disk). An entry that is gone — Redis
 * restarted without its data, a new Redis, a FLUSHALL — makes the row pending again, and the flush
 * that follows re-sends it (same request_id: the processor deduplicates). Once confirmed, a row is
 * never checked again, so the processor may trim entries older than the check (extensions/README.md).
 */
import type { Db, Row } from '../shared/types';
import { sendCommands } from '../shared/resp';

export const CONFIRM_AFTER_SECONDS = 5;

export interface ConfirmResult {
	confirmed: number;
	lost: string[]; // request ids made pending again
}

/** Check sent, unconfirmed rows of an outbox `table` against `stream`, oldest first, up to `limit`. */
export async function confirmSent(db: Db, redisUrl: string, table: string, stream: string, limit = 100): Promise<ConfirmResult> {
	const result: ConfirmResult = { confirmed: 0, lost: [] };
	if (!redisUrl) return result;
	const rows = (await db(table)
		.select('id', 'stream_id', 'sent_at')
		.whereNotNull('sent_at')
		.whereNull('confirmed_at')
		.where('sent_at', '<=', db.raw(`now() - make_interval(secs => ?)`, [CONFIRM_AFTER_SECONDS]))
		.orderBy('sent_at')
		.limit(limit)) as Row[];
	for (const row of rows) {
		const id = String(row['stream_id']);
		const found = await sendCommands(redisUrl, [['XRANGE', stream, id, id]]);
		const present = Array.isArray(found) && found.length > 0;
		// Conditional on the stream id: a concurrent check or re-send of the same row wins, not both.
		const where = { id: row['id'], stream_id: id };
		if (present) {
			result.confirmed += await db(table).where(where).whereNull('confirmed_at').update({ confirmed_at: db.fn.now() });
		} else {
			const error = `entry ${id} was not in ${stream} ${CONFIRM_AFTER_SECONDS}+ s after it was sent (Redis lost it): re-sending`;
			if (await db(table).where(where).update({ sent_at: null, stream_id: null, last_error: error })) result.lost.push(String(row['id']));
		}
	}
	return result;
}
