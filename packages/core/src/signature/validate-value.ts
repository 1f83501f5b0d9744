import { History } from '../primitives/history.ts';
import { annotationName } from './annotation-name.ts';
import { isPlainObject, pythonRepr } from './python-repr.ts';
import type { TypeNode } from './type-node.ts';
import { TypeValidationError } from './type-validation-error.ts';

// Thrown inside the recursive walk and caught by unions; converted to a TypeValidationError at the top.
class Mismatch {
  constructor(
    readonly expected: TypeNode,
    readonly path: readonly (string | number)[],
    readonly value: unknown,
    readonly reason: string,
  ) {}
}

const TRUE_STRINGS = new Set(['1', 'on', 't', 'true', 'y', 'yes']);
const FALSE_STRINGS = new Set(['0', 'off', 'f', 'false', 'n', 'no']);
const INT_STRING = /^[+-]?\d+(_\d+)*(\.0*)?$/;
const FLOAT_STRING = /^[+-]?((\d+(_\d+)*)(\.(\d+(_\d+)*)?)?|\.\d+(_\d+)*)([eE][+-]?\d+)?$/;
const SPECIAL_FLOATS: Record<string, number> = {
  inf: Number.POSITIVE_INFINITY,
  '+inf': Number.POSITIVE_INFINITY,
  '-inf': Number.NEGATIVE_INFINITY,
  infinity: Number.POSITIVE_INFINITY,
  '+infinity': Number.POSITIVE_INFINITY,
  '-infinity': Number.NEGATIVE_INFINITY,
  nan: Number.NaN,
  '+nan': Number.NaN,
  '-nan': Number.NaN,
};

/**
 * Validates and coerces `value` against `t` the way pydantic's lax mode does, returning the coerced value:
 * `int` accepts `3`, `"3"`, `3.0` and `True` (not `3.5`); `float` accepts ints and numeric strings (incl. `inf`,
 * `nan`); `bool` accepts booleans, `0`/`1` and `"true"`/`"False"`/`"yes"`/`"off"`...; `str` requires a string;
 * containers validate recursively; literals match exactly; unions first look for an exact match in any option,
 * then try lax coercion option by option; custom types run their zod schema; `History` accepts an instance or
 * `{ messages: [...] }`.
 *
 * @throws {TypeValidationError} naming the expected type, where the bad value is, and what was found.
 * @example validateValue(parseTypeExpression('list[int]'), ['1', 2.0]) // => [1, 2]
 */
export function validateValue(t: TypeNode, value: unknown): unknown {
  try {
    return walk(t, value, [], false);
  } catch (error) {
    if (!(error instanceof Mismatch)) throw error;
    throw new TypeValidationError({
      annotation: annotationName(t),
      expected: annotationName(error.expected),
      path: error.path,
      found: describeValue(error.value),
      reason: error.reason,
    });
  }
}

function walk(t: TypeNode, value: unknown, path: (string | number)[], strict: boolean): unknown {
  const fail = (reason: string): never => {
    throw new Mismatch(t, path, value, reason);
  };
  switch (t.kind) {
    case 'any':
      return value;
    case 'none':
      return value === null || value === undefined ? null : fail('expected None');
    case 'str':
      return typeof value === 'string' ? value : fail('input should be a valid string');
    case 'int':
      return toInt(value, strict, fail);
    case 'float':
      return toFloat(value, strict, fail);
    case 'bool':
      return toBool(value, strict, fail);
    case 'literal': {
      const match = t.values.find((v) => v === value || (v === null && value === undefined));
      if (match !== undefined) return match;
      return fail(`input should be ${t.values.map(pythonRepr).join(' or ')}`);
    }
    case 'list': {
      const items = asArray(value);
      if (items === undefined) return fail('input should be a valid list');
      return items.map((item, i) => walk(t.item, item, [...path, i], strict));
    }
    case 'tuple': {
      const items = asArray(value);
      if (items === undefined) return fail('input should be a valid tuple');
      if (t.variadic) {
        const itemType = t.items[0] ?? { kind: 'any' };
        return items.map((item, i) => walk(itemType, item, [...path, i], strict));
      }
      if (items.length !== t.items.length) {
        return fail(
          `tuple should have exactly ${t.items.length} item${t.items.length === 1 ? '' : 's'}, found ${items.length}`,
        );
      }
      return items.map((item, i) => walk(t.items[i] as TypeNode, item, [...path, i], strict));
    }
    case 'dict': {
      const entries =
        value instanceof Map ? [...value.entries()] : isPlainObject(value) ? Object.entries(value) : undefined;
      if (entries === undefined) return fail('input should be a valid dictionary');
      const out: Record<string, unknown> = {};
      for (const [key, item] of entries) {
        // Object keys are always strings in JavaScript, so keys are coerced leniently and stored back as strings.
        const validKey = walk(t.key, key, [...path, String(key)], false);
        out[String(validKey)] = walk(t.value, item, [...path, String(key)], strict);
      }
      return out;
    }
    case 'union': {
      for (const option of t.options) {
        const result = attempt(option, value, path, true);
        if (result.ok) return result.value;
      }
      if (strict) return fail('no option of the union matches exactly');
      const reasons: string[] = [];
      for (const option of t.options) {
        const result = attempt(option, value, path, false);
        if (result.ok) return result.value;
        reasons.push(`${annotationName(option)}: ${result.reason}`);
      }
      return fail(`no option of the union matches (${reasons.join('; ')})`);
    }
    case 'history': {
      if (value instanceof History) return value;
      if (isPlainObject(value) && Array.isArray(value.messages)) {
        try {
          return new History(value as { messages: Record<string, unknown>[] });
        } catch (error) {
          return fail(error instanceof Error ? error.message : String(error));
        }
      }
      return fail('input should be a History or an object with a `messages` list');
    }
    case 'custom': {
      const result = t.schema.safeParse(value);
      if (result.success) return result.data;
      const issues = result.error.issues
        .slice(0, 5)
        .map((issue) =>
          issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message,
        );
      return fail(issues.join('; '));
    }
  }
}

