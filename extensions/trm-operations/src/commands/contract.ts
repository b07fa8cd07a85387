/**
 * The contract between Directus and the ingestion gateways for device commands (version 1;
 * extensions/README.md "Device commands" is the reference a gateway implements).
 *
 * - A gateway instance holding a device's TCP session keeps `device:<IMEI>:session` = its instance id
 *   (SET … EX, refreshed while the session lives, deleted when it ends).
 * - Directus XADDs each command to that instance's stream `commands:<instance>`.
 * - The gateway answers on the one stream `commands:replies`, read by Directus through the consumer
 *   group `trm-directus`: with several Directus instances each reply is handled by one of them.
 * Delivery is at least once: the gateway deduplicates on command_id.
 */

export const VERSION = '1';
export const REPLIES_STREAM = 'commands:replies';
export const REPLIES_GROUP = 'trm-directus';
/** Streams are capped (approximately) so a gateway that never reads its stream cannot fill Redis. */
export const STREAM_MAXLEN = '100000';

export const sessionKey = (imei: string): string => `device:${imei}:session`;
export const commandStream = (instance: string): string => `commands:${instance}`;

export interface OutgoingCommand {
	id: string;
	imei: string;
	kind: string;
	parameters: unknown;
	queued_at: Date;
	timeout_at: Date;
}

/** The stream entry's fields, in order (all values strings). */
export function commandFields(c: OutgoingCommand): string[] {
	return [
		'version',
		VERSION,
		'command_id',
		c.id,
		'imei',
		c.imei,
		'kind',
		c.kind,
		'parameters',
		JSON.stringify(c.parameters ?? {}),
		'queued_at',
		c.queued_at.toISOString(),
		'timeout_at',
		c.timeout_at.toISOString(),
	];
}

export interface Reply {
	command_id: string;
	instance: string;
	status: 'ack' | 'nack';
	answer: string;
	answered_at: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A reply from its stream fields ([k1, v1, k2, v2, …]), or why it cannot be used. */
export function parseReplyFields(fields: readonly string[]): Reply | string {
	const f: Record<string, string> = {};
	for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
	if (f['version'] !== VERSION) return `version ${JSON.stringify(f['version'])} is not ${VERSION}`;
	if (!UUID.test(f['command_id'] ?? '')) return `command_id ${JSON.stringify(f['command_id'])} is not a UUID`;
	if (f['status'] !== 'ack' && f['status'] !== 'nack') return `status ${JSON.stringify(f['status'])} is neither ack nor nack`;
	const at = f['answered_at'] ? new Date(f['answered_at']) : new Date();
	if (Number.isNaN(at.getTime())) return `answered_at ${JSON.stringify(f['answered_at'])} is not a timestamp`;
	return { command_id: f['command_id']!, instance: f['instance'] ?? '', status: f['status'], answer: f['answer'] ?? '', answered_at: at };
}
