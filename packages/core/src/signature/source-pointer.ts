/**
 * Renders the line of `text` that contains `index`, indented, with a `^` marker under that column, so that
 * error messages show exactly where a signature went wrong.
 *
 * @example
 * pointAt('a: lst[int] -> b', 3)
 * // =>
 * //   a: lst[int] -> b
 * //      ^
 */
export function pointAt(text: string, index: number, width = 1): string {
  const clamped = Math.max(0, Math.min(index, text.length));
  const lineStart = text.lastIndexOf('\n', clamped - 1) + 1;
  const lineEndRaw = text.indexOf('\n', clamped);
  const lineEnd = lineEndRaw === -1 ? text.length : lineEndRaw;
  const line = text.slice(lineStart, lineEnd);
  const column = clamped - lineStart;
  const marker = '^'.repeat(Math.max(1, Math.min(width, line.length - column)));
  return `  ${line}\n  ${' '.repeat(column)}${marker}`;
}
