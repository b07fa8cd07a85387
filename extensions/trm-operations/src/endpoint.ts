/**
 * The `trm` endpoint: operator actions that are not item CRUD.
 *   POST /trm/positions/faulty          flag/clear faulty positions, then XADD recompute:requests
 *   POST /trm/positions/faulty/resend   deliver pending recompute requests now (admins)
 *   POST /trm/entries/:id/copy-crew     copy crew + devices from a previous entry of the same person
 * Every route needs an authenticated user; the access rules are in faulty/access.ts and crew/endpoint.ts.
 */
import { defineEndpoint } from '@directus/extensions-sdk';
import type { NextFunction, Request, Response } from 'express';
import { copyCrew } from './crew/endpoint';
import { flagFaulty } from './faulty/endpoint';
import { flushPending } from './faulty/outbox';
import { Forbidden } from './shared/errors';
import { callerOf, type Caller, type Db, type Row } from './shared/types';

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

		router.post(
			'/entries/:id/copy-crew',
			route(async (req, caller) => {
				const schema = await getSchema();
				const accountability = (req as Request & { accountability?: unknown }).accountability;
				// Through ItemsService in the copy's transaction, as the caller: reads see what they may
				// see; writes get permissions, the hooks, activity and revisions as any other write.
				const as = (collection: string, trx: Db) => new ItemsService(collection, { knex: trx, accountability, schema });
				return copyCrew(
					db,
					caller,
					String(req.params['id']),
					req.body,
					(collection, query, trx) => as(collection, trx).readByQuery(query),
					async (collection, rows, trx) => {
						await as(collection, trx).createMany(rows);
					},
				);
			}),
		);
	},
});
