import { pythonRepr } from '../adapters/python-text.ts';
import { valuesEqual } from '../primitives/values-equal.ts';

/** A JSON Schema (draft 2020-12 / draft 7 keywords), as a plain object. */
export type JsonSchema = Record<string, unknown>;

type Check = (value: unknown, schema: JsonSchema) => string | undefined;

const repr = (value: unknown): string => pythonRepr(value);

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  const actual = jsonType(value);
  if (type === 'number') return actual === 'number' || actual === 'integer';
  if (type === 'object') return actual === 'object' && typeof value === 'object';
  return actual === type;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function resolvePointer(root: JsonSchema, ref: string): JsonSchema | undefined {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (!isObject(node)) return undefined;
    node = node[key];
  }
  return isObject(node) ? node : undefined;
}

/**
 * Validates `value` against a JSON Schema and returns the first violation as a message worded like Python's
 * `jsonschema` (which DSPy's `Tool` uses), e.g. `5 is not of type 'string'` or `'q' is a required property`;
 * `undefined` when the value is valid.
 *
 * Supported keywords: `type` (including lists of types), `enum`, `const`, `properties`, `required`,
 * `additionalProperties`, `patternProperties`, `minProperties`, `maxProperties`, `items` (schema or draft-7
 * tuple form), `prefixItems`, `minItems`, `maxItems`, `uniqueItems`, `contains`, `minLength`, `maxLength`,
 * `pattern`, `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum` (number or draft-4 boolean form),
 * `multipleOf`, `allOf`, `anyOf`, `oneOf`, `not`, `if`/`then`/`else`, and local `$ref`s (`#/$defs/...`,
 * `#/definitions/...`). Unknown keywords (`format`, `description`, `default`…) are ignored, as in `jsonschema`.
 *
 * @example
 * validateJsonSchema(5, { type: 'string' }); // "5 is not of type 'string'"
 * validateJsonSchema({ q: 'x' }, { type: 'object', required: ['q'] }); // undefined
 */
export function validateJsonSchema(
  value: unknown,
  schema: JsonSchema | boolean,
  root?: JsonSchema,
): string | undefined {
  if (schema === true) return undefined;
  if (schema === false) return `False schema does not allow ${repr(value)}`;
  if (!isObject(schema)) return undefined;
  const base = root ?? schema;
  const recurse = (v: unknown, s: unknown): string | undefined =>
    typeof s === 'boolean' || isObject(s) ? validateJsonSchema(v, s as JsonSchema | boolean, base) : undefined;

  if (typeof schema.$ref === 'string') {
    const target = resolvePointer(base, schema.$ref);
    if (target === undefined) return `Unresolvable JSON pointer: ${repr(schema.$ref)}`;
    const error = recurse(value, target);
    if (error) return error;
  }

  for (const check of CHECKS) {
    const error = check(value, schema);
    if (error) return error;
  }

  if (Array.isArray(schema.allOf)) {
    for (const sub of schema.allOf) {
      const error = recurse(value, sub);
      if (error) return error;
    }
  }
  if (Array.isArray(schema.anyOf) && !schema.anyOf.some((sub) => recurse(value, sub) === undefined)) {
    return `${repr(value)} is not valid under any of the given schemas`;
  }
  if (Array.isArray(schema.oneOf)) {
    const valid = schema.oneOf.filter((sub) => recurse(value, sub) === undefined);
    if (valid.length === 0) return `${repr(value)} is not valid under any of the given schemas`;
    if (valid.length > 1) return `${repr(value)} is valid under each of ${valid.map((s) => repr(s)).join(', ')}`;
  }
  if (schema.not !== undefined && recurse(value, schema.not) === undefined) {
    return `${repr(value)} should not be valid under ${repr(schema.not)}`;
  }
  if (schema.if !== undefined) {
    const branch = recurse(value, schema.if) === undefined ? schema.then : schema.else;
    if (branch !== undefined) {
      const error = recurse(value, branch);
      if (error) return error;
    }
  }

  if (isObject(value)) {
    const properties = isObject(schema.properties) ? schema.properties : {};
    for (const [key, sub] of Object.entries(properties)) {
      if (!Object.hasOwn(value, key) || value[key] === undefined) continue;
      const error = recurse(value[key], sub);
      if (error) return error;
    }
    const patterns = isObject(schema.patternProperties) ? Object.entries(schema.patternProperties) : [];
    for (const [pattern, sub] of patterns) {
      const regex = new RegExp(pattern, 'u');
      for (const [key, item] of Object.entries(value)) {
        if (!regex.test(key)) continue;
        const error = recurse(item, sub);
        if (error) return error;
      }
    }
    if (schema.additionalProperties !== undefined) {
      const extras = Object.keys(value).filter(
        (key) => !Object.hasOwn(properties, key) && !patterns.some(([p]) => new RegExp(p, 'u').test(key)),
      );
      if (schema.additionalProperties === false && extras.length > 0) {
        const verb = extras.length === 1 ? 'was' : 'were';
        return `Additional properties are not allowed (${extras.map((k) => repr(k)).join(', ')} ${verb} unexpected)`;
      }
      for (const key of extras) {
        const error = recurse(value[key], schema.additionalProperties);
        if (error) return error;
      }
    }
  }

  if (Array.isArray(value)) {
    const prefix = Array.isArray(schema.prefixItems)
      ? schema.prefixItems
      : Array.isArray(schema.items)
        ? schema.items
        : [];
    for (const [i, sub] of prefix.entries()) {
      if (i >= value.length) break;
      const error = recurse(value[i], sub);
      if (error) return error;
    }
    const rest = Array.isArray(schema.items) ? schema.additionalItems : schema.items;
    if (rest !== undefined) {
      for (const item of value.slice(prefix.length)) {
        const error = recurse(item, rest);
        if (error) return error;
      }
    }
    if (schema.contains !== undefined && !value.some((item) => recurse(item, schema.contains) === undefined)) {
      return `${repr(value)} does not contain items matching the given schema`;
    }
  }
  return undefined;
}

