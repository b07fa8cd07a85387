/**
 * Policy links follow organization_users (issue 11, performance with policies on; issue 21, safety).
 *
 * Every org-role policy's rows are those of organisations where the user holds *that* role, and
 * Directus compiles each linked policy's filters into every query of that user, so a user is linked
 * (directus_access with `user` set) to exactly the org-role policies named by their *accepted*
 * memberships. The database writes those links itself, in the transaction of each membership write
 * (db-init/post/107, `trm_access.sync_policy_links`): a write that Directus refuses or rolls back
 * leaves no link. (They were written here, in an update filter that Directus runs on its root
 * connection before it checks the caller: a refused membership update still granted a policy, and
 * the org-admin policy carries the Data Studio.) What is left here: after a membership change
 * Directus's permission cache is cleared, and at server start every link is reconciled once (a
 * database restored from before 107, links edited by hand). These links are derived data:
 * snapshots/access.yaml leaves them out (artifacts/access.py, `scope`).
 */
import type { Db } from './shared';

/** Make every user's links equal to their accepted memberships: how many links changed (0 without db-init/post/107). */
export async function reconcile(database: Db): Promise<number> {
	const present = await database.raw("SELECT to_regprocedure('trm_access.sync_policy_links(uuid[])') IS NOT NULL AS ok");
	if (!present.rows[0]?.['ok']) return 0; // a database without the TRM schema (yet)
	const changed = await database.raw('SELECT trm_access.sync_policy_links(ARRAY(SELECT id FROM directus_users)) AS n');
	return Number(changed.rows[0]?.['n'] ?? 0);
}

/** Coalesce work after bursts of membership writes (a seed creates hundreds): one or two runs, not hundreds. */
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
