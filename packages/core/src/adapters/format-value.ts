import type { TypeNode } from '../signature/type-node.ts';
import { isPlainObject, pythonJsonDumps, pythonStr, toJsonable } from './python-text.ts';
import { numberHintForType } from './value-shape.ts';

export { pythonJsonDumps, pythonStr } from './python-text.ts';

/**
 * DSPy's `_format_blob`: a single-line blob becomes `«text»`; a blob with a newline or guillemet becomes a
 * `«««` block with every line indented by four spaces.
 */
function formatBlob(blob: string): string {
  if (!blob.includes('\n') && !blob.includes('«') && !blob.includes('»')) return `«${blob}»`;
  return `«««\n    ${blob.replaceAll('\n', '\n    ')}\n»»»`;
}

/**
 * DSPy's `_format_input_list_field_value`: `N/A` for an empty list, a bare blob for one item, otherwise
 * `[1] «a»` lines.
 */
export function formatNumberedList(items: readonly unknown[]): string {
  const blobs = items.map((item) => formatBlob(typeof item === 'string' ? item : pythonStr(item)));
  if (blobs.length === 0) return 'N/A';
  if (blobs.length === 1) return blobs[0] ?? '';
  return blobs.map((blob, idx) => `[${idx + 1}] ${blob}`).join('\n');
}

/**
 * DSPy's `format_field_value`: a list given to a `str` field becomes a numbered `«»` list; otherwise the value
 * is JSON-serialized, and dicts/lists print as `json.dumps(..., ensure_ascii=False)` (Python separators) while
 * scalars print as Python `str()` (`True`, `None`, `1.0`).
 *
 * Numbers print according to `type`: `float` positions (also inside `list[float]`, `dict[str, float]` or a
 * custom schema's `number` properties) print as Python floats (`1.0`, `1e-07`); everything else prints
 * integral numbers as ints, because a JavaScript number does not say which Python type it stood for.
 *
 * @example formatFieldValue(['a', 'b'], { kind: 'str' }) // '[1] «a»\n[2] «b»'
 * @example formatFieldValue({ name: 'Ada' }, undefined) // '{"name": "Ada"}'
 */
export function formatFieldValue(value: unknown, type: TypeNode | undefined): string {
  if (Array.isArray(value) && type?.kind === 'str') return formatNumberedList(value);
  const hint = numberHintForType(type);
  const jsonable = toJsonable(value);
  if (Array.isArray(jsonable) || isPlainObject(jsonable)) return pythonJsonDumps(jsonable, { numbers: hint });
  return pythonStr(jsonable, hint);
}
