/**
 * PATCH and DELETE by query reach only what the caller may read (issue 21).
 *
 * Directus 11.17.4 resolves the keys of `PATCH /items/:collection {"query": …, "data": …}` and of
 * `DELETE /items/:collection {"query": …}` without the caller's permissions (ItemsService
 * getKeysByQuery), then refuses the whole request when one key is not theirs. So an outsider's query
 * answered 403 when it matched another organisation's rows and 200 with nothing when it matched
 * none: a way to learn what exists. This middleware (before Directus's routes) resolves such a query
 * with the caller's own read permissions and hands Directus the keys instead; no key: the answer
 * Directus gives a query that matches nothing (PATCH 200 with no data, DELETE 204). Administrators'
 * requests pass unchanged.
 */
import { permissionChecks, type Accountability, type Schema } from './directus';
import type { Db, Row } from './shared';

type Req = {
	method: string;
	params: Record<string, string>;
	body: unknown;
	accountability?: Accountability | null;
	schema?: Schema;
};
type Res = { status(code: number): Res; json(body: unknown): void; end(): void };
type Next = (err?: unknown) => void;
type Reader = new (
	collection: string,
	options: { knex: Db; accountability: Accountability; schema: Schema },
) => { readByQuery(query: Row): Promise<Row[]> };

export function byQueryMiddleware(database: Db, ItemsService: Reader) {
	return (req: Req, res: Res, next: Next): void => {
		const body = req.body as Row | null;
		const who = req.accountability;
		const schema = req.schema;
		const collection = req.params['collection'] ?? '';
		const byQuery = !!body && typeof body === 'object' && !Array.isArray(body) && !('keys' in body) && 'query' in body;
		if (!byQuery || !who || who.admin === true || !schema?.collections[collection] || collection.startsWith('directus_')) {
			next();
			return;
		}
		(async () => {
			const checks = await permissionChecks();
			const query = await checks.sanitizeQuery(body['query'], schema, who);
			const pk = schema.collections[collection]!.primary;
			const rows = await new ItemsService(collection, { knex: database, accountability: who, schema }).readByQuery({ ...query, fields: [pk] });
			const keys = rows.map((r) => r[pk]).filter((k) => k !== null && k !== undefined);
			if (keys.length === 0) {
				if (req.method === 'PATCH') res.status(200).json({ data: [] });
				else res.status(204).end();
				return;
			}
			req.body = req.method === 'PATCH' ? { keys, data: body['data'] } : { keys };
			next();
		})().catch(next);
	};
}
