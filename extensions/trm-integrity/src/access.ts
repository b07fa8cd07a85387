/**
 * Creates in an organisation need an org role whose policy may create there (issue 11).
 *
 * Directus 11 checks a policy's row filter on read, update and delete, not on create, and a
 * permission's validation cannot see the user's role in each organisation. So for a non-admin user,
 * a new row of an org-scoped collection is allowed only when the user's role in the row's
 * organisation (organization_users) names a policy with a create permission on the collection
 * (directus_permissions: the committed snapshots/access.yaml, read at request time, never a copy).
 * Otherwise 403 with the reason. The parent field decides the organisation: organization_id,
 * event_id, entry_id, segment_id or stage_id (the first the payload has, in that order).
 */
import { createError } from '@directus/errors';
import type { Db, Row } from './shared';

export const Forbidden = createError<{ reason: string }>('FORBIDDEN', ({ reason }) => `Forbidden. ${reason}.`, 403);

export type Who = { user?: string | null; admin?: boolean } | null | undefined;

const ORG_OF: Array<[string, string]> = [
	['organization_id', 'SELECT id AS org FROM organizations WHERE id = ?'],
	['event_id', 'SELECT organization_id AS org FROM events WHERE id = ?'],
	['entry_id', 'SELECT e.organization_id AS org FROM entries n JOIN events e ON e.id = n.event_id WHERE n.id = ?'],
	[
		'segment_id',
		'SELECT e.organization_id AS org FROM segments g JOIN stages s ON s.id = g.stage_id JOIN events e ON e.id = s.event_id WHERE g.id = ?',
	],
	['stage_id', 'SELECT e.organization_id AS org FROM stages s JOIN events e ON e.id = s.event_id WHERE s.id = ?'],
];

export async function checkCreateRole(db: Db, collection: string, payload: Row, who: Who): Promise<void> {
	if (!who || who.admin || !who.user || collection.startsWith('directus_')) return;
	const parent = ORG_OF.find(([field]) => payload[field] !== undefined && payload[field] !== null);
	let org: unknown = null; // no parent (vehicles, devices): a role that may create them in any organisation
	if (parent) {
		org = (await db.raw(parent[1], [payload[parent[0]]])).rows[0]?.['org'];
		if (!org) return; // an unknown parent: the foreign key refuses it
	}
	const held = (
		await db.raw(
			`SELECT u.role, bool_or(p.id IS NOT NULL) AS may
			   FROM organization_users u
			   LEFT JOIN directus_policies pol ON pol.name = u.role
			   LEFT JOIN directus_permissions p ON p.policy = pol.id AND p.collection = ? AND p.action = 'create'
			  WHERE u.user_id = ? AND (?::uuid IS NULL OR u.organization_id = ?::uuid)
			  GROUP BY u.role`,
			[collection, who.user, org, org],
		)
	).rows;
	if (held.some((r) => r['may'])) return;
	const roles = held.map((r) => String(r['role']));
	const where = parent ? 'in this organisation' : 'in any of your organisations';
	throw new Forbidden({
		reason: roles.length
			? `creating ${collection} needs an org role that may create it ${where}; yours there: ${roles.join(', ')}`
			: `creating ${collection} needs a role in the organisation it belongs to; you have none there`,
	});
}

type Reader = { readMany: (keys: unknown[], query: Row) => Promise<Row[]> };

/** Before the delete hook counts references (its 400 names tables and counts): a non-admin user must
 * be able to see every item, else 403 like Directus's own answer — nothing about another organisation's rows. */
export async function checkDeleteVisible(reader: Reader | null, keys: unknown[], who: Who): Promise<void> {
	if (!reader || !who || who.admin || keys.length === 0) return;
	const seen = await reader.readMany(keys, { fields: ['id'], limit: -1 });
	if (seen.length < keys.length) throw new Forbidden({ reason: "You don't have permission to access this" });
}
