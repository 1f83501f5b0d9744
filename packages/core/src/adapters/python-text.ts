/**
 * Python string semantics that leak into DSPy prompts: `str()` / `repr()` of values, `json.dumps`, `str.strip()`,
 * `str.splitlines()` and `textwrap.dedent`. DSPy builds every prompt with these, so byte-identical prompts need
 * byte-identical emulations.
 *
 * Numbers: JavaScript has a single number type, Python has `int` and `float`. Where DSPy would print a float
 * (`1.0`, `1e-07`, `1e+16`) and we cannot see the Python type, the caller passes a {@link NumberStyle} derived
 * from the field's declared type (see `value-shape.ts`). Without a hint, integral numbers print as ints (`1`)
 * and others as Python float reprs (`0.5`).
 *
 * @module
 */

/** How to print a number: as a Python `int`, a Python `float`, or by inspecting the value (`auto`). */
export type NumberStyle = 'int' | 'float' | 'auto';

/**
 * Resolves the style of nested values while {@link pythonJsonDumps} walks a structure. `child` is called with
 * the object key or array index of each nested value.
 */
export interface NumberStyleHint {
  /** Style for a number at this position. */
  readonly style: NumberStyle;
  /** Hint for the nested value at `key` (object key or array index). */
  child(key: string | number, value: unknown): NumberStyleHint;
}

const AUTO_HINT: NumberStyleHint = { style: 'auto', child: () => AUTO_HINT };

/** A hint that prints every number by inspecting it (integral → int, otherwise float). */
export const autoNumberStyle: NumberStyleHint = AUTO_HINT;

// Python's str.isspace() set, which differs from JavaScript's \s (no \uFEFF, but \x1c-\x1f and \x85 included).
const PY_WS = '\\t\\n\\v\\f\\r \\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_STRIP = new RegExp(`^[${PY_WS}]+|[${PY_WS}]+$`, 'g');
// Python's line boundaries include the file/group/record separators \x1c-\x1e.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these control characters are Python line breaks.
const PY_LINE_BREAK = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

/** Python `s.strip()` (no arguments): removes leading and trailing Unicode whitespace as Python defines it. */
export function pyStrip(text: string): string {
  return text.replace(PY_STRIP, '');
}

/** Python `s.splitlines()`: splits on every Python line boundary; no trailing empty line, `''` → `[]`. */
export function pySplitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(PY_LINE_BREAK);
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * Python `textwrap.dedent`: lines made only of spaces/tabs become empty, then the longest common leading
 * whitespace of the remaining lines is removed.
 */
export function pyDedent(text: string): string {
  const normalized = text.replace(/^[ \t]+$/gm, '');
  let margin: string | undefined;
  for (const match of normalized.matchAll(/^([ \t]*)[^ \t\n]/gm)) {
    const indent = match[1] ?? '';
    if (margin === undefined) {
      margin = indent;
      continue;
    }
    if (indent.startsWith(margin)) continue;
    if (margin.startsWith(indent)) {
      margin = indent;
      continue;
    }
    let i = 0;
    while (i < margin.length && i < indent.length && margin[i] === indent[i]) i++;
    margin = margin.slice(0, i);
  }
  if (!margin) return normalized;
  const prefix = new RegExp(`^${margin}`, 'gm');
  return normalized.replace(prefix, '');
}

/**
 * Python `repr(float)`: the shortest round-tripping digits, fixed notation when the decimal exponent is in
 * [-4, 16), scientific otherwise with a signed, at-least-two-digit exponent.
 *
 * @example pythonFloatRepr(1) // '1.0'; pythonFloatRepr(1e-7) // '1e-07'; pythonFloatRepr(1e16) // '1e+16'
 */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Number.POSITIVE_INFINITY) return 'inf';
  if (x === Number.NEGATIVE_INFINITY) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa = '', expText = '0'] = x.toExponential().split('e');
  const exp = Number(expText);
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = String(Math.abs(exp)).padStart(2, '0');
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
  }
  if (exp >= 0) {
    const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    const frac = digits.slice(exp + 1) || '0';
    return `${sign}${intPart}.${frac}`;
  }
  return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
}

/** Python `str(int)` of an integral JavaScript number (exact digits, never exponent notation). */
function pythonIntText(x: number): string {
  return Number.isSafeInteger(x) ? String(x) : BigInt(x).toString();
}

/** Python text of a number printed with the given {@link NumberStyle}. */
export function pythonNumber(x: number, style: NumberStyle = 'auto'): string {
  if (!Number.isFinite(x)) return pythonFloatRepr(x);
  if (style === 'float') return pythonFloatRepr(x);
  if (Number.isInteger(x)) return pythonIntText(x);
  // A non-integral number cannot be a Python int, whatever the declared type says.
  return pythonFloatRepr(x);
}

/** True for plain records (not arrays, not class instances such as Date or Map). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The JSON-compatible form of a value, like pydantic's `dump_python(mode="json")`: objects with `toJSON` are
 * converted, Maps become records, Sets and other iterables become arrays, Dates become ISO strings.
 */
export function toJsonable(value: unknown): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (typeof value !== 'object') return value;
  if (Array.isArray(value) || isPlainObject(value)) return value;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') return withJson.toJSON();
  return { ...(value as Record<string, unknown>) };
}

