/** Renders one CSV cell value: strings as they are, other values as JSON, `null`/`undefined` as empty. */
export function csvCellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  const json = JSON.stringify(value);
  return json === undefined ? String(value) : json;
}

/** Quotes a field per RFC 4180 when it holds a comma, a double quote, CR or LF (or leading/trailing spaces). */
export function csvField(text: string): string {
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * Writes `rows` as RFC 4180 CSV with CRLF line ends: a header line with every column (in first-seen order across
 * all rows), then one line per row; missing values are empty.
 *
 * @example toCsv([{ q: 'a, b', score: 1 }]) // 'q,score\r\n"a, b",1\r\n'
 */
export function toCsv(rows: readonly Record<string, unknown>[]): string {
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    for (const key of Object.keys(row)) {
      if (!seen.has(key)) {
        seen.add(key);
        columns.push(key);
      }
    }
  }
  const lines = [columns.map(csvField).join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvField(csvCellText(row[c]))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
