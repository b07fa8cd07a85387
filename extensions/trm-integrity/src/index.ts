/**
 * trm-integrity: cross-field rules that Directus field validation cannot express and that must
 * answer with a client error (400 INVALID_PAYLOAD) rather than a database error (500).
 *
 * - events: ends_at must be after starts_at (also a CHECK constraint in db-init/post/101).
 * - entries: the class must belong to the entry's event (also a composite foreign key in 101).
 * - the course collections: geometry validity, radii, same-event and same-segment rules (course.ts).
 * - the timing collections: formula targets and brackets, same event, penalty review, results that
 *   only publishing makes official, publishing a stage (timing.ts).
 * - any collection: deleting items that rows of another table still reference through a RESTRICT
 *   foreign key is refused with the referencing tables and counts (Directus does not translate
 *   foreign-key errors on delete: without this the API answers 500).
 *
 * - the guard (guard.ts), before every other filter: Directus's own permission check for a non-admin
 *   caller, anonymous included, so that nothing here acts or answers for a request Directus refuses;
 *   payload keys that are not fields are refused. PATCH/DELETE by query reach only the rows the
 *   caller may read (byquery.ts).
 * - access (access.ts): a non-admin user creates rows of an organisation only with an org role there
 *   whose policy may create them (403 otherwise): Directus does not check row filters on create;
 *   vehicles and devices of another organisation are neither registered nor assigned without it.
 *
 * The database constraints stay the guarantee for every writer; this hook gives API users and
 * the admin UI a message that says what is wrong.
 */
import { defineHook } from '@directus/extensions-sdk';
import { checkAssignment, checkCreateRole, type Who } from './access';
import { byQueryMiddleware } from './byquery';
import { permissionChecks, type Accountability as Caller, type Schema } from './directus';
import { guardCreate, guardDelete, guardUpdate, refuseUnknownKeys, type GuardContext } from './guard';
import { reconcile, reconciler } from './links';
import { checkGeofence, checkRadiusDefault, checkSegment, checkSpeedZone, checkStage, checkWaypoint } from './course';
import { InvalidPayload, type Db, type Row } from './shared';
import {
	checkCrossing,
	checkFormula,
	checkPenalty,
	checkResult,
	checkSegmentStart,
	checkStagePublish,
	checkTimingDelete,
	type Accountability,
} from './timing';

export { InvalidPayload };

type Check = (db: Db, payload: Row, keys: unknown[] | null) => Promise<void>;

/** Course rules (course.ts), checked on create (keys null) and on update (the row as it will be). */
const COURSE_RULES: Record<string, Check> = {
	stages: checkStage,
	segments: checkSegment,
	geofences: (db, p) => checkGeofence(db, p),
	waypoints: checkWaypoint,
	speed_limit_zones: checkSpeedZone,
	waypoint_radius_defaults: checkRadiusDefault,
};

type PayloadCheck = (db: Db, payload: Row, keys: unknown[] | null, who: Accountability) => Promise<Row>;

/** Timing rules (timing.ts): they may complete the payload (e.g. reviewed_by = the current user). */
const TIMING_RULES: Record<string, PayloadCheck> = {
	penalty_formulas: checkFormula,
	entry_segment_starts: checkSegmentStart,
	entry_crossings: checkCrossing,
	entry_penalties: checkPenalty,
	stage_results: checkResult,
	stages: checkStagePublish,
};

const time = (value: unknown): number | null => {
	if (value === null || value === undefined || value === '') return null;
	const t = new Date(value as string).getTime();
	return Number.isNaN(t) ? null : t;
};

export function checkEventDates(startsAt: unknown, endsAt: unknown): void {
	const start = time(startsAt);
	const end = time(endsAt);
	if (start !== null && end !== null && end <= start) {
		throw new InvalidPayload({ reason: 'ends_at must be after starts_at' });
	}
}

async function currentRows(db: Db, table: string, keys: unknown[], columns: string[]): Promise<Row[]> {
	return db(table).select('id', ...columns).whereIn('id', keys as string[]);
}

