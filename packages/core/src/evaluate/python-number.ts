import { pythonFloatRepr } from '../adapters/python-text.ts';

/**
 * Python's `round(x, ndigits)` for floats: rounds to the nearest multiple of `10 ** -ndigits` using the exact
 * binary value of `x`, with exact ties going to the even digit (`round(0.125, 2) == 0.12`).
 */
export function pythonRound(x: number, ndigits: number): number {
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21) return x;
  // The exact decimal expansion of a double with magnitude ≥ 1e-10 ends within 100 fractional digits.
  const exact = Math.abs(x).toFixed(100);
  const point = exact.indexOf('.');
  const rest = exact.slice(point + 1 + ndigits);
  const isTie = /^50*$/.test(rest);
  if (!isTie) return Number(x.toFixed(ndigits));
  const truncated = exact.slice(0, point + 1 + ndigits);
  const lastDigit = Number(truncated.at(-1) === '.' ? exact[point - 1] : truncated.at(-1));
  const down = Number(truncated);
  const step = 10 ** -ndigits;
  const magnitude = lastDigit % 2 === 0 ? down : Number((down + step).toFixed(ndigits));
  return Math.sign(x) * magnitude;
}

/** Python's `str()` of a number: floats as `60.0`/`66.67`, integers without a fraction when `isInt`. */
export function pythonNumberText(x: number, isInt: boolean): string {
  return isInt && Number.isInteger(x) ? String(x) : pythonFloatRepr(x);
}
