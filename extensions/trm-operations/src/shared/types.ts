/** Types shared by the operations: rows, Knex as Directus hands it over, the caller's accountability. */
import type { Knex } from 'knex';

export type Row = Record<string, unknown>;
export type Db = Knex;

/** The part of Directus's accountability the operations read. */
export interface Caller {
	user: string | null;
	admin: boolean;
}

export function callerOf(accountability: unknown): Caller | null {
	if (!accountability || typeof accountability !== 'object') return null;
	const a = accountability as { user?: unknown; admin?: unknown };
	if (typeof a.user !== 'string' || a.user === '') return null;
	return { user: a.user, admin: a.admin === true };
}
