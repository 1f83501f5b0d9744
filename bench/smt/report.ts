/**
 * Turns the experiment's results (smt/results/runs.jsonl, base.json, memory.json) into markdown tables
 * (smt/results/tables.md, also printed) and two hand-written SVG plots in smt/:
 * - loss-curves.svg: training loss per step, mean over seeds, one panel per budget, one line per method;
 * - accuracy-vs-params.svg: test accuracy (mean ± std over seeds) against trainable parameters.
 *
 * Usage (from `bench/`): tsx --conditions=@dspy-ts/source smt/report.ts [--runs FILE] [--tag T]
 * (`--tag T` writes tables-T.md, loss-curves-T.svg and accuracy-vs-params-T.svg instead).
 *
 * @module
 */

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { RunRecord } from './experiment.ts';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({ options: { runs: { type: 'string' }, tag: { type: 'string' } } });
const suffix = args.tag ? `-${args.tag}` : '';
const runsFile = resolve(args.runs ?? resolve(here, 'results/runs.jsonl'));
const resultsDir = dirname(runsFile);
const runs: RunRecord[] = readFileSync(runsFile, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as RunRecord);

const METHODS = ['full', 'lora', 'dora', 'smt', 'smt-random', 'smt-gradonly', 'lora-ftwarm'] as const;
const LABEL: Record<string, string> = {
  full: 'FT',
  lora: 'LoRA',
  dora: 'DoRA',
  smt: 'SMT',
  'smt-random': 'SMT random blocks',
  'smt-gradonly': 'SMT gradient-only warm-up',
  'lora-ftwarm': 'LoRA after full-FT warm-up',
};
const COLOR: Record<string, string> = {
  full: '#333333',
  lora: '#1f77b4',
  dora: '#2ca02c',
  smt: '#d62728',
  'smt-random': '#ff7f0e',
  'smt-gradonly': '#9467bd',
  'lora-ftwarm': '#17becf',
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]) => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
};
const pm = (xs: number[], digits = 3) => (xs.length ? `${mean(xs).toFixed(digits)} ± ${std(xs).toFixed(digits)}` : '–');
const pct = (xs: number[]) => (xs.length ? `${(100 * mean(xs)).toFixed(1)} ± ${(100 * std(xs)).toFixed(1)}` : '–');
const budgetLabel = (method: string, budget: number) =>
  method === 'full' ? 'all' : method.startsWith('smt') ? `${Math.round((1600 * budget) / 64)} blocks` : `r=${budget}`;

// The sweep seed is the smallest seed present; the chosen LR of a configuration is the one its final runs use
// (the experiment picks it by validation accuracy, then validation NLL, on the sweep seed).
const sweepSeed = Math.min(...runs.map((r) => r.seed));
const configs = new Map<string, { method: string; budget: number }>();
for (const r of runs) configs.set(`${r.method}|${r.budget}`, { method: r.method, budget: r.budget });
const ordered = [...configs.values()].sort(
  (a, b) => METHODS.indexOf(a.method as never) - METHODS.indexOf(b.method as never) || a.budget - b.budget,
);

function chosen(method: string, budget: number): [number, RunRecord[]] | undefined {
  const perLr = new Map<number, RunRecord[]>();
  for (const r of runs) {
    if (r.method !== method || r.budget !== budget) continue;
    perLr.set(r.lr, [...(perLr.get(r.lr) ?? []), r]);
  }
  // The LR with the most seeds is the chosen one (the final phase ran only it on the extra seeds); while only the
  // sweep exists, the same rule as the experiment: best validation accuracy, then lower validation NLL.
  const score = (rs: RunRecord[]) => {
    const r = rs.find((x) => x.seed === sweepSeed) ?? rs[0]!;
    return [rs.length, r.valAccuracy, -(Number.isNaN(r.valNll) ? Infinity : r.valNll)];
  };
  let best: [number, RunRecord[]] | undefined;
  for (const e of perLr) {
    if (!best) {
      best = e;
      continue;
    }
    const [x, y] = [score(e[1]), score(best[1])];
    const better = x[0]! !== y[0]! ? x[0]! > y[0]! : x[1]! !== y[1]! ? x[1]! > y[1]! : x[2]! > y[2]!;
    if (better) best = e;
  }
  return best;
}