async function checkEntryClass(db: Db, eventId: unknown, classId: unknown): Promise<void> {
	if (!eventId || !classId) return;
	const cls = (await db('classes').select('event_id', 'code').where({ id: classId }).first()) as Row | undefined;
	if (cls && cls['event_id'] !== eventId) {
		throw new InvalidPayload({ reason: `class ${String(cls['code'])} belongs to another event than the entry` });
	}
}

type Reference = { tbl: string; col: string };

async function restrictingReferences(db: Db, table: string): Promise<Reference[]> {
	const result = await db.raw(
		`SELECT c.conrelid::regclass::text AS tbl, a.attname AS col
		   FROM pg_constraint c
		   JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
		  WHERE c.contype = 'f' AND c.confrelid = to_regclass(?) AND c.confdeltype IN ('r', 'a')
		    AND array_length(c.conkey, 1) = 1
		    AND c.conrelid::regclass::text NOT LIKE 'directus\\_%' -- Directus cleans up its own tables
		  ORDER BY 1, 2`,
		[table],
	);
	return result.rows as Reference[];
}

export async function checkDeletable(db: Db, collection: string, keys: unknown[]): Promise<void> {
	if (keys.length === 0) return;
	const blocking: string[] = [];
	for (const ref of await restrictingReferences(db, collection)) {
		const row = (await db(ref.tbl).whereIn(ref.col, keys as string[]).count({ n: '*' }).first()) as { n: string | number };
		const n = Number(row.n);
		if (n > 0) blocking.push(`${ref.tbl}.${ref.col} (${n} row${n === 1 ? '' : 's'})`);
	}
	if (blocking.length > 0) {
		throw new InvalidPayload({
			reason: `${collection} item(s) are still referenced by ${blocking.join(', ')}: delete or reassign those first`,
		});
	}
}

