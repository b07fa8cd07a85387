/**
 * Commands that ran out of time (issue 28): sent and unanswered after their kind's timeout_seconds →
 * `timed_out`; still queued then (Redis was unreachable all along) → `failed`. Run by the schedule;
 * idempotent (only open rows change), so it may run on several Directus instances at once.
 */
import type { Db } from '../shared/types';

export async function expire(db: Db): Promise<{ timed_out: number; failed: number }> {
	const timedOut = await db.raw(
		`UPDATE commands c SET status = 'timed_out', timed_out_at = now(),
		        failure_reason = 'no answer from the device within ' || k.timeout_seconds || ' s'
		   FROM command_kinds k
		  WHERE k.code = c.kind AND c.status = 'sent'
		    AND coalesce(c.sent_at, c.queued_at) + k.timeout_seconds * interval '1 second' < now()`,
	);
	const failed = await db.raw(
		`UPDATE commands c SET status = 'failed', failed_at = now(),
		        failure_reason = 'not delivered within ' || k.timeout_seconds || ' s'
		                         || coalesce(' (' || c.failure_reason || ')', '')
		   FROM command_kinds k
		  WHERE k.code = c.kind AND c.status = 'queued'
		    AND c.queued_at + k.timeout_seconds * interval '1 second' < now()`,
	);
	return { timed_out: Number(timedOut.rowCount ?? 0), failed: Number(failed.rowCount ?? 0) };
}