const out: string[] = [];
const base = existsSync(resolve(resultsDir, 'base.json'))
  ? (JSON.parse(readFileSync(resolve(resultsDir, 'base.json'), 'utf8')) as {
      test: { accuracy: number; nll: number };
      testReal: { accuracy: number; nll: number };
      val: { accuracy: number };
    })
  : undefined;
if (base) {
  out.push(
    `Base model without fine-tuning: test accuracy ${(100 * base.test.accuracy).toFixed(1)} %, held-out real names ` +
      `${(100 * base.testReal.accuracy).toFixed(1)} %, test answer NLL ${base.test.nll.toFixed(2)} nats.`,
    '',
  );
}

// 1. LR sweep
out.push(`### Learning-rate sweep (validation accuracy, %, seed ${sweepSeed}; chosen LR in bold)`, '');
const lrs = [...new Set(runs.filter((r) => r.seed === sweepSeed).map((r) => r.lr))].sort((a, b) => a - b);
out.push(`| method | budget | ${lrs.map((l) => l.toExponential(0)).join(' | ')} |`);
out.push(`|---|---|${lrs.map(() => '---').join('|')}|`);
for (const { method, budget } of ordered) {
  const ch = chosen(method, budget);
  const cells = lrs.map((lr) => {
    const r = runs.find((x) => x.method === method && x.budget === budget && x.lr === lr && x.seed === sweepSeed);
    if (!r) return '';
    const v = r.error ? 'diverged' : (100 * r.valAccuracy).toFixed(1);
    return ch && ch[0] === lr ? `**${v}**` : v;
  });
  out.push(`| ${LABEL[method]} | ${budgetLabel(method, budget)} | ${cells.join(' | ')} |`);
}
out.push('');

// 2. Main table
out.push('### Test results at the chosen learning rate (mean ± std over seeds)', '');
out.push(
  '| method | budget | trainable params | LR | seeds | test acc % (made-up names) | test acc % (real names) | test answer NLL | final train loss | s/step | s/warm-up step |',
);
out.push('|---|---|---|---|---|---|---|---|---|---|---|');
const summary: {
  method: string;
  budget: number;
  params: number;
  acc: number[];
  losses: number[][];
}[] = [];
for (const { method, budget } of ordered) {
  const ch = chosen(method, budget);
  if (!ch) continue;
  const [lr, rs] = ch;
  const ok = rs.filter((r) => !r.error);
  const tail = (r: RunRecord) => mean(r.losses.slice(-10));
  summary.push({
    method,
    budget,
    params: ok[0]?.trainableParameters ?? 0,
    acc: rs.map((r) => r.testAccuracy),
    losses: ok.map((r) => r.losses),
  });
  out.push(
    `| ${LABEL[method]} | ${budgetLabel(method, budget)} | ${ok[0]?.trainableParameters.toLocaleString('en-US') ?? '–'} | ${lr.toExponential(0)} | ${rs.length}${rs.length > ok.length ? ` (${rs.length - ok.length} diverged)` : ''} | ` +
      `${pct(rs.map((r) => r.testAccuracy))} | ${pct(rs.map((r) => r.testRealAccuracy))} | ${pm(
        ok.map((r) => r.testNll),
        2,
      )} | ` +
      `${pm(ok.map(tail))} | ${pm(ok.map((r) => r.secondsPerStep))} | ${ok[0]?.secondsPerWarmupStep !== undefined ? pm(ok.map((r) => r.secondsPerWarmupStep!)) : '–'} |`,
  );
}
out.push('');
const warmLrs = [...new Set(runs.filter((r) => r.warmupLr !== undefined).map((r) => r.warmupLr!))];
if (warmLrs.length) {
  out.push(
    `LoRA after full-FT warm-up: the warm-up is SMT's (first ${runs.find((r) => r.warmupLr !== undefined)!.protocol.warmupSteps} steps, ` +
      `full fine-tuning with the LR ramping to SMT's chosen LR ${warmLrs.map((x) => x.toExponential(0)).join(', ')}); the LR column is LoRA's.`,
    '',
  );
}

