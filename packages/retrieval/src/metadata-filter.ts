/**
 * A metadata equality filter: a passage matches when, for every key, its metadata holds a value deeply equal to the
 * filter's (JSON equality: object key order does not matter, array order does). Keys whose filter value is
 * `undefined` are ignored.
 */
export type MetadataFilter = Record<string, unknown>;

/** True when `metadata` satisfies every entry of `filter` (see {@link MetadataFilter}). */
export function matchesFilter(metadata: Record<string, unknown>, filter: MetadataFilter | undefined): boolean {
  if (filter === undefined) return true;
  for (const [key, expected] of Object.entries(filter)) {
    if (expected === undefined) continue;
    if (!Object.hasOwn(metadata, key) || !jsonEqual(metadata[key], expected)) return false;
  }
  return true;
}

/** Deep equality of JSON-like values, ignoring object key order (the semantics of Postgres `jsonb =`). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => jsonEqual(item, other[i]));
  }
  const aKeys = Object.keys(a).filter((key) => (a as Record<string, unknown>)[key] !== undefined);
  const bKeys = Object.keys(b).filter((key) => (b as Record<string, unknown>)[key] !== undefined);
  if (aKeys.length !== bKeys.length) return false;
  return aKeys.every(
    (key) =>
      Object.hasOwn(b, key) && jsonEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}
