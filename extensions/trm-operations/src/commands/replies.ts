/**
 * The gateways' replies (issue 28): one stream, `commands:replies`, read through the consumer group
 * `trm-directus`, so that with several Directus instances every reply is handled by exactly one of
 * them. A reply moves its command from queued/sent to acked or nacked (with the device's answer);
 * a reply to a command that is already final (timed out, or a duplicate) only fills in the answer if
 * there was none. The entry is acknowledged (XACK) after the row is written: a crash in between
 * leaves it pending, and another consumer claims it after CLAIM_IDLE_MS (XAUTOCLAIM, tried every
 * CLAIM_EVERY_MS).
 */
import type { Db } from '../shared/types';
import { RedisConnection, type Reply as Resp } from '../shared/resp';
import { REPLIES_GROUP, REPLIES_STREAM, parseReplyFields, type Reply } from './contract';

const BLOCK_MS = 2000;
const CLAIM_IDLE_MS = 30000;
/** How often a consumer looks for replies another consumer left pending (not before every read: it is on the replies' path). */
const CLAIM_EVERY_MS = 5000;
const BATCH = 200;

export interface Logger {
	info(msg: string): void;
	warn(msg: string): void;
	error(msg: string): void;
}

/** Apply one reply: 'applied' when it decided the command's status, 'late' when the command was final already, 'unknown'. */
export async function applyReply(db: Db, r: Reply): Promise<'applied' | 'late' | 'unknown'> {
	const status = r.status === 'ack' ? 'acked' : 'nacked';
	// The transition's time is when the reply was applied (what an operator sees), not the gateway's clock.
	const decided = await db.raw(
		`UPDATE commands SET status = ?, ${status}_at = clock_timestamp(), answer = ?,
		        gateway_instance = coalesce(nullif(?, ''), gateway_instance), sent_at = coalesce(sent_at, queued_at), failure_reason = NULL
		  WHERE id = ? AND status IN ('queued', 'sent')`,
		[status, r.answer, r.instance, r.command_id],
	);
	if (Number(decided.rowCount ?? 0) > 0) return 'applied';
	const late = await db.raw(`UPDATE commands SET answer = coalesce(answer, ?) WHERE id = ?`, [r.answer, r.command_id]);
	return Number(late.rowCount ?? 0) > 0 ? 'late' : 'unknown';
}

type Entry = [string, string[]];

function entries(reply: Resp): Entry[] {
	// XREADGROUP: [[stream, [[id, [k, v, …]], …]]]; XAUTOCLAIM: [next, [[id, [k, v, …]], …], deleted]
	if (!Array.isArray(reply)) return [];
	const list = Array.isArray(reply[0]) ? (reply[0] as Resp[])[1] : reply[1];
	return (Array.isArray(list) ? list : []).filter((e): e is [string, string[]] => Array.isArray(e) && Array.isArray(e[1])) as Entry[];
}

/** Read and apply replies until stopped: the loop each Directus instance runs (consumer = this process). */
export function startReplyConsumer(db: Db, redisUrl: string, consumer: string, logger: Logger): { stop: () => void; done: Promise<void> } {
	let running = true;
	// Its own connection: a blocking read holds it (the loop is sequential, so XACK never waits behind one).
	const redis = new RedisConnection(redisUrl, BLOCK_MS + 3000);
	const handle = async (batch: Entry[]): Promise<void> => {
		for (const [id, fields] of batch) {
			const reply = parseReplyFields(fields);
			if (typeof reply === 'string') logger.warn(`${REPLIES_STREAM} ${id}: ignored: ${reply}`);
			else {
				const outcome = await applyReply(db, reply);
				logger.info(`command ${reply.command_id}: reply ${reply.status} from ${reply.instance || '?'} ${outcome} by ${consumer}`);
			}
			await redis.call(['XACK', REPLIES_STREAM, REPLIES_GROUP, id]);
		}
	};
	const loop = async (): Promise<void> => {
		let grouped = false;
		let claimedAt = 0;
		while (running) {
			try {
				if (!grouped) {
					// From the stream's start: replies written while no Directus ran are not lost.
					await redis.call(['XGROUP', 'CREATE', REPLIES_STREAM, REPLIES_GROUP, '0', 'MKSTREAM']).catch((e: Error) => {
						if (!e.message.includes('BUSYGROUP')) throw e;
					});
					grouped = true;
				}
				if (Date.now() - claimedAt >= CLAIM_EVERY_MS) {
					claimedAt = Date.now();
					await handle(entries(await redis.call(['XAUTOCLAIM', REPLIES_STREAM, REPLIES_GROUP, consumer, String(CLAIM_IDLE_MS), '0-0', 'COUNT', String(BATCH)])));
				}
				const read = await redis.call(['XREADGROUP', 'GROUP', REPLIES_GROUP, consumer, 'COUNT', String(BATCH), 'BLOCK', String(BLOCK_MS), 'STREAMS', REPLIES_STREAM, '>']);
				await handle(entries(read));
			} catch (e) {
				const message = e instanceof Error ? e.message : String(e);
				if (message.includes('NOGROUP')) grouped = false; // the stream was deleted (Redis restarted without data)
				logger.warn(`${REPLIES_STREAM}: ${message}; retrying in 1 s`);
				await new Promise((resolve) => setTimeout(resolve, 1000));
			}
		}
	};
	const done = loop().finally(() => redis.close());
	return { stop: () => (running = false), done };
}
