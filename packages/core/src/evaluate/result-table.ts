import { csvCellText } from './csv.ts';

function toRecord(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const toDict = (value as { toDict?: unknown }).toDict;
  if (typeof toDict === 'function') return toDict.call(value) as Record<string, unknown>;
  if (Array.isArray(value)) return undefined;
  return value as Record<string, unknown>;
}

/**
 * DSPy's `merge_dicts`: the example's fields, then the prediction's; a key present in both becomes `example_<key>`
 * and `pred_<key>`.
 */
export function mergeExampleAndPrediction(
  example: Record<string, unknown>,
  prediction: Record<string, unknown>,
): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(example)) merged[k in prediction ? `example_${k}` : k] = v;
  for (const [k, v] of Object.entries(prediction)) merged[k in example ? `pred_${k}` : k] = v;
  return merged;
}

/**
 * DSPy's `_prepare_results_output`: one row per result, merging example and prediction fields, plus a column named
 * after the metric holding the score. A prediction that is not record-like goes into a `prediction` column.
 */
export function resultRows(
  results: readonly (readonly [unknown, unknown, unknown])[],
  metricName: string,
): Record<string, unknown>[] {
  return results.map(([example, prediction, score]) => {
    const exampleRecord = toRecord(example) ?? {};
    const predictionRecord = toRecord(prediction);
    const row = predictionRecord
      ? mergeExampleAndPrediction(exampleRecord, predictionRecord)
      : { ...exampleRecord, prediction };
    row[metricName] = score;
    return row;
  });
}

/** DSPy's `truncate_cell`: texts longer than 25 words are cut to 25 words plus `...`. */
export function truncateCell(text: string, maxWords = 25): string {
  const words = text.split(/\s+/u).filter(Boolean);
  return words.length > maxWords ? `${words.slice(0, maxWords).join(' ')}...` : text;
}

/** DSPy's metric cell: `✔️ [0.500]` for fractional scores, `✔️ [True]`/`✔️ [1]` otherwise, empty for none. */
export function formatMetricCell(score: unknown): string {
  if (score === null || score === undefined) return '';
  if (typeof score === 'number' && !Number.isInteger(score)) return `✔️ [${score.toFixed(3)}]`;
  if (typeof score === 'boolean') return `✔️ [${score ? 'True' : 'False'}]`;
  return `✔️ [${String(score)}]`;
}

const MAX_CELL_WIDTH = 40;

function cellText(value: unknown): string {
  const text = truncateCell(csvCellText(value)).replace(/\s+/gu, ' ').trim();
  return [...text].length > MAX_CELL_WIDTH ? `${[...text].slice(0, MAX_CELL_WIDTH - 1).join('')}…` : text;
}

/**
 * Renders result rows as a plain-text table for a terminal (DSPy's `display_table`): cells truncated to 25 words
 * and to a readable width, the metric column styled as in DSPy, and, when `limit` cuts rows, a closing
 * `... N more rows not displayed ...` line.
 */
export function formatResultTable(
  rows: readonly Record<string, unknown>[],
  metricName: string,
  limit?: number,
): string {
  const shown = limit === undefined ? rows : rows.slice(0, Math.max(0, limit));
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  const body = shown.map((row, i) => [
    String(i),
    ...columns.map((c) => (c === metricName ? formatMetricCell(row[c]) : cellText(row[c]))),
  ]);
  const header = ['', ...columns];
  const widths = header.map((h, i) => Math.max([...h].length, ...body.map((r) => [...(r[i] as string)].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell + ' '.repeat((widths[i] as number) - [...cell].length))
      .join(' | ')
      .trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('-+-'), ...body.map(line)];
  const hidden = rows.length - shown.length;
  if (hidden > 0) out.push('', `... ${hidden} more rows not displayed ...`);
  return `${out.join('\n')}\n`;
}
