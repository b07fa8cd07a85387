/** POST /trm/positions/faulty: flag or clear a device's positions in a window, then request a recompute. */
import { Forbidden, InvalidPayload, NotFound } from '../shared/errors';
import type { Caller, Db, Row } from '../shared/types';
import { mayFlag } from './access';
import { flagAndRecord, flushPending } from './outbox';
import { parseFaultyFlag } from './request';

export interface FlagResponse {
	request_id: string;
	device_id: string;
	window_start: string;
	window_end: string;
	faulty: boolean;
	rows_changed: number;
	requested_at: string;
	/** sent: on the stream (stream_id given); pending: recorded, re-sent later (Redis was unreachable). */
	status: 'sent' | 'pending';
	stream_id: string | null;
	pending_requests: number;
}

async function orgRolesOnDevice(db: Db, user: string, imei: string): Promise<string[] | null> {
	const device = (await db('devices').select('id').where({ imei }).first()) as Row | undefined;
	if (!device) return null;
	const rows = (await db('organization_users as ou')
		.join('organization_devices as od', 'od.organization_id', 'ou.organization_id')
		.where({ 'od.device_id': device['id'], 'ou.user_id': user })
		.select('ou.role')) as Row[];
	return rows.map((r) => String(r['role']));
}

export async function flagFaulty(db: Db, redisUrl: string, caller: Caller, body: unknown): Promise<FlagResponse> {
	const req = parseFaultyFlag(body);
	if (Array.isArray(req)) throw new InvalidPayload({ reason: req.join('; ') });
	const roles = await orgRolesOnDevice(db, caller.user ?? '', req.imei);
	if (roles === null) throw new NotFound({ reason: `no device with IMEI ${req.imei}: register it in devices first` });
	if (!mayFlag(caller, roles)) throw new Forbidden({ reason: `you may not flag the positions of device ${req.imei}` });
	const recorded = await flagAndRecord(db, req, caller.user);
	// Also delivers older pending requests first (oldest first keeps the stream in request order).
	const flush = await flushPending(db, redisUrl);
	const streamId = flush.sent.get(recorded.id) ?? null;
	return {
		request_id: recorded.id,
		device_id: recorded.device_id,
		window_start: recorded.window_start.toISOString(),
		window_end: recorded.window_end.toISOString(),
		faulty: recorded.faulty,
		rows_changed: recorded.rows_changed,
		requested_at: recorded.requested_at.toISOString(),
		status: streamId === null ? 'pending' : 'sent',
		stream_id: streamId,
		pending_requests: flush.pending,
	};
}