// 3. SMT vs LoRA/DoRA at equal budgets
out.push('### SMT against LoRA and DoRA at equal budgets (test accuracy %, difference of means)', '');
out.push(
  '| budget (params) | SMT | LoRA | DoRA | SMT − LoRA | SMT − DoRA | SMT random | SMT − random | SMT grad-only warm-up | LoRA after full-FT warm-up | SMT − (LoRA after warm-up) |',
);
out.push('|---|---|---|---|---|---|---|---|---|---|---|');
const budgets = [...new Set(summary.filter((s) => s.method !== 'full').map((s) => s.budget))].sort((a, b) => a - b);
const get = (m: string, b: number) => summary.find((s) => s.method === m && s.budget === b);
const diff = (a?: { acc: number[] }, b?: { acc: number[] }) =>
  a && b && a.acc.length && b.acc.length ? (100 * (mean(a.acc) - mean(b.acc))).toFixed(1) : '–';
for (const b of budgets) {
  const s = get('smt', b);
  out.push(
    `| r=${b} / ${Math.round((1600 * b) / 64)} blocks (${(1600 * b).toLocaleString('en-US')}) | ${s ? pct(s.acc) : '–'} | ${get('lora', b) ? pct(get('lora', b)!.acc) : '–'} | ` +
      `${get('dora', b) ? pct(get('dora', b)!.acc) : '–'} | ${diff(s, get('lora', b))} | ${diff(s, get('dora', b))} | ` +
      `${get('smt-random', b) ? pct(get('smt-random', b)!.acc) : '–'} | ${diff(s, get('smt-random', b))} | ` +
      `${get('smt-gradonly', b) ? pct(get('smt-gradonly', b)!.acc) : '–'} | ` +
      `${get('lora-ftwarm', b) ? pct(get('lora-ftwarm', b)!.acc) : '–'} | ${diff(s, get('lora-ftwarm', b))} |`,
  );
}
out.push('');

// 4. Q/K/V split
out.push("### Where SMT put its blocks (gradient selection, mean over the final runs' seeds)", '');
out.push(
  'Q has 64 blocks of 8×8 per layer, K and V 32 each (GQA), so a uniform pick would put 50 % in Q and 25 % each in K and V.',
  '',
);
out.push('| budget | strategy | blocks in Q | in K | in V | share Q / K / V | V blocks per layer (0…4) |');
out.push('|---|---|---|---|---|---|---|');
for (const method of ['smt', 'smt-gradonly', 'smt-random']) {
  for (const b of budgets) {
    const ch = chosen(method, b);
    if (!ch) continue;
    const rs = ch[1].filter((r) => r.smt);
    if (!rs.length) continue;
    const tot = (m: string) => mean(rs.map((r) => (r.smt!.blocksPerMatrix[m] ?? []).reduce((a, c) => a + c, 0)));
    const q = tot('wq');
    const k = tot('wk');
    const v = tot('wv');
    const all = q + k + v;
    const perLayer = [0, 1, 2, 3, 4].map((l) => mean(rs.map((r) => r.smt!.blocksPerMatrix.wv?.[l] ?? 0)).toFixed(1));
    out.push(
      `| ${Math.round((1600 * b) / 64)} | ${method === 'smt-random' ? 'random' : method === 'smt' ? 'gradient' : 'gradient (grad-only warm-up)'} | ${q.toFixed(1)} | ${k.toFixed(1)} | ${v.toFixed(1)} | ` +
        `${((100 * q) / all).toFixed(0)} / ${((100 * k) / all).toFixed(0)} / ${((100 * v) / all).toFixed(0)} % | ${perLayer.join(', ')} |`,
    );
  }
}
out.push('');

