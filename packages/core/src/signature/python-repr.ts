/**
 * Python-style rendering of plain values. DSPy writes Python annotation names and value reprs into prompts
 * (`Literal['a', 'b']`, `1.0`, `True`), so these strings are part of the wire format.
 *
 * @module
 */

const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/**
 * Python's `repr(s)` for a string: single quotes unless the text contains `'` and no `"`, with backslashes,
 * the chosen quote, `\n`, `\r`, `\t` and other non-printable characters escaped.
 *
 * @example pythonStringRepr("it's") // => `"it's"`
 */
export function pythonStringRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch !== ' ' && NON_PRINTABLE.test(ch)) {
      const code = ch.codePointAt(0) ?? 0;
      if (code <= 0xff) out += `\\x${code.toString(16).padStart(2, '0')}`;
      else if (code <= 0xffff) out += `\\u${code.toString(16).padStart(4, '0')}`;
      else out += `\\U${code.toString(16).padStart(8, '0')}`;
    } else out += ch;
  }
  return out + quote;
}

/**
 * Quotes a string the way DSPy's `get_annotation_name` does inside `Literal[...]`: single quotes unless the
 * text contains only single quotes (then double quotes); when it contains both, single quotes with `'` escaped.
 * Unlike `repr`, other characters are left as they are.
 */
export function literalAnnotationString(s: string): string {
  const hasSingle = s.includes("'");
  const hasDouble = s.includes('"');
  if (hasSingle && !hasDouble) return `"${s}"`;
  if (hasSingle && hasDouble) return `'${s.replaceAll("'", "\\'")}'`;
  return `'${s}'`;
}

/**
 * Python's `repr(float(n))`: shortest round-trip digits, scientific notation below 1e-4 and from 1e16 on,
 * two-digit exponents, and a trailing `.0` on integral values (`1.0`, `1e+16`, `1e-05`, `inf`, `nan`).
 */
export function pythonFloatRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const [mantissa = '0', expText = '0'] = n.toExponential().split('e');
  const exp = Number(expText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = negative ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const body = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const expSign = exp < 0 ? '-' : '+';
    return `${sign}${body}e${expSign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const fracPart = digits.slice(exp + 1);
  return `${sign}${intPart}.${fracPart === '' ? '0' : fracPart}`;
}

/**
 * Python's `str(n)` for a number that came from JSON or a TypeScript literal: integral values print as Python
 * ints (`3`), everything else as a Python float.
 */
export function pythonNumberStr(n: number): string {
  if (Number.isSafeInteger(n)) return String(n);
  return pythonFloatRepr(n);
}

/**
 * Python's `repr(value)` for JSON-like data: `None`, `True`/`False`, numbers, quoted strings, `[...]` lists and
 * `{'k': v}` dicts. Objects with a custom `toString` other than `Object.prototype.toString` use it.
 */
export function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return pythonNumberStr(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return pythonStringRepr(value);
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  if (value instanceof Map) {
    return `{${[...value].map(([k, v]) => `${pythonRepr(k)}: ${pythonRepr(v)}`).join(', ')}}`;
  }
  if (typeof value === 'object') {
    if (isPlainObject(value)) {
      return `{${Object.entries(value)
        .map(([k, v]) => `${pythonStringRepr(k)}: ${pythonRepr(v)}`)
        .join(', ')}}`;
    }
    return String(value);
  }
  return String(value);
}

/** True for `{}` literals and `Object.create(null)` objects, false for class instances, arrays, maps. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
