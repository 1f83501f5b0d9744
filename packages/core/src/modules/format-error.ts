/**
 * Renders an error for an LM to read (DSPy's `_fmt_exc` / `format_error_for_lm`): a leading newline, then
 * `Name: message` and at most `limit` stack frames, innermost first. Non-`Error` values are rendered with
 * `String()`.
 *
 * @example
 * formatErrorForLm(new TypeError('bad input'), 0); // '\nTypeError: bad input'
 */
export function formatErrorForLm(error: unknown, limit = 5): string {
  if (!(error instanceof Error)) return `\n${String(error)}`;
  const head = `${error.name}: ${error.message}`;
  const frames = (error.stack ?? '')
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .slice(0, Math.max(0, limit));
  return `\n${[head, ...frames].join('\n')}`;
}