// 5. Memory
const memFile = resolve(resultsDir, 'memory.json');
if (existsSync(memFile)) {
  type Bytes = {
    weights: number;
    gradients: number;
    optimizerState: number;
    activations: number;
    other: number;
    total: number;
  };
  const mem = JSON.parse(readFileSync(memFile, 'utf8')) as {
    settings: { id: string; label: string; sequences: number; tokens: number }[];
    taskLengths: { min: number; max: number; mean: number };
    rows: {
      model: string;
      parameters: number;
      setting: string;
      checkpointing: string;
      method: string;
      trainableParameters: number;
      accounted: Bytes;
      activationParts: { stored: number; recomputedLayer: number; head: number };
      warmup?: Bytes;
      measuredPeak: { arrayBuffers: number };
      baselineArrayBuffers?: number;
    }[];
  };
  const MiB = (b: number) => (b / 2 ** 20).toFixed(2);
  const share = (a: number, b: number) => `${((100 * a) / b).toFixed(1)} %`;
  const reference = (r: (typeof mem.rows)[number]) =>
    mem.rows.find(
      (x) =>
        x.model === r.model && x.setting === r.setting && x.checkpointing === r.checkpointing && x.method === 'full',
    )!;
  const verdicts: string[] = [];
  for (const setting of mem.settings) {
    out.push(`### Accounted training state: ${setting.label}`, '');
    out.push(
      '| model | checkpointing | method | trainable | weights | grads | Adam m+v | activations: stored / recomputed layer / head | activations (peak) | total MiB | total / FT | w/o activations / FT | warm-up total MiB | warm-up / FT | measured ArrayBuffers MiB: peak (baseline) |',
    );
    out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of mem.rows.filter((x) => x.setting === setting.id)) {
      const ft = reference(r);
      const a = r.accounted;
      const p = r.activationParts;
      const noAct = (x: Bytes) => x.total - x.activations;
      out.push(
        `| ${r.model} (${r.parameters.toLocaleString('en-US')}) | ${r.checkpointing} | ${r.method} | ${r.trainableParameters.toLocaleString('en-US')} | ` +
          `${MiB(a.weights)} | ${MiB(a.gradients)} | ${MiB(a.optimizerState)} | ${MiB(p.stored)} / ${MiB(p.recomputedLayer)} / ${MiB(p.head)} | ` +
          `${MiB(a.activations)} | ${MiB(a.total)} | ${share(a.total, ft.accounted.total)} | ${share(noAct(a), noAct(ft.accounted))} | ` +
          `${r.warmup ? MiB(r.warmup.total) : '–'} | ${r.warmup ? share(r.warmup.total, ft.accounted.total) : '–'} | ${MiB(r.measuredPeak.arrayBuffers)}${r.baselineArrayBuffers !== undefined ? ` (${MiB(r.baselineArrayBuffers)})` : ''} |`,
      );
      if (r.method.startsWith('smt') && r.method.includes('full-ft')) {
        const gradOnly = mem.rows.find(
          (x) =>
            x.model === r.model &&
            x.setting === r.setting &&
            x.checkpointing === r.checkpointing &&
            x.method.startsWith('smt') &&
            x.method.includes('gradient-only'),
        );
        const ratio = a.total / ft.accounted.total;
        verdicts.push(
          `| ${r.model} | ${setting.label} | ${r.checkpointing} | ${share(a.total, ft.accounted.total)} | ${ratio <= 0.35 ? '**yes**' : 'no'} | ` +
            `${r.warmup ? share(Math.max(a.total, r.warmup.total), ft.accounted.total) : '–'} | ` +
            `${gradOnly?.warmup ? share(Math.max(gradOnly.accounted.total, gradOnly.warmup.total), ft.accounted.total) : '–'} |`,
        );
      }
    }
    out.push('');
  }
  out.push('### SMT ≤ 35 % of full fine-tuning? (same model, tokens and checkpointing for both)', '');
  out.push(
    '| model | tokens per step | checkpointing | SMT sparse phase / FT | ≤ 35 % | whole run incl. full-FT warm-up / FT | whole run incl. gradient-only warm-up / FT |',
  );
  out.push('|---|---|---|---|---|---|---|');
  out.push(...verdicts, '');
  out.push(
    `Story-QA training sequences: ${mem.taskLengths.min}–${mem.taskLengths.max} tokens, mean ${mem.taskLengths.mean.toFixed(1)}.`,
    '',
  );
}

const text = out.join('\n');
writeFileSync(resolve(resultsDir, `tables${suffix}.md`), `${text}\n`);
console.log(text);