function escapeJsonString(text: string, ensureAscii: boolean): string {
  const json = JSON.stringify(text);
  if (!ensureAscii) return json;
  let out = '';
  for (const ch of json) {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x80) {
      out += ch;
    } else if (code <= 0xffff) {
      out += `\\u${code.toString(16).padStart(4, '0')}`;
    } else {
      const v = code - 0x10000;
      out += `\\u${(0xd800 + (v >> 10)).toString(16)}\\u${(0xdc00 + (v & 0x3ff)).toString(16)}`;
    }
  }
  return out;
}

function jsonNumber(x: number, style: NumberStyle): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Number.POSITIVE_INFINITY) return 'Infinity';
  if (x === Number.NEGATIVE_INFINITY) return '-Infinity';
  return pythonNumber(x, style);
}

/** Options of {@link pythonJsonDumps}. */
export interface PythonJsonDumpsOptions {
  /** Python's `indent`: pretty-print with this many spaces per level (item separator becomes `","`). */
  indent?: number;
  /** Python's `ensure_ascii` (default `false`, as DSPy calls it): escape non-ASCII as lowercase `\uXXXX`. */
  ensureAscii?: boolean;
  /** How numbers print at each position; defaults to integral → int, otherwise float. */
  numbers?: NumberStyleHint;
}

/**
 * Python `json.dumps(value, ensure_ascii=False)` byte for byte: separators `", "` and `": "` (with `indent`,
 * `","` plus a newline and `": "`), floats in Python repr (`1.0` where the hint says float), `NaN`/`Infinity`
 * literals, keys in insertion order. `undefined` object entries are skipped; `undefined` array items print `null`.
 *
 * @example pythonJsonDumps({ name: 'Ada', tags: ['a', 'b'] }) // '{"name": "Ada", "tags": ["a", "b"]}'
 */
export function pythonJsonDumps(value: unknown, options: PythonJsonDumpsOptions = {}): string {
  const indent = options.indent;
  const ensureAscii = options.ensureAscii ?? false;
  const render = (raw: unknown, hint: NumberStyleHint, depth: number): string => {
    const v = toJsonable(raw);
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'number') return jsonNumber(v, hint.style);
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'string') return escapeJsonString(v, ensureAscii);
    const pad = indent === undefined ? '' : `\n${' '.repeat(indent * (depth + 1))}`;
    const close = indent === undefined ? '' : `\n${' '.repeat(indent * depth)}`;
    const sep = indent === undefined ? ', ' : ',';
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      const items = v.map((item, i) => pad + render(item, hint.child(i, item), depth + 1));
      return `[${items.join(sep)}${close}]`;
    }
    if (typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>).filter(([, item]) => item !== undefined);
      if (entries.length === 0) return '{}';
      const items = entries.map(
        ([k, item]) => `${pad}${escapeJsonString(k, ensureAscii)}: ${render(item, hint.child(k, item), depth + 1)}`,
      );
      return `{${items.join(sep)}${close}}`;
    }
    return escapeJsonString(String(v), ensureAscii);
  };
  return render(value, options.numbers ?? AUTO_HINT, 0);
}

/**
 * Python `str(value)` as DSPy's `format_field_value` produces it for a JSON-serialized value: strings unchanged,
 * `True`/`False`/`None`, numbers per `numbers` (integral → int by default, `1.0` when the hint says float), and
 * lists/dicts through {@link pythonJsonDumps} (DSPy dumps containers as JSON, not as Python reprs).
 *
 * @example pythonStr(true) // 'True'; pythonStr(null) // 'None'; pythonStr(2, floatHint) // '2.0'
 */
export function pythonStr(value: unknown, numbers: NumberStyleHint = AUTO_HINT): string {
  const v = toJsonable(value);
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return pythonNumber(v, numbers.style);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'object') return pythonJsonDumps(v, { numbers });
  return String(v);
}

/** Python `repr(str)`: single quotes unless the text has `'` but no `"`, with Python's escapes. */
export function pythonStringRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if ((code >= 0x80 && code < 0xa0) || code === 0xad) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

/**
 * Python `repr(value)`: `'text'`, `True`, `None`, `[1, 'a']`, `{'k': 1.5}`. Used where DSPy interpolates a raw
 * Python object into text (for example `str(dict)` in `TwoStepAdapter` turns and parse error messages).
 */
export function pythonRepr(value: unknown, numbers: NumberStyleHint = AUTO_HINT): string {
  const v = toJsonable(value);
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'string') return pythonStringRepr(v);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return pythonNumber(v, numbers.style);
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return `[${v.map((item, i) => pythonRepr(item, numbers.child(i, item))).join(', ')}]`;
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, item]) => item !== undefined);
    return `{${entries.map(([k, item]) => `${pythonStringRepr(k)}: ${pythonRepr(item, numbers.child(k, item))}`).join(', ')}}`;
  }
  return String(v);
}

/**
 * Python `str(value)` of a raw Python object (strings unchanged, containers as Python reprs), as produced by
 * f-string interpolation of a value that was never JSON-serialized.
 */
export function pythonInterpolate(value: unknown, numbers: NumberStyleHint = AUTO_HINT): string {
  return typeof value === 'string' ? value : pythonRepr(value, numbers);
}
