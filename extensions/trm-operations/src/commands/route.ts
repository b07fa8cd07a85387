/**
 * Routing commands to the gateway that holds the device (the outbox of issue 28).
 *
 * A command row is the outbox entry: created `queued` through Directus (permissions and the kind's
 * parameters checked before it exists), then, after the create's commit (an action) and again by the
 * schedule for whatever is still queued, delivered: the device's session key names the gateway
 * instance; no session → `failed` at once with the reason; else XADD to that instance's stream and
 * `sent`. A Redis error leaves the command `queued` (attempts, failure_reason says why) for the next
 * run, so nothing is lost while Redis is briefly down; one still undelivered when its kind's timeout
 * runs out is `failed` (timeouts.ts). Rows are locked while delivered (FOR UPDATE SKIP LOCKED), so two
 * Directus instances never deliver the same command twice; a crash between XADD and the update
 * re-sends it, and the gateway deduplicates on command_id (at least once).
 *
 * The session lookup and the XADD are one Redis round trip (a script: the stream is named by the
 * session's value), so a command spends one Redis call and its row lock on the way out.
 */
import type { Db, Row } from '../shared/types';
import type { RedisConnection } from '../shared/resp';
import { STREAM_MAXLEN, commandFields, commandStream, sessionKey } from './contract';

/**
 * GET the session key; when a gateway holds it, XADD the command to that instance's stream.
 * KEYS[1] the session key; ARGV[1] the stream prefix, ARGV[2] MAXLEN, ARGV[3…] the fields.
 * Returns [instance, stream id], or false (nil) when no gateway holds a session.
 */
const ROUTE_SCRIPT = `local instance = redis.call('GET', KEYS[1])
if not instance or instance == '' then return false end
local id = redis.call('XADD', ARGV[1] .. instance, 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
return {instance, id}`;

/** The stream prefix the script puts before the instance id (commandStream('') of the contract). */
const STREAM_PREFIX = commandStream('');

/** How a command's failure_reason starts while it waits because Redis was unreachable. */
export const REDIS_WAS_DOWN = 'not delivered yet';

export interface DeliveryReport {
	sent: number;
	failed: number;
	queued: number;
	error: string | null;
}

const OPEN = `SELECT c.id, c.kind, c.parameters, c.queued_at, c.failure_reason, d.imei, k.timeout_seconds
                FROM commands c JOIN devices d ON d.id = c.device_id JOIN command_kinds k ON k.code = c.kind`;

/** Deliver these queued commands (or, without ids, the oldest queued ones): how many went where. */
export async function deliver(db: Db, redis: RedisConnection | null, ids: readonly string[] | null = null, limit = 200): Promise<DeliveryReport> {
	const report: DeliveryReport = { sent: 0, failed: 0, queued: 0, error: redis ? null : 'REDIS is not configured' };
	await db.transaction(async (trx) => {
		const where = ids ? 'c.id = ANY(?::uuid[]) AND ' : '';
		const rows = (
			await trx.raw(`${OPEN} WHERE ${where}c.status = 'queued' ORDER BY c.queued_at, c.id LIMIT ? FOR UPDATE OF c SKIP LOCKED`, [
				...(ids ? [ids as string[]] : []),
				limit,
			])
		).rows as Row[];
		for (const row of rows) {
			if (report.error !== null) {
				report.queued += 1;
				await trx('commands').where({ id: row['id'] }).update({ attempts: trx.raw('attempts + 1'), failure_reason: `${REDIS_WAS_DOWN}: ${report.error}` });
				continue;
			}
			try {
				const queuedAt = new Date(row['queued_at'] as string);
				const fields = commandFields({
					id: String(row['id']),
					imei: String(row['imei']),
					kind: String(row['kind']),
					parameters: row['parameters'] ?? {},
					queued_at: queuedAt,
					timeout_at: new Date(queuedAt.getTime() + Number(row['timeout_seconds']) * 1000),
				});
				const routed = await redis!.call(['EVAL', ROUTE_SCRIPT, '1', sessionKey(String(row['imei'])), STREAM_PREFIX, STREAM_MAXLEN, ...fields]);
				const instance = Array.isArray(routed) ? String(routed[0]) : null;
				const streamId = Array.isArray(routed) ? String(routed[1]) : null;
				if (instance === null && String(row['failure_reason'] ?? '').startsWith(REDIS_WAS_DOWN)) {
					// Redis was unreachable: a Redis that restarted empty has lost the sessions until the gateways
					// register them again (within seconds). Wait for one until the kind's timeout (timeouts.ts).
					report.queued += 1;
					await trx('commands').where({ id: row['id'] }).update({ attempts: trx.raw('attempts + 1'), failure_reason: `${REDIS_WAS_DOWN}: no gateway session yet` });
					continue;
				}
				if (instance === null) {
					await trx('commands')
						.where({ id: row['id'] })
						.update({
							status: 'failed',
							failed_at: trx.fn.now(),
							attempts: trx.raw('attempts + 1'),
							failure_reason: `no gateway holds a session of device ${String(row['imei'])}: it is not connected`,
						});
					report.failed += 1;
					continue;
				}
				// A reply may already have come back (the gateway is fast): keep its status, add what is ours.
				await trx.raw(
					`UPDATE commands SET status = CASE WHEN status = 'queued' THEN 'sent' ELSE status END,
					        sent_at = coalesce(sent_at, clock_timestamp()), gateway_instance = coalesce(gateway_instance, ?),
					        stream_id = ?, attempts = attempts + 1, failure_reason = NULL
					  WHERE id = ?`,
					[String(instance), String(streamId), row['id']],
				);
				report.sent += 1;
			} catch (e) {
				report.error = e instanceof Error ? e.message : String(e);
				report.queued += 1;
				await trx('commands').where({ id: row['id'] }).update({ attempts: trx.raw('attempts + 1'), failure_reason: `${REDIS_WAS_DOWN}: ${report.error}` });
			}
		}
	});
	return report;
}
