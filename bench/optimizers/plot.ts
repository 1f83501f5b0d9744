/** A small hand-written SVG line chart (log-scaled x axis, error bars) for the search-efficiency results. */

export interface PlotSeries {
  id: string;
  label: string;
  points: { calls: number; mean: number; std: number }[];
}

const COLORS: Record<string, string> = {
  'random-search': '#555555',
  copro: '#8c6d31',
  mipro: '#1f77b4',
  'mipro-16': '#17becf',
  'mipro-uniform': '#9467bd',
  simba: '#2ca02c',
  gepa: '#d62728',
  'gepa-labeled': '#ff7f0e',
  'gepa-score-only': '#ff9896',
};

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderSvg(
  series: readonly PlotSeries[],
  options: {
    title: string;
    subtitle: string;
    baseline?: string;
    /** Axis labels (defaults: calls spent; expected test accuracy). */
    xLabel?: string;
    yLabel?: string;
    /** Differences rather than accuracies: the y range may go below 0 and a line marks 0. */
    differences?: boolean;
  },
): string {
  const W = 900;
  const H = 500;
  const m = { left: 64, right: 310, top: 62, bottom: 56 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p.calls);
  const x0 = Math.log2(Math.min(...xs) * 0.85);
  const x1 = Math.log2(Math.max(...xs) * 1.15);
  const lo = Math.min(...all.map((p) => p.mean - p.std));
  const hi = Math.max(...all.map((p) => p.mean + p.std));
  const y0 = options.differences ? Math.floor(Math.min(lo, 0) / 10) * 10 : Math.max(0, Math.floor(lo / 10) * 10);
  const y1 = options.differences ? Math.ceil(Math.max(hi, 0) / 10) * 10 : Math.min(100, Math.ceil(hi / 10) * 10);
  const sx = (c: number) => m.left + ((Math.log2(c) - x0) / (x1 - x0)) * pw;
  const sy = (v: number) => m.top + (1 - (v - y0) / (y1 - y0)) * ph;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12" role="img" aria-label="${esc(options.title)}">`,
    `<title>${esc(options.title)}</title>`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${m.left}" y="24" font-size="15" font-weight="bold">${esc(options.title)}</text>`,
    `<text x="${m.left}" y="42" fill="#444">${esc(options.subtitle)}</text>`,
  );
  // Grid and axes.
  for (let v = y0; v <= y1; v += 10) {
    out.push(
      `<line x1="${m.left}" x2="${m.left + pw}" y1="${sy(v)}" y2="${sy(v)}" stroke="#e5e5e5"/>`,
      `<text x="${m.left - 8}" y="${sy(v) + 4}" text-anchor="end">${v}</text>`,
    );
  }
  const ticks: number[] = [];
  for (let e = Math.ceil(x0); e <= Math.floor(x1); e++) ticks.push(2 ** e);
  for (const t of ticks) {
    out.push(
      `<line x1="${sx(t)}" x2="${sx(t)}" y1="${m.top}" y2="${m.top + ph}" stroke="#f0f0f0"/>`,
      `<text x="${sx(t)}" y="${m.top + ph + 18}" text-anchor="middle">${t}</text>`,
    );
  }
  out.push(
    `<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`,
    `<text x="${m.left + pw / 2}" y="${H - 14}" text-anchor="middle">${esc(options.xLabel ?? 'LM calls spent (task + prompt model, log scale)')}</text>`,
    `<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(options.yLabel ?? 'expected test accuracy of the returned program (%)')}</text>`,
  );
  if (options.differences) {
    out.push(
      `<line x1="${m.left}" x2="${m.left + pw}" y1="${sy(0)}" y2="${sy(0)}" stroke="#555" stroke-dasharray="6 4"/>`,
    );
  }
  // Series: error bars, line, markers.
  for (const [i, s] of series.entries()) {
    const color = COLORS[s.id] ?? `hsl(${(i * 67) % 360} 60% 45%)`;
    const dash = s.id === options.baseline ? ' stroke-dasharray="6 4"' : '';
    const jitter = (i - (series.length - 1) / 2) * 2.5;
    for (const p of s.points) {
      const x = sx(p.calls) + jitter;
      out.push(
        `<line x1="${x}" x2="${x}" y1="${sy(p.mean - p.std)}" y2="${sy(p.mean + p.std)}" stroke="${color}" stroke-opacity="0.6"/>`,
      );
    }
    const d = s.points.map((p) => `${(sx(p.calls) + jitter).toFixed(1)},${sy(p.mean).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${d}" fill="none" stroke="${color}" stroke-width="2.2"${dash}/>`);
    for (const p of s.points) {
      out.push(
        `<circle cx="${(sx(p.calls) + jitter).toFixed(1)}" cy="${sy(p.mean).toFixed(1)}" r="3.5" fill="${color}"/>`,
      );
    }
    const ly = m.top + 10 + i * 22;
    const lx = m.left + pw + 16;
    out.push(
      `<line x1="${lx}" x2="${lx + 26}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2.2"${dash}/>`,
      `<text x="${lx + 32}" y="${ly + 4}">${esc(s.label)}</text>`,
    );
  }
  out.push(
    `<text x="${m.left + pw + 16}" y="${m.top + 10 + series.length * 22 + 10}" fill="#666" font-size="11">bars: ± 1 std over seeds</text>`,
    '</svg>',
  );
  return `${out.join('\n')}\n`;
}