function attempt(
  t: TypeNode,
  value: unknown,
  path: (string | number)[],
  strict: boolean,
): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: walk(t, value, path, strict) };
  } catch (error) {
    if (error instanceof Mismatch) return { ok: false, reason: error.reason };
    throw error;
  }
}

function asArray(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (value instanceof Set) return [...value];
  return undefined;
}

function toInt(value: unknown, strict: boolean, fail: (reason: string) => never): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return fail('input should be a finite number');
    if (!Number.isInteger(value)) return fail('input should be a valid integer, got a number with a fractional part');
    return value;
  }
  if (typeof value === 'bigint') {
    return Number.isSafeInteger(Number(value)) ? Number(value) : fail('integer is too large to represent exactly');
  }
  if (strict) return fail('input should be a valid integer');
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') {
    const text = value.trim();
    if (INT_STRING.test(text)) return Number.parseInt(text.replaceAll('_', ''), 10);
    return fail('input should be a valid integer, unable to parse string as an integer');
  }
  return fail('input should be a valid integer');
}

function toFloat(value: unknown, strict: boolean, fail: (reason: string) => never): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (strict) return fail('input should be a valid number');
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') {
    const text = value.trim();
    const special = SPECIAL_FLOATS[text.toLowerCase()];
    if (special !== undefined) return special;
    if (FLOAT_STRING.test(text)) return Number(text.replaceAll('_', ''));
    return fail('input should be a valid number, unable to parse string as a number');
  }
  return fail('input should be a valid number');
}

function toBool(value: unknown, strict: boolean, fail: (reason: string) => never): boolean {
  if (typeof value === 'boolean') return value;
  if (strict) return fail('input should be a valid boolean');
  if (typeof value === 'number') {
    if (value === 1) return true;
    if (value === 0) return false;
    return fail('input should be a valid boolean, unable to interpret input');
  }
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    if (TRUE_STRINGS.has(text)) return true;
    if (FALSE_STRINGS.has(text)) return false;
    return fail('input should be a valid boolean, unable to interpret input');
  }
  return fail('input should be a valid boolean');
}

/** Python type name and a short repr of a value, as validation messages show it: `str 'abc'`, `float 3.5`. */
export function describeValue(value: unknown): string {
  let typeName: string;
  if (value === null || value === undefined) typeName = 'NoneType';
  else if (typeof value === 'boolean') typeName = 'bool';
  else if (typeof value === 'number') typeName = Number.isInteger(value) ? 'int' : 'float';
  else if (typeof value === 'string') typeName = 'str';
  else if (Array.isArray(value)) typeName = 'list';
  else if (isPlainObject(value)) typeName = 'dict';
  else if (typeof value === 'object') typeName = (value as object).constructor?.name ?? 'object';
  else typeName = typeof value;
  let preview: string;
  try {
    preview = pythonRepr(value);
  } catch {
    preview = String(value);
  }
  if (preview.length > 80) preview = `${preview.slice(0, 77)}...`;
  return `${typeName} ${preview}`;
}