// ---------------------------------------------------------------------------------------------------------------
// SVG plots (hand-written)

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
interface Series {
  label: string;
  color: string;
  points: { x: number; y: number; err?: number }[];
  dashed?: boolean;
  markers?: boolean;
}
function panel(
  x0: number,
  y0: number,
  w: number,
  h: number,
  title: string,
  series: Series[],
  opts: { logX?: boolean; xLabel: string; yLabel: string; yMin?: number; yMax?: number },
): string {
  const pts = series.flatMap((s) => s.points);
  const tx = (v: number) => (opts.logX ? Math.log10(v) : v);
  const xs = pts.map((p) => tx(p.x));
  let xMin = Math.min(...xs);
  let xMax = Math.max(...xs);
  if (opts.logX) {
    xMin = Math.floor(xMin * 2) / 2;
    xMax = Math.ceil(xMax * 2) / 2;
  }
  const yMin = opts.yMin ?? Math.min(...pts.map((p) => p.y - (p.err ?? 0)));
  const yMax = opts.yMax ?? Math.max(...pts.map((p) => p.y + (p.err ?? 0)));
  const L = 55;
  const B = 40;
  const pw = w - L - 10;
  const ph = h - B - 25;
  const sx = (v: number) => x0 + L + ((tx(v) - xMin) / (xMax - xMin || 1)) * pw;
  const sy = (v: number) => y0 + 25 + ph - ((Math.min(yMax, Math.max(yMin, v)) - yMin) / (yMax - yMin || 1)) * ph;
  const g: string[] = [];
  g.push(
    `<text x="${x0 + L + pw / 2}" y="${y0 + 15}" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`,
  );
  g.push(`<rect x="${x0 + L}" y="${y0 + 25}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  for (let i = 0; i <= 4; i++) {
    const v = yMin + ((yMax - yMin) * i) / 4;
    const y = sy(v);
    g.push(`<line x1="${x0 + L}" x2="${x0 + L + pw}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    g.push(
      `<text x="${x0 + L - 5}" y="${y + 4}" text-anchor="end" font-size="10">${Math.abs(yMax - yMin) < 2 ? v.toFixed(2) : Math.abs(yMax - yMin) < 20 ? v.toFixed(1) : v.toFixed(0)}</text>`,
    );
  }
  if (opts.logX) {
    for (let e = Math.ceil(xMin); e <= xMax; e++) {
      const x = x0 + L + ((e - xMin) / (xMax - xMin)) * pw;
      g.push(`<line x1="${x}" x2="${x}" y1="${y0 + 25}" y2="${y0 + 25 + ph}" stroke="#eee"/>`);
      g.push(`<text x="${x}" y="${y0 + 25 + ph + 14}" text-anchor="middle" font-size="10">1e${e}</text>`);
    }
  } else {
    for (let i = 0; i <= 4; i++) {
      const v = xMin + ((xMax - xMin) * i) / 4;
      g.push(`<text x="${sx(v)}" y="${y0 + 25 + ph + 14}" text-anchor="middle" font-size="10">${v.toFixed(0)}</text>`);
    }
  }
  g.push(
    `<text x="${x0 + L + pw / 2}" y="${y0 + h - 6}" text-anchor="middle" font-size="11">${esc(opts.xLabel)}</text>`,
  );
  g.push(
    `<text x="${x0 + 14}" y="${y0 + 25 + ph / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 ${x0 + 14} ${y0 + 25 + ph / 2})">${esc(opts.yLabel)}</text>`,
  );
  for (const s of series) {
    const path = s.points.map((p, i) => `${i ? 'L' : 'M'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
    g.push(
      `<path d="${path}" fill="none" stroke="${s.color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="5,3"' : ''}/>`,
    );
    if (s.markers) {
      for (const p of s.points) {
        if (p.err) {
          g.push(
            `<line x1="${sx(p.x)}" x2="${sx(p.x)}" y1="${sy(p.y - p.err)}" y2="${sy(p.y + p.err)}" stroke="${s.color}"/>`,
          );
        }
        g.push(`<circle cx="${sx(p.x)}" cy="${sy(p.y)}" r="3.5" fill="${s.color}"/>`);
      }
    }
  }
  return g.join('\n');
}
function legend(x0: number, y0: number, series: Series[], dx = 0, dy = 16): string {
  return series
    .map((s, i) => {
      const x = x0 + i * dx;
      const y = y0 + i * dy;
      return (
        `<line x1="${x}" x2="${x + 22}" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,3"' : ''}/>` +
        `<text x="${x + 28}" y="${y + 4}" font-size="11">${esc(s.label)}</text>`
      );
    })
    .join('\n');
}
const svg = (w: number, h: number, title: string, body: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" role="img">\n<title>${esc(title)}</title>\n<rect width="${w}" height="${h}" fill="white"/>\n${body}\n</svg>\n`;

// Loss curves: one panel per budget; FT in each panel for reference; smoothed with a 10-step moving mean.
const smooth = (xs: number[], k = 10) => xs.map((_, i) => mean(xs.slice(Math.max(0, i - k + 1), i + 1)));
const meanCurve = (curves: number[][]) => {
  const n = Math.min(...curves.map((c) => c.length));
  return Array.from({ length: n }, (_, i) => mean(curves.map((c) => c[i]!)));
};
const lossPanels: string[] = [];
const W = 360;
let legendSeries: Series[] = [];
budgets.forEach((b, i) => {
  const series: Series[] = [];
  for (const m of METHODS) {
    const s = m === 'full' ? summary.find((x) => x.method === 'full') : get(m, b);
    if (!s?.losses.length) continue;
    const curve = smooth(meanCurve(s.losses));
    series.push({
      label: LABEL[m]!,
      color: COLOR[m]!,
      dashed: m === 'smt-random' || m === 'smt-gradonly' || m === 'lora-ftwarm' || m === 'full',
      points: curve.map((y, j) => ({ x: j + 1, y })),
    });
  }
  if (series.length > legendSeries.length) legendSeries = series;
  lossPanels.push(
    panel(
      i * W,
      0,
      W,
      300,
      `budget ${(1600 * b).toLocaleString('en-US')} params (r=${b}, ${Math.round((1600 * b) / 64)} blocks)`,
      series,
      {
        xLabel: 'step',
        yLabel: 'train loss (10-step mean, cut at 5)',
        yMin: 0,
        yMax: 5,
      },
    ),
  );
});
writeFileSync(
  resolve(here, `loss-curves${suffix}.svg`),
  svg(
    W * Math.max(1, budgets.length),
    355,
    'SMT experiment: training loss per step by method and budget',
    `${lossPanels.join('\n')}\n${legend(60, 318, legendSeries.slice(0, 4), 175, 0)}\n` +
      `${legend(60, 338, legendSeries.slice(4), 175, 0)}`,
  ),
);

// Accuracy vs trainable parameters.
const accSeries: Series[] = [];
for (const m of ['lora', 'dora', 'smt', 'smt-random', 'smt-gradonly', 'lora-ftwarm'] as const) {
  const pts = summary
    .filter((s) => s.method === m && s.acc.length)
    .sort((a, b) => a.params - b.params)
    .map((s) => ({ x: s.params || 1600 * s.budget, y: 100 * mean(s.acc), err: 100 * std(s.acc) }));
  if (pts.length)
    accSeries.push({
      label: LABEL[m]!,
      color: COLOR[m]!,
      points: pts,
      markers: true,
      dashed: m === 'smt-random' || m === 'smt-gradonly' || m === 'lora-ftwarm',
    });
}
const ft = summary.find((s) => s.method === 'full');
if (ft) {
  accSeries.push({
    label: `FT (${ft.params.toLocaleString('en-US')} params)`,
    color: COLOR.full!,
    markers: true,
    points: [{ x: ft.params, y: 100 * mean(ft.acc), err: 100 * std(ft.acc) }],
  });
}
writeFileSync(
  resolve(here, `accuracy-vs-params${suffix}.svg`),
  svg(
    620,
    400,
    'SMT experiment: test accuracy against trainable parameters',
    `${panel(0, 0, 460, 400, 'Test accuracy vs trainable parameters (mean ± std over seeds)', accSeries, {
      logX: true,
      xLabel: 'trainable parameters (log scale)',
      yLabel: 'test exact match, %',
      yMin: 0,
    })}\n${legend(470, 60, accSeries)}`,
  ),
);
console.log(`\nwrote tables${suffix}.md, loss-curves${suffix}.svg, accuracy-vs-params${suffix}.svg`);
