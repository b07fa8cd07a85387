/**
 * The recompute outbox: a flag request is recorded (with the positions update) in one transaction,
 * then delivered to the Redis stream; rows whose XADD failed stay pending (sent_at NULL) and are
 * re-sent, oldest first, by the next flag call and by the schedule. A sent row is confirmed later,
 * when the schedule still finds its entry in the stream (confirm.ts), or made pending again. Delivery is at least once
 * (a crash between XADD and marking the row sent re-sends it): the processor deduplicates by
 * request_id. Concurrent flushes do not send the same row twice (FOR UPDATE SKIP LOCKED).
 */
import { toCourseEdit } from '../course/request';
import type { Db, Row } from '../shared/types';
import { STREAM, streamFields, type FaultyFlagRequest, type OutboxRequest, type RecordedRequest } from './request';
import { sendCommands } from '../shared/resp';

export const TABLE = 'recompute_requests';

/** Update the device's positions in the window and record the request, in one transaction. */
export async function flagAndRecord(db: Db, req: FaultyFlagRequest, requestedBy: string | null): Promise<RecordedRequest> {
	return db.transaction(async (trx) => {
		const updated = await trx.raw(
			`UPDATE positions SET faulty = ?
			  WHERE device_id = ? AND ts >= ? AND ts < ? AND faulty IS DISTINCT FROM ?`,
			[req.faulty, req.imei, req.from, req.to, req.faulty],
		);
		const rowsChanged = Number((updated as { rowCount?: number }).rowCount ?? 0);
		const [row] = (await trx(TABLE)
			.insert({
				device_id: req.imei,
				window_start: req.from,
				window_end: req.to,
				faulty: req.faulty,
				reason: req.reason,
				requested_by: requestedBy,
				rows_changed: rowsChanged,
			})
			.returning('*')) as Row[];
		return toRecorded(row as Row);
	});
}

function toRecorded(row: Row): RecordedRequest {
	return {
		id: String(row['id']),
		device_id: String(row['device_id']),
		window_start: new Date(row['window_start'] as string),
		window_end: new Date(row['window_end'] as string),
		faulty: row['faulty'] === true,
		reason: String(row['reason']),
		requested_by: row['requested_by'] === null ? null : String(row['requested_by']),
		requested_at: new Date(row['requested_at'] as string),
		rows_changed: Number(row['rows_changed']),
	};
}

export interface FlushResult {
	sent: Map<string, string>; // request id -> stream entry id
	pending: number;
	error: string | null;
}

/**
 * Send pending requests oldest first, up to `limit`; stops at the first failure so the stream keeps
 * the requests' order. Each row is marked sent in the same transaction that locked it.
 */
export async function flushPending(db: Db, redisUrl: string, limit = 100): Promise<FlushResult> {
	const sent = new Map<string, string>();
	let error: string | null = null;
	if (!redisUrl) error = 'REDIS is not configured';
	while (error === null && sent.size < limit) {
		const more = await db.transaction(async (trx) => {
			const row = (await trx(TABLE).whereNull('sent_at').orderBy(['requested_at', 'id']).forUpdate().skipLocked().first()) as
				| Row
				| undefined;
			if (!row) return false;
			const request: OutboxRequest = row['kind'] === 'course-edit' ? toCourseEdit(row) : toRecorded(row);
			try {
				const streamId = await sendCommands(redisUrl, [['XADD', STREAM, '*', ...streamFields(request)]]);
				await trx(TABLE).where({ id: request.id }).update({ sent_at: trx.fn.now(), stream_id: String(streamId), send_attempts: trx.raw('send_attempts + 1'), last_error: null });
				sent.set(request.id, String(streamId));
			} catch (e) {
				error = e instanceof Error ? e.message : String(e);
				await trx(TABLE).where({ id: request.id }).update({ send_attempts: trx.raw('send_attempts + 1'), last_error: error });
			}
			return true;
		});
		if (!more) break;
	}
	const row = (await db(TABLE).whereNull('sent_at').count({ n: '*' }).first()) as { n: string | number } | undefined;
	return { sent, pending: Number(row?.n ?? 0), error };
}
