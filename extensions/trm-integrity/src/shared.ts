/** What the rule modules share: the 400 error and the row/database types. */
import { createError } from '@directus/errors';

export type Row = Record<string, unknown>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Knex's query builder, as Directus hands it to hooks
export type Db = (table: string) => any;

export const InvalidPayload = createError<{ reason: string }>(
	'INVALID_PAYLOAD',
	({ reason }) => `Invalid payload. ${reason}.`,
	400,
);
