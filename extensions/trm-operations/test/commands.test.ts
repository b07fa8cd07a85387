import { describe, expect, it } from 'vitest';
import { commandFields, parseReplyFields, sessionKey, commandStream } from '../src/commands/contract';
import { parameterProblems, schemaProblems } from '../src/commands/params';

// The default kinds' schemas as db-init/post/111 inserts them.
const none = { type: 'object', properties: {}, additionalProperties: false };
const setperiod = { type: 'object', required: ['seconds'], additionalProperties: false, properties: { seconds: { type: 'integer', minimum: 1, maximum: 3600 } } };
const setdigout = {
	type: 'object',
	required: ['outputs'],
	additionalProperties: false,
	properties: { outputs: { type: 'string', pattern: '^[01?]{1,4}$' }, durations: { type: 'array', maxItems: 4, items: { type: 'integer', minimum: 0, maximum: 3600 } } },
};

describe('parameters against the kind schema', () => {
	it.each([
		['getgps without parameters', none, {}, []],
		['getgps with one', none, { x: 1 }, ['parameters.x is not a parameter of this kind (it takes none)']],
		['setperiod 30 s', setperiod, { seconds: 30 }, []],
		['setperiod missing', setperiod, {}, ['parameters.seconds is required']],
		['setperiod 0', setperiod, { seconds: 0 }, ['parameters.seconds must be at least 1']],
		['setperiod a day', setperiod, { seconds: 86400 }, ['parameters.seconds must be at most 3600']],
		['setperiod 1.5', setperiod, { seconds: 1.5 }, ['parameters.seconds must be an integer, not number']],
		['setperiod "30"', setperiod, { seconds: '30' }, ['parameters.seconds must be an integer, not string']],
		['setdigout on, then back after 10 s', setdigout, { outputs: '1?', durations: [10, 0] }, []],
		['setdigout bad outputs', setdigout, { outputs: '12' }, ['parameters.outputs must match ^[01?]{1,4}$']],
		['setdigout a negative duration', setdigout, { outputs: '1', durations: [-1] }, ['parameters.durations[0] must be at least 0']],
		['setdigout five durations', setdigout, { outputs: '1', durations: [1, 1, 1, 1, 1] }, ['parameters.durations must have at most 4 items']],
		['parameters not an object', none, [], ['parameters must be a object, not array']],
	])('%s', (_what, schema, value, problems) => {
		expect(parameterProblems(schema, value)).toEqual(problems);
	});
	it('lists every problem at once', () => {
		expect(parameterProblems(setdigout, { outputs: 'x', durations: [99999], extra: true })).toHaveLength(3);
	});
});

describe('a kind schema is usable only in the supported subset', () => {
	it.each([
		['the defaults', setdigout, []],
		['not an object', 'x', ['parameters_schema must be an object (a JSON Schema subset)']],
		['an unknown keyword', { type: 'object', oneOf: [] }, ['parameters_schema: "oneOf" is not supported']],
		['additionalProperties true', { type: 'object', additionalProperties: true }, ['parameters_schema.additionalProperties may only be false']],
		['a bad pattern', { type: 'string', pattern: '(' }, ['parameters_schema.pattern is not a regular expression']],
		['a nested unknown type', { type: 'object', properties: { a: { type: 'date' } } }, ['parameters_schema.properties.a.type must be one of object, string, integer, number, boolean, array']],
	])('%s', (_what, schema, problems) => {
		expect(schemaProblems(schema)).toEqual(problems);
	});
});

describe('the gateway contract (version 1)', () => {
	it('names the keys and streams', () => {
		expect(sessionKey('356307042441013')).toBe('device:356307042441013:session');
		expect(commandStream('gw-1')).toBe('commands:gw-1');
	});
	it('writes a command as string fields in a fixed order', () => {
		const at = new Date('2026-06-08T07:00:00.000Z');
		expect(
			commandFields({ id: '5b0c0e0a-0f8e-4a43-9d4e-1f7cf1f6b7a2', imei: '356307042441013', kind: 'setperiod', parameters: { seconds: 30 }, queued_at: at, timeout_at: new Date(at.getTime() + 60000) }),
		).toEqual([
			'version', '1', 'command_id', '5b0c0e0a-0f8e-4a43-9d4e-1f7cf1f6b7a2', 'imei', '356307042441013', 'kind', 'setperiod',
			'parameters', '{"seconds":30}', 'queued_at', '2026-06-08T07:00:00.000Z', 'timeout_at', '2026-06-08T07:01:00.000Z',
		]);
	});
	it('reads a reply, and says why one is unusable', () => {
		const ok = ['version', '1', 'command_id', '5b0c0e0a-0f8e-4a43-9d4e-1f7cf1f6b7a2', 'instance', 'gw-1', 'status', 'nack', 'answer', 'Unknown command', 'answered_at', '2026-06-08T07:00:01Z'];
		expect(parseReplyFields(ok)).toMatchObject({ status: 'nack', answer: 'Unknown command', instance: 'gw-1' });
		expect(parseReplyFields(ok.map((v) => (v === '1' ? '2' : v)))).toBe('version "2" is not 1');
		expect(parseReplyFields(ok.map((v) => (v === 'nack' ? 'maybe' : v)))).toBe('status "maybe" is neither ack nor nack');
		expect(parseReplyFields(ok.slice(2))).toBe('version undefined is not 1');
	});
});
