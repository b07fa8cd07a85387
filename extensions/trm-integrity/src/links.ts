/**
 * Policy links follow organization_users (issue 11, performance with policies on).
 *
 * Every org-role policy's rows are those of organisations where the user holds *that* role, so a
 * link to a policy whose role the user holds nowhere grants nothing; but Directus still compiles
 * each linked policy's filters into every query of that user (a participant linked to all six org
 * policies read their entry 7× slower than the administrator, with the two they hold 3×). So a
 * user is linked (directus_access with `user` set) to exactly the org-role policies named by the
 * roles they hold in organization_users, and the `Member` role carries only the `member` policy.
 *
 * A membership written through Directus links its (user, role) inside the write's transaction
 * (usable at once); after every membership change, and at server start, one reconcile adds what is
 * missing and removes links no membership names, then clears Directus's permission cache. These
 * links are derived data: snapshots/access.yaml leaves them out (artifacts/access.py, `scope`).
 * An extra link is harmless (the policy's filters still check the role per organisation); a
 * missing one only hides rows until the next reconcile.
 */
import type { Db, Row } from './shared';

/** The org roles of organization_users.role, each the name of a policy (snapshots/access.yaml). */
export const ORG_ROLES = ['org-admin', 'race-director', 'timekeeper', 'marshal', 'participant', 'viewer'];

const LOCK = "SELECT pg_advisory_xact_lock(hashtext('trm-policy-links'))";

/** Link `user` to the policy of `role` unless it is linked already (inside the caller's transaction). */
export async function ensureLinks(db: Db, pairs: Array<[unknown, unknown]>): Promise<void> {
	const wanted = pairs.filter(([user, role]) => typeof user === 'string' && typeof role === 'string' && ORG_ROLES.includes(role));
	if (wanted.length === 0) return;
	await db.raw(LOCK);
	for (const [user, role] of wanted) {
		await db.raw(
			`INSERT INTO directus_access (id, policy, "user")
			 SELECT gen_random_uuid(), p.id, ?::uuid FROM directus_policies p
			  WHERE p.name = ? AND NOT EXISTS (SELECT 1 FROM directus_access a WHERE a."user" = ?::uuid AND a.policy = p.id)`,
			[user, role, user],
		);
	}
}

/** The (user, role) each membership will have after an update of `keys` with `payload`. */
export async function pairsAfterUpdate(db: Db, keys: unknown[], payload: Row): Promise<Array<[unknown, unknown]>> {
	if (!('user_id' in payload) && !('role' in payload)) return [];
	const rows: Row[] = await db('organization_users').whereIn('id', keys as string[]).select('user_id', 'role');
	return rows.map((r) => ['user_id' in payload ? payload['user_id'] : r['user_id'], 'role' in payload ? payload['role'] : r['role']]);
}

/** Add the missing links and remove the stale ones, for every user: how many rows changed. */
export async function reconcile(database: Db): Promise<number> {
	return database.transaction(async (trx) => {
		const present = await trx.raw("SELECT to_regclass('organization_users') IS NOT NULL AS ok");
		if (!present.rows[0]?.ok) return 0; // a database without the TRM schema (yet)
		await trx.raw(LOCK);
		const added = await trx.raw(
			`INSERT INTO directus_access (id, policy, "user")
			 SELECT gen_random_uuid(), p.id, m.user_id
			   FROM (SELECT DISTINCT user_id, role FROM organization_users) m
			   JOIN directus_policies p ON p.name = m.role
			  WHERE NOT EXISTS (SELECT 1 FROM directus_access a WHERE a."user" = m.user_id AND a.policy = p.id)`,
		);
		const removed = await trx.raw(
			`DELETE FROM directus_access a USING directus_policies p
			  WHERE a.policy = p.id AND a."user" IS NOT NULL AND p.name = ANY(?)
			    AND NOT EXISTS (SELECT 1 FROM organization_users m WHERE m.user_id = a."user" AND m.role = p.name)`,
			[ORG_ROLES],
		);
		return Number(added.rowCount ?? 0) + Number(removed.rowCount ?? 0);
	});
}

/** Coalesce reconciles: a burst of membership writes (a seed creates hundreds) runs one or two. */
export function reconciler(run: () => Promise<void>, onError: (err: unknown) => void): () => void {
	let running: Promise<void> | null = null;
	let again = false;
	const loop = async (): Promise<void> => {
		do {
			again = false;
			await new Promise((resolve) => setImmediate(resolve));
			try {
				await run();
			} catch (err) {
				onError(err);
			}
		} while (again);
		running = null;
	};
	return () => {
		if (running) again = true;
		else running = loop();
	};
}
