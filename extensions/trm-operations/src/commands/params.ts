/**
 * Command parameters checked against their kind's parameters_schema (command_kinds), before anything
 * is written or sent. The schema language is a small subset of JSON Schema, enough for device
 * commands and readable by operators: type (object, string, integer, number, boolean, array),
 * properties, required, additionalProperties (false only), minimum, maximum, pattern, enum,
 * maxLength, items, minItems, maxItems. A kind's schema that uses anything else is refused when the
 * kind is saved (schemaProblems), so every stored schema means what it says.
 */

export type Schema = Record<string, unknown>;

const TYPES = ['object', 'string', 'integer', 'number', 'boolean', 'array'] as const;
const KEYWORDS = new Set([
	'type',
	'properties',
	'required',
	'additionalProperties',
	'minimum',
	'maximum',
	'pattern',
	'enum',
	'maxLength',
	'items',
	'minItems',
	'maxItems',
	'description',
]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function typeOf(v: unknown): string {
	if (Array.isArray(v)) return 'array';
	if (v === null) return 'null';
	if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
	return typeof v;
}

/** What is wrong with a kind's parameters_schema (empty: usable). */
export function schemaProblems(schema: unknown, path = 'parameters_schema'): string[] {
	if (!isObject(schema)) return [`${path} must be an object (a JSON Schema subset)`];
	const problems: string[] = [];
	for (const key of Object.keys(schema)) if (!KEYWORDS.has(key)) problems.push(`${path}: "${key}" is not supported`);
	const type = schema['type'];
	if (!TYPES.includes(type as (typeof TYPES)[number])) problems.push(`${path}.type must be one of ${TYPES.join(', ')}`);
	if ('additionalProperties' in schema && schema['additionalProperties'] !== false) problems.push(`${path}.additionalProperties may only be false`);
	if ('pattern' in schema) {
		try {
			new RegExp(String(schema['pattern']));
		} catch {
			problems.push(`${path}.pattern is not a regular expression`);
		}
	}
	if ('properties' in schema) {
		const props = schema['properties'];
		if (!isObject(props)) problems.push(`${path}.properties must be an object`);
		else for (const [name, sub] of Object.entries(props)) problems.push(...schemaProblems(sub, `${path}.properties.${name}`));
	}
	if ('required' in schema && !(Array.isArray(schema['required']) && schema['required'].every((r) => typeof r === 'string'))) {
		problems.push(`${path}.required must be a list of property names`);
	}
	if ('items' in schema) problems.push(...schemaProblems(schema['items'], `${path}.items`));
	if ('enum' in schema && !Array.isArray(schema['enum'])) problems.push(`${path}.enum must be a list`);
	return problems;
}

/** Every way `value` breaks `schema`, each naming where (empty: valid). */
export function parameterProblems(schema: Schema, value: unknown, path = 'parameters'): string[] {
	const problems: string[] = [];
	const type = schema['type'] as string;
	const actual = typeOf(value);
	if (!(actual === type || (type === 'number' && actual === 'integer'))) return [`${path} must be ${type === 'integer' ? 'an integer' : `a ${type}`}, not ${actual}`];
	if (Array.isArray(schema['enum']) && !schema['enum'].some((e) => e === value)) {
		problems.push(`${path} must be one of ${schema['enum'].map((e) => JSON.stringify(e)).join(', ')}`);
	}
	if (typeof value === 'number') {
		if (typeof schema['minimum'] === 'number' && value < schema['minimum']) problems.push(`${path} must be at least ${schema['minimum']}`);
		if (typeof schema['maximum'] === 'number' && value > schema['maximum']) problems.push(`${path} must be at most ${schema['maximum']}`);
	}
	if (typeof value === 'string') {
		if (typeof schema['maxLength'] === 'number' && value.length > schema['maxLength']) problems.push(`${path} must be at most ${schema['maxLength']} characters`);
		if (typeof schema['pattern'] === 'string' && !new RegExp(schema['pattern']).test(value)) problems.push(`${path} must match ${schema['pattern']}`);
	}
	if (Array.isArray(value)) {
		if (typeof schema['minItems'] === 'number' && value.length < schema['minItems']) problems.push(`${path} must have at least ${schema['minItems']} items`);
		if (typeof schema['maxItems'] === 'number' && value.length > schema['maxItems']) problems.push(`${path} must have at most ${schema['maxItems']} items`);
		if (isObject(schema['items'])) value.forEach((v, i) => problems.push(...parameterProblems(schema['items'] as Schema, v, `${path}[${i}]`)));
	}
	if (isObject(value)) {
		const props = isObject(schema['properties']) ? schema['properties'] : {};
		for (const name of (schema['required'] as string[] | undefined) ?? []) if (!(name in value)) problems.push(`${path}.${name} is required`);
		for (const [name, v] of Object.entries(value)) {
			const sub = props[name];
			if (isObject(sub)) problems.push(...parameterProblems(sub, v, `${path}.${name}`));
			else if (schema['additionalProperties'] === false) {
				const known = Object.keys(props);
				problems.push(`${path}.${name} is not a parameter of this kind${known.length ? ` (it takes ${known.join(', ')})` : ' (it takes none)'}`);
			}
		}
	}
	return problems;
}
