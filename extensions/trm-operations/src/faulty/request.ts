/**
 * The faulty-flag request: validation of what the caller sends (pure), and the Redis stream message
 * the processor receives (format documented in extensions/README.md "recompute:requests"); the
 * stream also carries course edits (course/request.ts).
 */
import { courseEditFields, type CourseEditRequest } from '../course/request';

export const STREAM = 'recompute:requests';
/** Longest window one request may flag: an event lasts at most a few weeks. */
export const MAX_WINDOW_DAYS = 31;
export const MAX_REASON_LENGTH = 500;

export interface FaultyFlagRequest {
	imei: string;
	from: Date;
	to: Date;
	faulty: boolean;
	reason: string;
}

// ISO 8601 with an explicit offset: a window without a timezone would be read in the server's zone.
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;

function instant(value: unknown, field: string, problems: string[]): Date | null {
	if (typeof value !== 'string' || !ISO_WITH_ZONE.test(value)) {
		problems.push(`${field} must be an ISO 8601 timestamp with a timezone, e.g. 2026-06-08T07:00:00Z`);
		return null;
	}
	const d = new Date(value);
	// Date rolls 2026-02-30 over into March: compare the calendar date as written.
	const day = value.slice(0, 10);
	const midnight = new Date(`${day}T00:00:00Z`);
	if (Number.isNaN(d.getTime()) || Number.isNaN(midnight.getTime()) || midnight.toISOString().slice(0, 10) !== day) {
		problems.push(`${field} is not a valid timestamp: ${value}`);
		return null;
	}
	return d;
}

/** The validated request, or the list of every problem in the body. */
export function parseFaultyFlag(body: unknown): FaultyFlagRequest | string[] {
	const problems: string[] = [];
	const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
	const imei = b['imei'];
	if (typeof imei !== 'string' || !/^\d{15}$/.test(imei)) problems.push('imei must be the 15-digit IMEI of the device');
	const from = instant(b['from'], 'from', problems);
	const to = instant(b['to'], 'to', problems);
	if (from && to) {
		if (to.getTime() <= from.getTime()) problems.push('to must be after from (the window is [from, to))');
		else if (to.getTime() - from.getTime() > MAX_WINDOW_DAYS * 86_400_000) {
			problems.push(`the window is longer than ${MAX_WINDOW_DAYS} days: split it`);
		}
	}
	const faulty = b['faulty'] === undefined ? true : b['faulty'];
	if (typeof faulty !== 'boolean') problems.push('faulty must be true (flag) or false (clear)');
	const reason = typeof b['reason'] === 'string' ? b['reason'].trim() : '';
	if (reason === '') problems.push('reason is required: say why the positions are (not) faulty');
	else if (reason.length > MAX_REASON_LENGTH) problems.push(`reason is longer than ${MAX_REASON_LENGTH} characters`);
	const unknown = Object.keys(b).filter((k) => !['imei', 'from', 'to', 'faulty', 'reason'].includes(k));
	if (unknown.length > 0) problems.push(`unknown field(s): ${unknown.join(', ')}`);
	if (problems.length > 0 || !from || !to) return problems;
	return { imei: imei as string, from, to, faulty: faulty as boolean, reason };
}

/** A recorded request as the outbox holds it. */
export interface RecordedRequest {
	id: string;
	device_id: string;
	window_start: Date;
	window_end: Date;
	faulty: boolean;
	reason: string;
	requested_by: string | null;
	requested_at: Date;
	rows_changed: number;
}

/** What the outbox holds: faulty flags and course edits. */
export type OutboxRequest = RecordedRequest | CourseEditRequest;

/** The stream entry's field/value pairs, in a fixed order (XADD recompute:requests * f1 v1 f2 v2 …). */
export function streamFields(r: OutboxRequest): string[] {
	if ('kind' in r) return courseEditFields(r);
	return [
		'version', '1',
		'request_id', r.id,
		'kind', 'faulty-flag',
		'device_id', r.device_id,
		'window_start', r.window_start.toISOString(),
		'window_end', r.window_end.toISOString(),
		'faulty', r.faulty ? 'true' : 'false',
		'reason', r.reason,
		'requested_by', r.requested_by ?? '',
		'requested_at', r.requested_at.toISOString(),
		'rows_changed', String(r.rows_changed),
	];
}
