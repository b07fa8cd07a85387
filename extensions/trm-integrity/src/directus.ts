/**
 * Directus's own permission checks, as its ItemsService runs them: validateAccess (may this caller
 * act on these items / this collection, with these fields) and processPayload (field permissions,
 * presets and validation rules), plus sanitizeQuery for a query from a request body.
 *
 * Why internals: Directus 11.17.4 emits `items.update` / `items.delete` filters *before* it checks
 * the caller (lessons.md "Directus behaviours that matter for permissions"), and the extension SDK
 * offers no permission check, so the guard (guard.ts) must ask Directus's own modules first. They
 * are loaded from the Directus installation that runs this extension (resolved from the process's
 * entry script, else its working directory): the same module instances, caches included, as
 * Directus's own calls. The version is pinned (image/Dockerfile); if a Directus upgrade moves these
 * modules, loading fails and every non-admin write is refused (fail closed) with the reason logged.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Db, Row } from './shared';

export type Accountability = { user?: string | null; role?: string | null; admin?: boolean; app?: boolean } & Row;
export type Schema = { collections: Record<string, { primary: string; fields: Record<string, { field: string; alias?: boolean }> }> };
type Context = { knex: Db; schema: Schema };

export interface PermissionChecks {
	validateAccess(
		options: { accountability: Accountability; action: string; collection: string; primaryKeys?: unknown[]; fields?: string[] },
		context: Context,
	): Promise<void>;
	processPayload(
		options: { accountability: Accountability; action: string; collection: string; payload: Row; nested: string[] },
		context: Context,
	): Promise<Row>;
	sanitizeQuery(query: unknown, schema: Schema, accountability: Accountability | null): Promise<Row>;
}

const MODULES = {
	validateAccess: 'permissions/modules/validate-access/validate-access',
	processPayload: 'permissions/modules/process-payload/process-payload',
	sanitizeQuery: 'utils/sanitize-query',
} as const;

/** Where to resolve `@directus/api` from: the entry script (`cli.js` or the API's `run.js`), then the working directory. */
function bases(): string[] {
	const script = process.argv[1];
	return [...(script ? [path.resolve(script)] : []), path.join(process.cwd(), 'package.json')];
}

async function load(): Promise<PermissionChecks> {
	const errors: string[] = [];
	for (const base of bases()) {
		try {
			const require = createRequire(base);
			const found: Record<string, unknown> = {};
			for (const [name, module] of Object.entries(MODULES)) {
				const file = require.resolve(`@directus/api/${module}`);
				const exported = ((await import(pathToFileURL(file).href)) as Record<string, unknown>)[name];
				if (typeof exported !== 'function') throw new Error(`${file} exports no function ${name}`);
				found[name] = exported;
			}
			return found as unknown as PermissionChecks;
		} catch (e) {
			errors.push(`from ${base}: ${e instanceof Error ? e.message : String(e)}`);
		}
	}
	throw new Error(`Directus's permission modules were not found (${errors.join('; ')})`);
}

let loading: Promise<PermissionChecks> | null = null;

/** Directus's permission checks (loaded once; a failure is kept, so every call refuses alike). */
export function permissionChecks(): Promise<PermissionChecks> {
	loading ??= load();
	return loading;
}
