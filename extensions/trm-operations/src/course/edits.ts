/**
 * Course edits ask for a recompute: after Directus has committed an update of a waypoint, geofence or
 * speed zone that changes a field deciding crossings (contract.ts DECIDING), one course-edit request
 * per (object, stage that has run) goes into the recompute outbox and is flushed to the stream.
 *
 * An action, not a filter (design rule 10): Directus runs update filters before it checks the caller,
 * so a request recorded there would be sent for a refused update; an action runs after the commit.
 * Skipped: stages still draft (nothing ran) or official (final), geofences and speed zones not
 * marked retroactive (objects.ts noRecompute). A crash between the commit and this action loses the
 * request (the edit is saved): the preview's `on_save` says what to expect, and PATCHing the field
 * again (or a faulty flag of the window) asks again.
 */
import { flushPending } from '../faulty/outbox';
import type { Db, Row } from '../shared/types';
import { DECIDING } from './contract';
import { noRecompute, readObject } from './objects';
import { toCourseEdit, type CourseEditRequest } from './request';

/** Record the requests of an update of `keys` in `collection` with `payload`, in one transaction. */
export async function recordCourseEdits(db: Db, collection: string, keys: readonly string[], payload: Row, user: string | null): Promise<CourseEditRequest[]> {
	const changed = (DECIDING[collection] ?? []).filter((f) => f in payload);
	if (changed.length === 0) return [];
	return db.transaction(async (trx) => {
		const recorded: CourseEditRequest[] = [];
		for (const key of keys) {
			const object = await readObject(trx, collection, key);
			if (!object) continue;
			for (const stage of object.stages) {
				if (noRecompute(object, stage) !== null) continue;
				const [row] = (await trx('recompute_requests')
					.insert({
						kind: 'course-edit',
						stage_id: stage.id,
						object_collection: collection,
						object_id: key,
						changed_fields: changed,
						reason: `${object.label} of ${stage.name}: ${changed.join(', ')} changed`,
						requested_by: user,
					})
					.returning('*')) as Row[];
				recorded.push(toCourseEdit(row as Row));
			}
		}
		return recorded;
	});
}

type Logger = { info(msg: string): void; error(msg: string): void };

/** The action handler for `<collection>.items.update`. */
export function courseEditAction(database: Db, redisUrl: string, logger: Logger) {
	return async (meta: unknown, context: unknown): Promise<void> => {
		const m = meta as { collection?: string; keys?: unknown[]; payload?: Row };
		const user = ((context as { accountability?: { user?: unknown } } | undefined)?.accountability?.user ?? null) as string | null;
		try {
			const recorded = await recordCourseEdits(database, m.collection ?? '', (m.keys ?? []).map(String), m.payload ?? {}, user);
			if (recorded.length === 0) return;
			const flush = await flushPending(database, redisUrl);
			logger.info(`recompute:requests: ${recorded.length} course-edit request(s) (${recorded.map((r) => r.reason).join('; ')}), ${flush.sent.size} sent, ${flush.pending} pending`);
		} catch (e) {
			logger.error(`course-edit recompute request failed for ${m.collection} ${String(m.keys)}: ${e instanceof Error ? e.message : String(e)}`);
		}
	};
}
