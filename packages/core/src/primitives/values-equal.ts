/**
 * Deep equality for stored values, in the spirit of Python's `==` on dicts and lists: arrays compare item by
 * item, plain objects and maps key by key (order-insensitive), objects with an `equals` method through it,
 * and everything else by `Object.is` (except `0 === -0`).
 */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => valuesEqual(v, b[i]));
  }
  const equals = (a as { equals?: unknown }).equals;
  if (typeof equals === 'function') return Boolean(equals.call(a, b));
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !valuesEqual(v, b.get(k))) return false;
    return true;
  }
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every(
    (k) => Object.hasOwn(b, k) && valuesEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

/**
 * Converts a value to plain JSON-like data: examples via `toDict()`, objects with `toJSON()` through it, maps to
 * objects, arrays and plain objects recursively (DSPy's `Example.toDict` with pydantic `model_dump`).
 */
export function toPlainData(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(toPlainData);
  const toDict = (value as { toDict?: unknown }).toDict;
  if (typeof toDict === 'function') return toDict.call(value);
  if (value instanceof Map) {
    return Object.fromEntries([...value].map(([k, v]) => [String(k), toPlainData(v)]));
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return toPlainData(toJSON.call(value));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlainData(v)]));
}
