/**
 * What a new command must be before it exists (issue 28): a known, enabled kind, parameters as the
 * kind's schema says, and nothing of what the system writes. A 400 that names every problem; the
 * command is then neither stored nor sent. A kind's own parameters_schema is checked when it is saved.
 */
import { InvalidPayload } from '../shared/errors';
import type { Db, Row } from '../shared/types';
import { parameterProblems, schemaProblems, type Schema } from './params';

/** Written by the system as the command moves on; never part of a create. */
export const SYSTEM_FIELDS = [
	'status',
	'sent_at',
	'acked_at',
	'nacked_at',
	'timed_out_at',
	'failed_at',
	'answer',
	'failure_reason',
	'gateway_instance',
	'attempts',
	'stream_id',
] as const;

export async function checkNewCommand(db: Db, payload: Row): Promise<void> {
	const system = SYSTEM_FIELDS.filter((f) => f in payload && !(f === 'status' && payload[f] === 'queued'));
	if (system.length > 0) throw new InvalidPayload({ reason: `${system.join(', ')} ${system.length === 1 ? 'is' : 'are'} written by the system, not sent with a command` });
	const kinds = (await db('command_kinds').select('code', 'enabled', 'parameters_schema').orderBy('code')) as Row[];
	const enabled = kinds.filter((k) => k['enabled'] === true).map((k) => String(k['code']));
	const code = payload['kind'];
	const kind = kinds.find((k) => k['code'] === code);
	if (typeof code !== 'string' || !kind) {
		throw new InvalidPayload({ reason: `unknown command kind ${JSON.stringify(code ?? null)}: use one of ${enabled.join(', ')}` });
	}
	if (kind['enabled'] !== true) throw new InvalidPayload({ reason: `command kind "${code}" is disabled: use one of ${enabled.join(', ')}` });
	const schema = (typeof kind['parameters_schema'] === 'string' ? JSON.parse(kind['parameters_schema']) : kind['parameters_schema']) as Schema | null;
	const problems = parameterProblems(schema ?? { type: 'object' }, payload['parameters'] ?? {});
	if (problems.length > 0) throw new InvalidPayload({ reason: `parameters of a ${code} command: ${problems.join('; ')}` });
}

export function checkKindSchema(payload: Row): void {
	if (!('parameters_schema' in payload) || payload['parameters_schema'] === null) return;
	const problems = schemaProblems(payload['parameters_schema']);
	if (problems.length > 0) throw new InvalidPayload({ reason: problems.join('; ') });
}
