const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Appends one segment to a JSON path in the notation used by state errors: numbers as `[2]`, identifiers as
 * `.name`, other keys as `['key']`. An empty base yields just the segment, e.g. `demos[2]` or `predict.demos[2]`.
 */
export function joinStatePath(base: string, segment: string | number): string {
  if (typeof segment === 'number') return `${base}[${segment}]`;
  if (IDENTIFIER.test(segment)) return base ? `${base}.${segment}` : segment;
  return `${base}['${segment.replaceAll("'", "\\'")}']`;
}

/** Joins a whole list of segments onto `base` with {@link joinStatePath}. */
export function formatStatePath(base: string, segments: readonly PropertyKey[]): string {
  let path = base;
  for (const segment of segments) {
    path = joinStatePath(path, typeof segment === 'symbol' ? String(segment) : (segment as string | number));
  }
  return path;
}
