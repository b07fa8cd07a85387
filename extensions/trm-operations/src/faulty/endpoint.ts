/** POST /trm/positions/faulty: flag or clear a device's positions in a window, then request a recompute. */
import { Forbidden, InvalidPayload, NotFound } from '../shared/errors';
import type { Caller, Db, Row } from '../shared/types';
import { flagRefusal, type DeviceEvent } from './access';
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

/** The events whose entries use the device, with the caller's accepted roles in each event's organisation. */
async function eventsOfDevice(db: Db, user: string, imei: string): Promise<DeviceEvent[]> {
	const result = await db.raw(
		`SELECT ev.name, ev.starts_at, ev.ends_at, array_agg(DISTINCT ou.role) AS roles
		   FROM devices d
		   JOIN entry_devices ed ON ed.device_id = d.id
		   JOIN entries e ON e.id = ed.entry_id
		   JOIN events ev ON ev.id = e.event_id
		   JOIN organization_users ou ON ou.organization_id = ev.organization_id AND ou.user_id = ? AND ou.status = 'active'
		  WHERE d.imei = ?
		  GROUP BY ev.id, ev.name, ev.starts_at, ev.ends_at
		  ORDER BY ev.starts_at`,
		[user, imei],
	);
	return (result.rows as Row[]).map((r) => ({
		name: String(r['name']),
		starts_at: new Date(r['starts_at'] as string),
		ends_at: new Date(r['ends_at'] as string),
		roles: r['roles'] as string[],
	}));
}

export async function flagFaulty(db: Db, redisUrl: string, caller: Caller, body: unknown): Promise<FlagResponse> {
	const req = parseFaultyFlag(body);
	if (Array.isArray(req)) throw new InvalidPayload({ reason: req.join('; ') });
	// An outsider gets the same answer whether the device exists or not; administrators learn it is unknown.
	const refusal = flagRefusal(caller, caller.admin ? [] : await eventsOfDevice(db, caller.user ?? '', req.imei), req.from, req.to, req.imei);
	if (refusal) throw new Forbidden({ reason: refusal });
	if (caller.admin && !(await db('devices').select('id').where({ imei: req.imei }).first())) {
		throw new NotFound({ reason: `no device with IMEI ${req.imei}: register it in devices first` });
	}
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
