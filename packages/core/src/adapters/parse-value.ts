import { jsonrepair } from 'jsonrepair';
import type { Field } from '../signature/field.ts';
import { isOptionalType, type TypeNode, validateValue } from '../signature/type-node.ts';
import { pyStrip, pythonInterpolate, pythonRepr } from './python-text.ts';

/**
 * DSPy's `parse_value` (`dspy/adapters/utils.py`) and `apply_output_field_defaults`: turning the text an LM
 * wrote for one output field into a typed value.
 *
 * @module
 */

/** Result of a lenient parse: `ok: false` plays the role of `json_repair.loads` returning `""`. */
type Loaded = { ok: true; value: unknown } | { ok: false };

function looksQuoted(text: string): boolean {
  const t = text.trim();
  return t.length >= 2 && (t[0] === '"' || t[0] === "'") && t[t.length - 1] === t[0];
}

/**
 * Lenient JSON like Python's `json_repair.loads`: strict JSON first, then `jsonrepair` (single quotes, trailing
 * commas, Python `True`/`False`/`None`, unclosed brackets). Bare prose that the repairer would merely wrap in
 * quotes counts as a failure, as `json_repair` returns `""` for it.
 */
export function lenientJsonLoads(text: string): Loaded {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    // fall through to the repairing parser
  }
  try {
    const value: unknown = JSON.parse(jsonrepair(text));
    if (typeof value === 'string' && !looksQuoted(text)) return { ok: false };
    return { ok: true, value };
  } catch {
    return { ok: false };
  }
}

const PY_NUMBER = /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;

/**
 * The subset of Python's `ast.literal_eval` that matters after `json_repair` gave up: numeric literals with
 * digit separators (`123_456.789`), `True`/`False`/`None`, and simple quoted strings.
 */
export function pythonLiteralEval(text: string): Loaded {
  const t = text.replace(/^[ \t]+/, '').replace(/[ \t\r\n]+$/, '');
  if (t === 'True') return { ok: true, value: true };
  if (t === 'False') return { ok: true, value: false };
  if (t === 'None') return { ok: true, value: null };
  if (PY_NUMBER.test(t)) {
    // Python rejects leading zeros on non-zero integers (`007`).
    if (/^[+-]?0\d/.test(t.replace(/_/g, '')) && !/[.eE]/.test(t)) return { ok: false };
    return { ok: true, value: Number(t.replace(/_/g, '')) };
  }
  if (looksQuoted(t) && !t.slice(1, -1).includes(t[0] ?? '') && !t.includes('\\')) {
    return { ok: true, value: t.slice(1, -1) };
  }
  return { ok: false };
}

/** Python `==` between two scalars (`True == 1`, `1 == 1.0`). */
function pyEquals(a: unknown, b: unknown): boolean {
  const num = (x: unknown) => (typeof x === 'boolean' ? Number(x) : x);
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return num(a) === num(b);
}

function literalTupleRepr(values: readonly unknown[]): string {
  const items = values.map((v) => pythonRepr(v));
  return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
}

function allowsStrAndNone(type: TypeNode): boolean {
  return (
    type.kind === 'union' && type.options.some((o) => o.kind === 'none') && type.options.some((o) => o.kind === 'str')
  );
}

/**
 * DSPy's `parse_value(value, annotation)`:
 * - `str` → the text unchanged (non-strings through Python `str()`);
 * - `Literal` → exact match, else stripped, `Literal[...]`/`str[...]` unwrapped and matching quotes removed;
 * - non-string values and `str | None` unions → validated as they are;
 * - otherwise lenient JSON, then a Python-literal fallback, then the raw text, validated against the type.
 *
 * @throws Error whose message explains why the value does not fit the type.
 */
export function parseValue(value: unknown, type: TypeNode): unknown {
  if (type.kind === 'str') return pythonInterpolate(value);

  if (type.kind === 'literal') {
    const allowed = type.values;
    const exact = allowed.find((a) => pyEquals(a, value));
    if (exact !== undefined) return exact;
    if (typeof value === 'string') {
      let v = pyStrip(value);
      if ((v.startsWith('Literal[') || v.startsWith('str[')) && v.endsWith(']')) {
        v = v.slice(v.indexOf('[') + 1, -1);
      }
      if (v.length > 1 && v[0] === v[v.length - 1] && (v[0] === '"' || v[0] === "'")) v = v.slice(1, -1);
      if (allowed.includes(v)) return v;
    }
    throw new Error(`${pythonRepr(value)} is not one of ${literalTupleRepr(allowed)}`);
  }

  if (typeof value !== 'string' || allowsStrAndNone(type)) return validateValue(type, value);

  let candidate: unknown;
  const loaded = lenientJsonLoads(value);
  if (loaded.ok) {
    candidate = loaded.value;
  } else if (value !== '') {
    const literal = pythonLiteralEval(value);
    candidate = literal.ok ? literal.value : value;
  } else {
    candidate = value;
  }
  return validateValue(type, candidate);
}

function cloneDefault(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    // Values that cannot be cloned (functions, class instances with private state) are shared, not copied.
    return value;
  }
}

/**
 * DSPy's `apply_output_field_defaults`: output fields missing from the parsed result get their declared default
 * (a deep copy) or `null` when their type is optional; others stay missing.
 */
export function applyOutputFieldDefaults(
  outputFields: readonly Field[],
  parsed: Record<string, unknown>,
): Record<string, unknown> {
  for (const field of outputFields) {
    if (Object.hasOwn(parsed, field.name)) continue;
    if (field.hasDefault) parsed[field.name] = cloneDefault(field.default);
    else if (isOptionalType(field.type)) parsed[field.name] = null;
  }
  return parsed;
}
