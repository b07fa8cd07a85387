/**
 * trm-operations hooks: the discipline rules on entries, entry_crew and events (create and update,
 * batch included: Directus runs these filters once per item), and the schedule that re-sends
 * recompute requests that could not reach Redis.
 */
import { defineHook } from '@directus/extensions-sdk';
import { checkCrew, checkEntry, checkEventDiscipline } from './discipline/checks';
import { flushPending } from './faulty/outbox';
import type { Db, Row } from './shared/types';

/** Every 15 s: a pending request reaches the stream at most ~15 s after Redis is back. */
export const RESEND_CRON = '*/15 * * * * *';

type Context = { database?: unknown };

export default defineHook(({ filter, schedule }, { database, env, logger }) => {
	const dbOf = (context: unknown): Db => ((context as Context).database ?? database) as Db;
	const keysOf = (meta: unknown): string[] => ((meta as { keys?: unknown[] }).keys ?? []).map(String);

	async function current(db: Db, table: string, id: string): Promise<Row> {
		return ((await db(table).where({ id }).first()) as Row | undefined) ?? {};
	}

	filter('entries.items.create', async (payload, _meta, context) => {
		await checkEntry(dbOf(context), payload as Row, null);
		return payload;
	});
	filter('entries.items.update', async (payload, meta, context) => {
		const p = payload as Row;
		if (!('event_id' in p) && !('vehicle_id' in p)) return payload;
		const db = dbOf(context);
		for (const id of keysOf(meta)) await checkEntry(db, { ...(await current(db, 'entries', id)), ...p }, id);
		return payload;
	});
	filter('entry_crew.items.create', async (payload, _meta, context) => {
		await checkCrew(dbOf(context), payload as Row, null);
		return payload;
	});
	filter('entry_crew.items.update', async (payload, meta, context) => {
		const p = payload as Row;
		if (!('role' in p) && !('entry_id' in p)) return payload;
		const db = dbOf(context);
		for (const id of keysOf(meta)) await checkCrew(db, { ...(await current(db, 'entry_crew', id)), ...p }, id);
		return payload;
	});
	filter('events.items.update', async (payload, meta, context) => {
		const p = payload as Row;
		if (!('discipline' in p)) return payload;
		const db = dbOf(context);
		for (const id of keysOf(meta)) await checkEventDiscipline(db, id, p['discipline']);
		return payload;
	});

	const redisUrl = typeof env['REDIS'] === 'string' ? env['REDIS'] : '';
	schedule(RESEND_CRON, async () => {
		try {
			const r = await flushPending(database as unknown as Db, redisUrl);
			if (r.sent.size > 0) logger.info(`recompute:requests: re-sent ${r.sent.size} pending request(s), ${r.pending} still pending`);
			else if (r.pending > 0) logger.warn(`recompute:requests: ${r.pending} request(s) pending: ${r.error ?? 'unknown error'}`);
		} catch (e) {
			logger.error(`recompute:requests: resend failed: ${e instanceof Error ? e.message : String(e)}`);
		}
	});
});
