/** What the rule modules share: the 400 error and the row/database types. */
import { createError } from '@directus/errors';
import type { Knex } from 'knex';

export type Row = Record<string, unknown>;
/** What raw() gives on PostgreSQL: pg's result, its rows and how many rows a write changed. */
type PgRaw = { raw(sql: string, bindings?: readonly unknown[]): PromiseLike<{ rows: Row[]; rowCount: number | null }> };
/** The database (or the write's transaction) as Directus hands it to hooks: Knex on PostgreSQL. */
export type Db = PgRaw & Knex;

export const InvalidPayload = createError<{ reason: string }>(
	'INVALID_PAYLOAD',
	({ reason }) => `Invalid payload. ${reason}.`,
	400,
);