const CHECKS: Check[] = [
  (value, schema) => {
    if (schema.type === undefined) return undefined;
    const types = (Array.isArray(schema.type) ? schema.type : [schema.type]).map(String);
    if (types.some((type) => matchesType(value, type))) return undefined;
    return `${repr(value)} is not of type ${types.map((t) => repr(t)).join(', ')}`;
  },
  (value, schema) => {
    if (!Array.isArray(schema.enum) || schema.enum.some((option) => valuesEqual(option, value))) return undefined;
    return `${repr(value)} is not one of ${repr(schema.enum)}`;
  },
  (value, schema) =>
    'const' in schema && !valuesEqual(schema.const, value) ? `${repr(schema.const)} was expected` : undefined,
  (value, schema) => {
    if (!isObject(value) || !Array.isArray(schema.required)) return undefined;
    const missing = schema.required.find(
      (key) => !Object.hasOwn(value, String(key)) || value[String(key)] === undefined,
    );
    return missing === undefined ? undefined : `${repr(missing)} is a required property`;
  },
  (value, schema) => {
    if (!isObject(value)) return undefined;
    const count = Object.keys(value).length;
    if (typeof schema.minProperties === 'number' && count < schema.minProperties) {
      return `${repr(value)} does not have enough properties`;
    }
    if (typeof schema.maxProperties === 'number' && count > schema.maxProperties) {
      return `${repr(value)} has too many properties`;
    }
    return undefined;
  },
  (value, schema) => {
    if (typeof value !== 'string') return undefined;
    const length = [...value].length;
    if (typeof schema.minLength === 'number' && length < schema.minLength) return `${repr(value)} is too short`;
    if (typeof schema.maxLength === 'number' && length > schema.maxLength) return `${repr(value)} is too long`;
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) {
      return `${repr(value)} does not match ${repr(schema.pattern)}`;
    }
    return undefined;
  },
  (value, schema) => {
    if (!Array.isArray(value)) return undefined;
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) return `${repr(value)} is too short`;
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) return `${repr(value)} is too long`;
    if (schema.uniqueItems === true && value.some((a, i) => value.slice(i + 1).some((b) => valuesEqual(a, b)))) {
      return `${repr(value)} has non-unique elements`;
    }
    return undefined;
  },
  (value, schema) => {
    if (typeof value !== 'number') return undefined;
    const { minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf } = schema;
    if (typeof minimum === 'number') {
      if (exclusiveMinimum === true && value <= minimum) {
        return `${repr(value)} is less than or equal to the minimum of ${repr(minimum)}`;
      }
      if (value < minimum) return `${repr(value)} is less than the minimum of ${repr(minimum)}`;
    }
    if (typeof maximum === 'number') {
      if (exclusiveMaximum === true && value >= maximum) {
        return `${repr(value)} is greater than or equal to the maximum of ${repr(maximum)}`;
      }
      if (value > maximum) return `${repr(value)} is greater than the maximum of ${repr(maximum)}`;
    }
    if (typeof exclusiveMinimum === 'number' && value <= exclusiveMinimum) {
      return `${repr(value)} is less than or equal to the minimum of ${repr(exclusiveMinimum)}`;
    }
    if (typeof exclusiveMaximum === 'number' && value >= exclusiveMaximum) {
      return `${repr(value)} is greater than or equal to the maximum of ${repr(exclusiveMaximum)}`;
    }
    if (typeof multipleOf === 'number' && multipleOf > 0) {
      const quotient = value / multipleOf;
      if (!Number.isFinite(quotient) || Math.abs(quotient - Math.round(quotient)) > 1e-9) {
        return `${repr(value)} is not a multiple of ${repr(multipleOf)}`;
      }
    }
    return undefined;
  },
];
