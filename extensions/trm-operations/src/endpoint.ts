/**
 * The `trm` endpoint: operator actions that are not item CRUD.
 *   POST /trm/positions/faulty          flag/clear faulty positions, then XADD recompute:requests
 *   POST /trm/positions/faulty/resend   deliver pending recompute requests now (admins)
 *   POST /trm/entries/:id/copy-crew     copy crew + devices from a previous entry of the same person
 *   GET  /trm/entries/:id/timeline      the entry's history (timeline/endpoint.ts)
 *   POST /trm/course/preview            what a course edit would change in crossings and penalties (course/preview.ts)
 * Every route needs an authenticated user; the access rules are in faulty/access.ts, crew/endpoint.ts,
 * timeline/endpoint.ts and (Directus's own update check) course/preview.ts.
 */
import { defineEndpoint } from '@directus/extensions-sdk';
import type { NextFunction, Request, Response } from 'express';
import { previewCourseEdit } from './course/preview';
import { copyCrew } from './crew/endpoint';
import { flagFaulty } from './faulty/endpoint';
import { flushPending } from './faulty/outbox';
import { Forbidden } from './shared/errors';
import { callerOf, type Caller, type Db, type Row } from './shared/types';
import { entryTimeline } from './timeline/endpoint';

type Handler = (req: Request, caller: Caller) => Promise<unknown>;

function route(handler: Handler) {
	return (req: Request, res: Response, next: NextFunction): void => {
		const caller = callerOf((req as Request & { accountability?: unknown }).accountability);
		if (!caller) {
			next(new Forbidden({ reason: 'sign in first: this endpoint needs an authenticated user' }));
			return;
		}
		handler(req, caller).then((data) => res.json({ data }), next);
	};
}

interface ItemsServiceLike {
	createMany(rows: Row[]): Promise<unknown>;
	readByQuery(query: Row): Promise<Row[]>;
	updateOne(key: string, data: Row, opts: Row): Promise<unknown>;
}
type ItemsServiceCtor = new (collection: string, options: { knex: Db; accountability: unknown; schema: unknown }) => ItemsServiceLike;

export default defineEndpoint({
	id: 'trm',
	handler: (router, { database, env, services, getSchema }) => {
		const db = database as unknown as Db;
		const redisUrl = typeof env['REDIS'] === 'string' ? env['REDIS'] : '';
		const ItemsService = (services as { ItemsService: ItemsServiceCtor }).ItemsService;

		router.post('/positions/faulty', route((req, caller) => flagFaulty(db, redisUrl, caller, req.body)));

		router.post(
			'/positions/faulty/resend',
			route(async (_req, caller) => {
				if (!caller.admin) throw new Forbidden({ reason: 'only administrators may trigger a resend' });
				const r = await flushPending(db, redisUrl);
				return { sent: r.sent.size, pending: r.pending, error: r.error };
			}),
		);

		// Reads and writes as the caller (issue 21): Directus's ItemsService with the request's accountability.
		const asCaller = async (req: Request) => {
			const schema = (await getSchema()) as { collections: Record<string, unknown> };
			const accountability = (req as Request & { accountability?: unknown }).accountability;
			const service = (collection: string, knex: Db) => new ItemsService(collection, { knex, accountability, schema });
			return { schema, service, read: (collection: string, query: Row) => service(collection, db).readByQuery(query) };
		};

		router.get(
			'/entries/:id/timeline',
			route(async (req, caller) => {
				const { schema, read } = await asCaller(req);
				return entryTimeline({ db, caller, read, has: (c) => c in schema.collections }, String(req.params['id']), req.query as Row);
			}),
		);

		router.post(
			'/course/preview',
			route(async (req) => {
				const { service, read } = await asCaller(req);
				return previewCourseEdit({ db, updater: service, read }, req.body);
			}),
		);

		router.post(
			'/entries/:id/copy-crew',
			route(async (req, caller) => {
				// In the copy's transaction, as the caller: reads see what they may see; writes get
				// permissions, the hooks, activity and revisions as any other write.
				const { service } = await asCaller(req);
				return copyCrew(
					db,
					caller,
					String(req.params['id']),
					req.body,
					(collection, query, trx) => service(collection, trx).readByQuery(query),
					async (collection, rows, trx) => {
						await service(collection, trx).createMany(rows);
					},
				);
			}),
		);
	},
});
