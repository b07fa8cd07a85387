/**
 * trm-operations hooks: the discipline rules on entries, entry_crew and events (create and update,
 * batch included: Directus runs these filters once per item), the schedule that re-sends
 * recompute requests that could not reach Redis, stage opening (stages.status -> open materialises the
 * start list before the status is written, so a refusal writes nothing), control closing times
 * (segments.controls_close_at, recomputed after starts or a segment's maximum time change) and
 * course-edit recompute requests (course/edits.ts, after a waypoint, geofence or speed zone is saved).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { hostname } from 'node:os';
import { defineHook } from '@directus/extensions-sdk';
import { checkKindSchema, checkNewCommand } from './commands/checks';
import { startReplyConsumer } from './commands/replies';
import { deliver } from './commands/route';
import { RedisConnection } from './shared/resp';
import { expire } from './commands/timeouts';
import { DECIDING } from './course/contract';
import { courseEditAction } from './course/edits';
import { checkCrew, checkEntry, checkEventDiscipline } from './discipline/checks';
import { confirmSent } from './faulty/confirm';
import { flushPending, TABLE as OUTBOX } from './faulty/outbox';
import { STREAM } from './faulty/request';
import type { Db, Row } from './shared/types';
import { durationMs, trimPartLog } from './timeline/retention';
import { recomputeClosing, segmentsOfStarts } from './stages/closing';
import { checkOpenable, openStages } from './stages/open';

/** Every 15 s: a pending request reaches the stream at most ~15 s after Redis is back. */
export const RESEND_CRON = '*/15 * * * * *';
/** Every 2 s: queued commands are delivered at most ~2 s after Redis is back; timeouts are 2 s precise. */
export const COMMANDS_CRON = '*/2 * * * * *';
/** When Directus trims activity (its RETENTION_SCHEDULE; its default: daily at midnight). */
export const TRIM_CRON_DEFAULT = '0 0 * * *';

type Context = { database?: unknown; accountability?: unknown; schema?: unknown };
type StagesWriter = new (
	collection: string,
	options: { knex: Db; accountability: unknown; schema: unknown },
) => { updateMany(keys: string[], data: Row, opts: Row): Promise<unknown> };

/** Set while the stage-opening filter runs Directus's own update of the stages inside its transaction. */
const opening = new AsyncLocalStorage<true>();