export default defineHook(({ filter, action, init }, { database, services, getSchema, logger }) => {
	type Ctx = { database?: Db; schema?: Schema; accountability?: Caller | null };
	const guardOf = async (context: unknown): Promise<GuardContext> => {
		const c = context as Ctx;
		return { database: c.database ?? database, schema: c.schema ?? ((await getSchema()) as unknown as Schema), accountability: c.accountability };
	};
	permissionChecks().catch((err) => logger.error(`trm-integrity: every non-admin write will be refused: ${String(err)}`));

	// The guard first: Directus emits items.* before <collection>.items.*, so it runs before every other filter.
	filter('items.create', async (payload, meta, context) => {
		const collection = (meta as { collection: string }).collection;
		const g = await guardOf(context);
		await guardCreate(g, collection, payload as Row);
		await checkCreateRole(g.database, collection, payload as Row, g.accountability as Who);
		refuseUnknownKeys(g.schema, collection, payload as Row);
		await checkAssignment(g.database, collection, [payload as Row], g.accountability as Who);
		return payload;
	});
	filter('items.update', async (payload, meta, context) => {
		const { collection, keys } = meta as { collection: string; keys: unknown[] };
		const g = await guardOf(context);
		await guardUpdate(g, collection, keys, payload as Row);
		refuseUnknownKeys(g.schema, collection, payload as Row);
		if (collection === 'entries' && 'vehicle_id' in (payload as Row)) {
			const rows = await currentRows(g.database, 'entries', keys, ['event_id']);
			await checkAssignment(g.database, collection, rows.map((r) => ({ ...r, ...(payload as Row) })), g.accountability as Who);
		} else if (collection === 'entry_devices' && 'device_id' in (payload as Row)) {
			const rows = await currentRows(g.database, 'entry_devices', keys, ['entry_id']);
			await checkAssignment(g.database, collection, rows.map((r) => ({ ...r, ...(payload as Row) })), g.accountability as Who);
		}
		return payload;
	});
	filter('items.delete', async (keys, meta, context) => {
		const collection = (meta as { collection: string }).collection;
		const g = await guardOf(context);
		await guardDelete(g, collection, keys as unknown[]);
		await checkDeletable(g.database, collection, keys as unknown[]);
		await checkTimingDelete(g.database, collection, keys as unknown[]);
		return keys;
	});
	filter('users.delete', async (keys, _meta, context) => {
		const g = await guardOf(context);
		await guardDelete(g, 'directus_users', keys as unknown[]);
		await checkDeletable(g.database, 'directus_users', keys as unknown[]);
		return keys;
	});
	// PATCH/DELETE by query: resolved with the caller's read permissions before Directus's routes.
	init('routes.before', ({ app }) => {
		const rewrite = byQueryMiddleware(database as Db, services.ItemsService as unknown as Parameters<typeof byQueryMiddleware>[1]);
		const router = app as unknown as { patch: (p: string, h: unknown) => void; delete: (p: string, h: unknown) => void };
		router.patch('/items/:collection', rewrite);
		router.delete('/items/:collection', rewrite);
	});

	// Policy links follow accepted memberships in the database (links.ts, db-init/post/107); Directus's
	// permission cache is cleared once a membership write is committed, and everything reconciled at start.
	const clearCaches = async (): Promise<void> => {
		// AccessService.clearCaches (Directus 11): the system and permission caches, as its own writes do
		const options = { knex: database, schema: await getSchema() } as unknown;
		const access = new services.AccessService(options as ConstructorParameters<typeof services.AccessService>[0]);
		await (access as unknown as { clearCaches: () => Promise<void> }).clearCaches();
	};
	const onError = (err: unknown): void => logger.error(`trm-integrity: policy links / permission cache: ${String(err)}`);
	const afterMembershipWrite = reconciler(clearCaches, onError);
	action('server.start', () => {
		reconcile(database as Db)
			.then(async (changed) => {
				await clearCaches();
				if (changed > 0) logger.info(`trm-integrity: ${changed} policy link(s) reconciled with organization_users`);
			})
			.catch(onError);
	});
	for (const event of ['create', 'update', 'delete']) action(`organization_users.items.${event}`, afterMembershipWrite);

	for (const [collection, check] of Object.entries(COURSE_RULES)) {
		filter(`${collection}.items.create`, async (payload, _meta, context) => {
			await check((context as { database?: Db }).database ?? database, payload as Row, null);
			return payload;
		});
		filter(`${collection}.items.update`, async (payload, meta, context) => {
			await check((context as { database?: Db }).database ?? database, payload as Row, (meta as { keys: unknown[] }).keys);
			return payload;
		});
	}

	for (const [collection, check] of Object.entries(TIMING_RULES)) {
		filter(`${collection}.items.create`, async (payload, _meta, context) => {
			const c = context as { database?: Db; accountability?: Accountability };
			return check(c.database ?? database, payload as Row, null, c.accountability);
		});
		filter(`${collection}.items.update`, async (payload, meta, context) => {
			const c = context as { database?: Db; accountability?: Accountability };
			return check(c.database ?? database, payload as Row, (meta as { keys: unknown[] }).keys, c.accountability);
		});
	}

	filter('events.items.create', async (payload) => {
		const p = payload as Row;
		checkEventDates(p['starts_at'], p['ends_at']);
		return payload;
	});

	filter('events.items.update', async (payload, meta, context) => {
		const p = payload as Row;
		if (!('starts_at' in p) && !('ends_at' in p)) return payload;
		const db = ((context as { database?: Db }).database ?? database) as Db;
		for (const row of await currentRows(db, 'events', (meta as { keys: unknown[] }).keys, ['starts_at', 'ends_at'])) {
			checkEventDates('starts_at' in p ? p['starts_at'] : row['starts_at'], 'ends_at' in p ? p['ends_at'] : row['ends_at']);
		}
		return payload;
	});

	filter('entries.items.create', async (payload, _meta, context) => {
		const p = payload as Row;
		await checkEntryClass(((context as { database?: Db }).database ?? database) as Db, p['event_id'], p['class_id']);
		return payload;
	});

	filter('entries.items.update', async (payload, meta, context) => {
		const p = payload as Row;
		if (!('event_id' in p) && !('class_id' in p)) return payload;
		const db = ((context as { database?: Db }).database ?? database) as Db;
		for (const row of await currentRows(db, 'entries', (meta as { keys: unknown[] }).keys, ['event_id', 'class_id'])) {
			await checkEntryClass(db, 'event_id' in p ? p['event_id'] : row['event_id'], 'class_id' in p ? p['class_id'] : row['class_id']);
		}
		return payload;
	});
});
