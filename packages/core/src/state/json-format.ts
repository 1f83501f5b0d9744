/**
 * Serializes program state the way DSPy writes it (`orjson.dumps(state, option=OPT_INDENT_2 | OPT_APPEND_NEWLINE)`):
 * two-space indentation, `": "` between keys and values, `[]` / `{}` for empty containers, non-ASCII characters
 * written as UTF-8 rather than escaped, and a final newline.
 *
 * Known difference: JavaScript has one number type, so a float that Python wrote as `1.0` comes back as `1`.
 */
export function formatStateJson(state: unknown): string {
  return `${JSON.stringify(state, null, 2)}\n`;
}