export default defineHook(({ filter, action, schedule }, { database, env, logger, services, getSchema }) => {
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

	// --- stage opening -------------------------------------------------------------------------
	filter('stages.items.create', async (payload, _meta, context) => {
		const p = payload as Row;
		// A new stage has no segments yet: nothing to materialise, but the input-stage rule holds.
		if (p['status'] === 'open') await checkOpenable(dbOf(context), p);
		return payload;
	});
	// Update filters run on Directus's root connection before it checks the caller (lessons.md). So the
	// opening runs Directus's own update of these stages, for this caller (its permission check,
	// validation, every filter, the write), in the same transaction as the start list: a request that
	// Directus refuses opens nothing, and a refused opening writes nothing. Directus then repeats the
	// (now unchanged) update and records activity and revisions once; the inner run's actions are dropped.
	filter('stages.items.update', async (payload, meta, context) => {
		const p = payload as Row;
		if (p['status'] !== 'open' || opening.getStore()) return payload;
		const c = context as Context;
		const Writer = services.ItemsService as unknown as StagesWriter;
		const schema = c.schema ?? (await getSchema());
		const keys = keysOf(meta);
		const directusUpdate = (trx: Db): Promise<unknown> =>
			new Writer('stages', { knex: trx, accountability: c.accountability ?? null, schema }).updateMany(keys, p, {
				skipTracking: true,
				bypassEmitAction: () => undefined,
			});
		const reports = await opening.run(true, () => openStages(dbOf(context), keys, p, directusUpdate));
		for (const r of reports) {
			logger.info(`stage ${r.stage_id} opened (${r.strategy}): ${r.starts_created} start(s) for ${r.starters} starter(s), ${r.segments_kept} segment(s) kept`);
		}
		return payload;
	});

	// --- control closing times ------------------------------------------------------------------
	// The segments a start row belonged to before an update or delete, handed from the filter to the action.
	const before = new Map<string, string[]>();
	// A write refused after its filter never reaches the action: its entry stays; the cap bounds those leftovers.
	const token = (keys: string[]): string => [...keys].sort().join(',');
	const remember = (keys: string[], segments: string[]): void => {
		if (before.size >= 1000) before.clear();
		before.set(token(keys), segments);
	};
	const recompute = async (segments: string[]): Promise<void> => {
		try {
			await recomputeClosing(database as unknown as Db, segments);
		} catch (e) {
			logger.error(`controls_close_at: recompute failed for ${segments.join(', ')}: ${e instanceof Error ? e.message : String(e)}`);
		}
	};
	filter('entry_segment_starts.items.update', async (payload, meta, context) => {
		if ('segment_id' in (payload as Row)) remember(keysOf(meta), await segmentsOfStarts(dbOf(context), keysOf(meta)));
		return payload;
	});
	filter('entry_segment_starts.items.delete', async (payload, _meta, context) => {
		const keys = (payload as unknown[]).map(String);
		remember(keys, await segmentsOfStarts(dbOf(context), keys));
		return payload;
	});
	action('entry_segment_starts.items.create', async (meta) => {
		const segment = ((meta as { payload?: Row }).payload ?? {})['segment_id'];
		if (typeof segment === 'string') await recompute([segment]);
	});
	action('entry_segment_starts.items.update', async (meta) => {
		const keys = keysOf(meta);
		const old = before.get(token(keys)) ?? [];
		before.delete(token(keys));
		await recompute([...old, ...(await segmentsOfStarts(database as unknown as Db, keys))]);
	});
	action('entry_segment_starts.items.delete', async (meta) => {
		const keys = keysOf(meta);
		const old = before.get(token(keys)) ?? [];
		before.delete(token(keys));
		await recompute(old);
	});
	action('segments.items.update', async (meta) => {
		if ('max_duration_seconds' in ((meta as { payload?: Row }).payload ?? {})) await recompute(keysOf(meta));
	});

	const redisUrl = typeof env['REDIS'] === 'string' ? env['REDIS'] : '';

	// --- device commands (commands/*: the contract with the gateways is in extensions/README.md) ----
	filter('commands.items.create', async (payload, _meta, context) => {
		await checkNewCommand(dbOf(context), payload as Row);
		return payload;
	});
	for (const event of ['create', 'update']) {
		filter(`command_kinds.items.${event}`, async (payload) => {
			checkKindSchema(payload as Row);
			return payload;
		});
	}
	// One long-lived connection for deliveries (a GET and an XADD per command).
	const commandsRedis = redisUrl ? new RedisConnection(redisUrl) : null;
	const deliverCommands = async (ids: string[] | null): Promise<void> => {
		try {
			const r = await deliver(database as unknown as Db, commandsRedis, ids);
			if (r.queued > 0) logger.warn(`commands: ${r.queued} still queued: ${r.error ?? 'unknown error'}`);
		} catch (e) {
			logger.error(`commands: delivery failed: ${e instanceof Error ? e.message : String(e)}`);
		}
	};
	// After the create's commit (an action: nothing is sent for a create Directus refuses).
	const inFlight = new Map<string, Promise<void>>();
	action('commands.items.create', async (meta) => {
		const key = (meta as { key?: unknown }).key;
		if (typeof key !== 'string') return;
		const delivery = deliverCommands([key]).finally(() => inFlight.delete(key));
		inFlight.set(key, delivery);
		await delivery;
	});
	// A read that names a command this process is delivering waits for that delivery (a few ms; at most
	// the Redis timeout): the create's own response then shows `sent` (or already `acked`), or `failed`
	// with the reason, or `queued` with why, instead of a `queued` that is stale by the time it arrives.
	filter('commands.items.query', async (query) => {
		if (inFlight.size === 0) return query;
		const text = JSON.stringify(query ?? {});
		const waits = [...inFlight].filter(([id]) => text.includes(id)).map(([, delivery]) => delivery);
		if (waits.length > 0) await Promise.all(waits);
		return query;
	});
	schedule(COMMANDS_CRON, async () => {
		await deliverCommands(null);
		try {
			const r = await expire(database as unknown as Db);
			if (r.timed_out + r.failed > 0) logger.info(`commands: ${r.timed_out} timed out, ${r.failed} never delivered`);
		} catch (e) {
			logger.error(`commands: timeouts failed: ${e instanceof Error ? e.message : String(e)}`);
		}
	});
	let consumer: { stop: () => void } | null = null;
	action('server.start', () => {
		if (redisUrl && !consumer) consumer = startReplyConsumer(database as unknown as Db, redisUrl, `${hostname()}:${process.pid}`, logger);
	});
	action('server.stop', () => {
		consumer?.stop();
		commandsRedis?.close();
	});

	// --- course edits: a saved change of what decides crossings asks for a recompute (after the commit) ---
	const courseEdit = courseEditAction(database as unknown as Db, redisUrl, logger);
	for (const collection of Object.keys(DECIDING)) action(`${collection}.items.update`, courseEdit);

	// --- the timeline's part log follows Directus's activity retention ---
	const keep = durationMs(env['ACTIVITY_RETENTION']);
	if (String(env['RETENTION_ENABLED']) === 'true') {
		if (keep === null) logger.warn(`trm_audit.entry_rows is not trimmed: ACTIVITY_RETENTION ${String(env['ACTIVITY_RETENTION'])} is not a duration`);
		else {
			schedule(String(env['RETENTION_SCHEDULE'] || TRIM_CRON_DEFAULT), async () => {
				try {
					const n = await trimPartLog(database as unknown as Db, keep);
					if (n > 0) logger.info(`trm_audit.entry_rows: ${n} row(s) older than ${String(env['ACTIVITY_RETENTION'])} deleted`);
				} catch (e) {
					logger.error(`trm_audit.entry_rows: trim failed: ${e instanceof Error ? e.message : String(e)}`);
				}
			});
		}
	}

	schedule(RESEND_CRON, async () => {
		try {
			// Requests Redis lost since they were sent go back to pending first, so this flush re-sends them.
			const c = await confirmSent(database as unknown as Db, redisUrl, OUTBOX, STREAM);
			if (c.lost.length > 0) logger.warn(`recompute:requests: ${c.lost.length} sent request(s) missing from the stream, re-sending`);
			const r = await flushPending(database as unknown as Db, redisUrl);
			if (r.sent.size > 0) logger.info(`recompute:requests: re-sent ${r.sent.size} pending request(s), ${r.pending} still pending`);
			else if (r.pending > 0) logger.warn(`recompute:requests: ${r.pending} request(s) pending: ${r.error ?? 'unknown error'}`);
		} catch (e) {
			logger.error(`recompute:requests: resend failed: ${e instanceof Error ? e.message : String(e)}`);
		}
	});
});
