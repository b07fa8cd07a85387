/**
 * The guard: Directus's own refusal, asked for first (issue 21, design rule 10).
 *
 * Directus 11.17.4 runs `items.update` / `items.delete` filters before it checks the caller, on its
 * root connection, and `items.create` filters before it checks the payload (lessons.md). Our other
 * filters validate rows and name what they find (stages, entries, references) or, for stage
 * opening, write: none of that may happen for a request Directus will refuse. So the guard is
 * registered on `items.*`, which Directus emits before `<collection>.items.*` (emitter.emitFilter
 * walks the event list in order), and for a non-admin caller (anonymous included) it runs the check
 * Directus runs after the filters, with the same modules (directus.ts):
 * - create: processPayload (the collection and field permissions, presets, validation rules);
 * - update: validateAccess on the keys and fields, then processPayload;
 * - delete: validateAccess on the keys.
 * A refusal is Directus's own error, the same whether the items exist or not. Then (after the org
 * role check of access.ts, also a permission), for every caller, payload keys that are not fields of
 * the collection are refused (refuseUnknownKeys: Directus would drop them silently, and a hook could
 * read them: the second reproduction of issue 21).
 */
import { permissionChecks, type Accountability, type Schema } from './directus';
import { InvalidPayload, type Db, type Row } from './shared';

export interface GuardContext {
	database: Db;
	schema: Schema;
	accountability: Accountability | null | undefined;
}

const checked = (who: Accountability | null | undefined): who is Accountability => !!who && who.admin !== true;

/** Payload keys that are not fields (aliases included) of the collection. */
export function unknownKeys(schema: Schema, collection: string, payload: Row): string[] {
	const fields = schema.collections[collection]?.fields ?? {};
	return Object.keys(payload).filter((k) => !(k in fields));
}

export function refuseUnknownKeys(schema: Schema, collection: string, payload: Row): void {
	const unknown = unknownKeys(schema, collection, payload);
	if (unknown.length === 0) return;
	const names = unknown.map((k) => `"${k}"`).join(', ');
	throw new InvalidPayload({
		reason: `${collection} has no field ${names}: remove ${unknown.length === 1 ? 'it' : 'them'} (a key that is not a field is refused, not dropped)`,
	});
}

function known(schema: Schema, collection: string, payload: Row): Row {
	const fields = schema.collections[collection]?.fields ?? {};
	return Object.fromEntries(Object.entries(payload).filter(([k]) => k in fields));
}

export async function guardCreate(ctx: GuardContext, collection: string, payload: Row): Promise<void> {
	const { database: knex, schema, accountability } = ctx;
	if (checked(accountability)) {
		const checks = await permissionChecks();
		await checks.processPayload(
			{ accountability, action: 'create', collection, payload: known(schema, collection, payload), nested: [] },
			{ knex, schema },
		);
	}
}

export async function guardUpdate(ctx: GuardContext, collection: string, keys: unknown[], payload: Row): Promise<void> {
	const { database: knex, schema, accountability } = ctx;
	if (checked(accountability)) {
		const checks = await permissionChecks();
		const fields = Object.keys(known(schema, collection, payload));
		await checks.validateAccess({ accountability, action: 'update', collection, primaryKeys: keys, fields }, { knex, schema });
		await checks.processPayload(
			{ accountability, action: 'update', collection, payload: known(schema, collection, payload), nested: [] },
			{ knex, schema },
		);
	}
}

export async function guardDelete(ctx: GuardContext, collection: string, keys: unknown[]): Promise<void> {
	const { database: knex, schema, accountability } = ctx;
	if (!checked(accountability)) return;
	const checks = await permissionChecks();
	await checks.validateAccess({ accountability, action: 'delete', collection, primaryKeys: keys }, { knex, schema });
}
