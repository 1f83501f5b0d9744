/**
 * Search efficiency of dspy-ts's optimizers at equal LM-call budgets, on the simulated ticket-routing world of
 * `world.ts` (no real LM). For every seed, budget and optimizer: a fresh task instance and fresh counting LMs, the
 * optimizer configured so that its projected spend is about the budget, one compile, then the returned program's
 * expected accuracy on the validation set and on a held-out test set (computed exactly from the world's model, not
 * sampled, and not counted as calls). See README.md.
 *
 *   tsx --conditions=@dspy-ts/source optimizers/search-efficiency.ts --seeds 5 --budgets 250,500,1000,2000
 */
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { configure, type Module, Predict } from '@dspy-ts/core';
import { BootstrapFewShotWithRandomSearch, COPRO, GEPA, MIPROv2, SIMBA } from '@dspy-ts/optimizers';
import { renderSvg } from './plot.ts';
import {
  describeProgram,
  exactMatch,
  expectedAccuracy,
  feedbackMetric,
  makeTask,
  overrideWorld,
  type Task,
  WORLD,
  WorldLM,
} from './world.ts';

const here = dirname(fileURLToPath(import.meta.url));

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '5' },
    budgets: { type: 'string', default: '250,500,1000,2000' },
    optimizers: { type: 'string', default: 'random-search,copro,mipro,simba,gepa,gepa-score-only' },
    out: { type: 'string', default: join(here, 'RESULTS.md') },
    svg: { type: 'string', default: join(here, 'search-efficiency.svg') },
    json: { type: 'string', default: join(here, 'results.json') },
    world: { type: 'string', default: '' },
    quiet: { type: 'boolean', default: false },
  },
});
const seeds = Array.from({ length: Number(args.seeds) }, (_, i) => i);
const budgets = String(args.budgets).split(',').map(Number);
const wanted = String(args.optimizers).split(',');
const worldOverrides = overrideWorld(String(args.world));

// GEPA is optional: it is used when its module exists.
const gepaModule = { GEPA };

interface Plan {
  settings: string;
  compile: (student: Predict) => Promise<Module<any, any, any>>;
}

interface OptimizerSpec {
  id: string;
  label: string;
  /** The setting that scales the spend, searched in [lo, hi]. */
  range: (budget: number) => [number, number];
  plan: (task: Task, budget: number, k: number, lms: { task: WorldLM; prompt: WorldLM }) => Plan | undefined;
}

const student = () => new Predict('ticket -> queue');
const noProgress = { displayProgress: false } as const;

const SPECS: OptimizerSpec[] = [
  {
    id: 'random-search',
    label: 'BootstrapRS (random search)',
    range: (budget) => [0, Math.ceil(budget / 40)],
    plan: (task, _budget, n) => {
      // DSPy's defaults: up to 4 bootstrapped demos, 16 demos in all.
      const optimizer = new BootstrapFewShotWithRandomSearch({ metric: exactMatch, numCandidatePrograms: n });
      return {
        settings: `numCandidatePrograms=${n} (+3 fixed candidates), maxBootstrappedDemos=4, maxLabeledDemos=16`,
        compile: (s) => optimizer.compile(s, { trainset: task.trainset, valset: task.valset, ...noProgress }),
      };
    },
  },
  {
    id: 'copro',
    label: 'COPRO',
    range: (budget) => [2, Math.ceil(budget / 40) + 1],
    plan: (task, budget, breadth, lms) => {
      // COPRO proposes without seeing data and scores on its "trainset": it gets the validation set to score on.
      const depth = Math.min(5, Math.max(1, Math.round(budget / 500) + 1));
      const optimizer = new COPRO({ metric: exactMatch, promptModel: lms.prompt, breadth, depth });
      return {
        settings: `breadth=${breadth}, depth=${depth}, scored on the valset`,
        compile: (s) => optimizer.compile(s, { trainset: task.valset, ...noProgress }),
      };
    },
  },
  {
    id: 'mipro',
    label: 'MIPROv2',
    range: (budget) => [1, Math.ceil(budget / 20)],
    plan: (task, budget, numTrials, lms) => {
      const numCandidates = Math.min(12, Math.max(4, Math.round(budget / 150)));
      // DSPy's defaults: up to 4 bootstrapped and 4 labeled demos per demo set.
      const optimizer = new MIPROv2({
        metric: exactMatch,
        promptModel: lms.prompt,
        taskModel: lms.task,
        auto: null,
        numCandidates,
        seed: task.seed,
      });
      return {
        settings: `numCandidates=${numCandidates}, numTrials=${numTrials}, minibatchSize=20`,
        compile: (s) =>
          optimizer.compile(s, {
            trainset: task.trainset,
            valset: task.valset,
            numTrials,
            minibatchSize: 20,
            ...noProgress,
          }),
      };
    },
  },
  {
    id: 'simba',
    label: 'SIMBA',
    range: (budget) => [1, Math.ceil(budget / 60)],
    plan: (task, _budget, maxSteps, lms) => {
      // SIMBA has no valset: it learns from and selects on its trainset, so it gets train + val.
      const trainset = [...task.trainset, ...task.valset];
      const optimizer = new SIMBA({
        metric: feedbackMetric,
        promptModel: lms.prompt,
        bsize: 10,
        numCandidates: 3,
        maxDemos: 4,
        maxSteps,
      });
      return {
        settings: `maxSteps=${maxSteps}, bsize=10, numCandidates=3, maxDemos=4, trainset = train + val`,
        compile: (s) => optimizer.compile(s, { trainset, seed: task.seed, ...noProgress }),
      };
    },
  },
  ...(['gepa', 'gepa-score-only'] as const).map(
    (id): OptimizerSpec => ({
      id,
      label: id === 'gepa' ? 'GEPA' : 'GEPA (score-only metric)',
      range: (budget) => [Math.min(budget, Math.max(46, Math.floor(budget * 0.6))), budget],
      plan: (task, _budget, maxMetricCalls, lms) => {
        if (!gepaModule) return undefined;
        const optimizer = new gepaModule.GEPA({
          metric: id === 'gepa' ? feedbackMetric : (example, prediction) => (exactMatch(example, prediction) ? 1 : 0),
          reflectionLM: lms.prompt,
          maxMetricCalls,
          seed: task.seed,
        });
        return {
          settings: `maxMetricCalls=${maxMetricCalls}, reflectionMinibatchSize=3, merge on`,
          compile: (s) => optimizer.compile(s, { trainset: task.trainset, valset: task.valset, ...noProgress }),
        };
      },
    }),
  ),
];

interface RunResult {
  program: Module<any, any, any>;
  settings: string;
  taskCalls: number;
  promptCalls: number;
  ms: number;
  warnings: number;
}

/** One compile with fresh counting LMs. */
async function runOnce(spec: OptimizerSpec, task: Task, budget: number, k: number): Promise<RunResult | undefined> {
  const lms = { task: new WorldLM(task, 'task'), prompt: new WorldLM(task, 'prompt') };
  configure({ lm: lms.task });
  const plan = spec.plan(task, budget, k, lms);
  if (!plan) return undefined;
  let warnings = 0;
  const { warn, error } = console;
  console.warn = () => void warnings++;
  console.error = () => void warnings++;
  const t0 = performance.now();
  try {
    const program = await plan.compile(student());
    return {
      program,
      settings: plan.settings,
      taskCalls: lms.task.counter.calls,
      promptCalls: lms.prompt.counter.calls,
      ms: performance.now() - t0,
      warnings,
    };
  } finally {
    console.warn = warn;
    console.error = error;
  }
}

/**
 * The run with the largest setting whose actual spend fits the budget (binary search over the setting; only the
 * spend is looked at, never a score). Falls back to the smallest setting, flagged, when even that overspends.
 */
async function fitBudget(spec: OptimizerSpec, task: Task, budget: number) {
  let [lo, hi] = spec.range(budget);
  const smallest = lo;
  let best: (RunResult & { k: number }) | undefined;
  let probes = 0;
  while (lo <= hi) {
    const k = Math.floor((lo + hi) / 2);
    const run = await runOnce(spec, task, budget, k);
    probes++;
    if (!run) return undefined;
    if (run.taskCalls + run.promptCalls <= budget) {
      if (!best || k > best.k) best = { ...run, k };
      lo = k + 1;
    } else hi = k - 1;
  }
  if (best) return { ...best, overBudget: false, probes };
  const run = await runOnce(spec, task, budget, smallest);
  return run ? { ...run, k: smallest, overBudget: true, probes: probes + 1 } : undefined;
}

export interface Row {
  optimizer: string;
  seed: number;
  budget: number;
  calls: number;
  taskCalls: number;
  promptCalls: number;
  overBudget: boolean;
  val: number;
  test: number;
  rightRules: number;
  wrongRules: number;
  format: boolean;
  demos: number;
  demoTopics: number;
  settings: string;
  ms: number;
  probes: number;
  warnings: number;
}

const specs = SPECS.filter((s) => wanted.includes(s.id));
const rows: Row[] = [];
const started = Date.now();
const log = (text: string) => {
  if (!args.quiet) process.stderr.write(`${text}\n`);
};

for (const seed of seeds) {
  const task = makeTask(seed);
  for (const spec of specs) {
    for (const budget of budgets) {
      const run = await fitBudget(spec, task, budget);
      if (!run) continue;
      const row: Row = {
        optimizer: spec.id,
        seed,
        budget,
        calls: run.taskCalls + run.promptCalls,
        taskCalls: run.taskCalls,
        promptCalls: run.promptCalls,
        overBudget: run.overBudget,
        val: expectedAccuracy(task, run.program, task.valset),
        test: expectedAccuracy(task, run.program, task.testset),
        ...describeProgram(task, run.program),
        settings: run.settings,
        ms: run.ms,
        probes: run.probes,
        warnings: run.warnings,
      };
      rows.push(row);
      log(
        `seed ${seed} ${spec.id.padEnd(16)} budget ${String(budget).padStart(5)}: ${String(row.calls).padStart(5)} calls ` +
          `(${row.promptCalls} prompt)${row.overBudget ? ' OVER' : ''}, val ${row.val.toFixed(1)}, test ${row.test.toFixed(1)}, ` +
          `${row.rightRules}/${row.wrongRules} rules, fmt ${row.format ? 'y' : 'n'}, ${row.demos} demos / ${row.demoTopics} topics, ` +
          `${(run.ms / 1000).toFixed(1)} s × ${run.probes} probes`,
      );
    }
  }
}
const elapsed = (Date.now() - started) / 1000;

// ---------------------------------------------------------------------------------------------------------------
// Report

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]) => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
};
const f1 = (x: number) => x.toFixed(1);
const select = (optimizer: string, budget: number) =>
  rows.filter((r) => r.optimizer === optimizer && r.budget === budget).sort((a, b) => a.seed - b.seed);
const labels = Object.fromEntries(SPECS.map((s) => [s.id, s.label]));
const present = specs.filter((s) => rows.some((r) => r.optimizer === s.id));

export interface Series {
  id: string;
  label: string;
  points: { calls: number; mean: number; std: number }[];
}
const series: Series[] = present.map((s) => ({
  id: s.id,
  label: s.label,
  points: budgets
    .map((b) => select(s.id, b))
    .filter((rs) => rs.length > 0)
    .map((rs) => ({
      calls: mean(rs.map((r) => r.calls)),
      mean: mean(rs.map((r) => r.test)),
      std: std(rs.map((r) => r.test)),
    })),
}));

const lines: string[] = [];
const cpu = cpus()[0]?.model ?? 'unknown CPU';
const command =
  `tsx --conditions=@dspy-ts/source optimizers/search-efficiency.ts ${process.argv.slice(2).join(' ')}`.trim();
lines.push('# Optimizer search efficiency — results', '');
lines.push(
  `Measured by \`bench/optimizers/search-efficiency.ts\` (see [README.md](./README.md)) on the simulated ` +
    'ticket-routing world: no real LM, a scripted one whose accuracy is a known function of the prompt. Scores are ' +
    "the returned program's **expected accuracy** (%), computed exactly from the world's model: on the 40-example " +
    'validation set the optimizers select on ("val") and on a 300-example held-out test set ("test"). Calls are ' +
    'every `generate` call to the task and prompt models, counted by the scripted LM.',
  '',
);
lines.push('## Run', '');
lines.push('```sh', 'export PATH=/work/main/node_modules/.bin:$PATH', 'cd /work/main/bench', command, '```', '');
lines.push(
  `- Date: ${new Date().toISOString()}; wall time ${f1(elapsed)} s for ${rows.length} compiles.`,
  `- Machine: ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM (shared with other jobs); Node ${process.version}.`,
  `- Seeds ${seeds.join(', ')} (each seed is a different task instance: new queue codes, tickets and splits), budgets ${budgets.join(', ')} LM calls.`,
  `- World parameters: ${
    Object.keys(worldOverrides).length === 0
      ? 'the defaults of `world.ts`'
      : `the defaults of \`world.ts\` except ${Object.entries(worldOverrides)
          .map(([k, v]) => `\`${k}=${v}\``)
          .join(', ')}`
  }.`,
  '- GEPA: included.',
  '',
);

// Summary sentences, computed from the rows.
const pairedDiffs = (id: string, b: number) =>
  select(id, b)
    .map((r) => {
      const ref = select('random-search', b).find((x) => x.seed === r.seed);
      return ref ? r.test - ref.test : undefined;
    })
    .filter((d): d is number => d !== undefined);
lines.push('## Summary', '');
for (const id of ['mipro', 'gepa']) {
  if (!present.some((p) => p.id === id) || !present.some((p) => p.id === 'random-search')) continue;
  const parts = budgets
    .map((b) => {
      const d = pairedDiffs(id, b);
      if (d.length === 0) return undefined;
      return `${mean(d) >= 0 ? '+' : ''}${f1(mean(d))} ± ${f1(std(d))} points at ${b} calls (better on ${d.filter((x) => x > 0).length}/${d.length} seeds)`;
    })
    .filter(Boolean);
  lines.push(`- **${labels[id]} vs random search** (held-out test accuracy, paired by seed): ${parts.join('; ')}.`);
}
for (const b of budgets) {
  const ranked = present
    .map((s) => ({ label: s.label, m: mean(select(s.id, b).map((r) => r.test)) }))
    .filter((x) => !Number.isNaN(x.m))
    .sort((a, b2) => b2.m - a.m);
  lines.push(`- Budget ${b}: ${ranked.map((x) => `${x.label} ${f1(x.m)}`).join(', ')}.`);
}
const over = rows.filter((r) => r.overBudget);
if (over.length > 0) {
  lines.push(
    `- Over budget (even the smallest setting spent more than the budget): ${[...new Set(over.map((r) => `${labels[r.optimizer]} at ${r.budget}`))].join(', ')}.`,
  );
}
lines.push('');

lines.push('## Held-out test accuracy at equal budgets (mean ± std over seeds)', '');
lines.push(`| optimizer | ${budgets.map((b) => `budget ${b}`).join(' | ')} |`);
lines.push(`|---|${budgets.map(() => '---:').join('|')}|`);
for (const s of present) {
  const cells = budgets.map((b) => {
    const rs = select(s.id, b);
    if (rs.length === 0) return '—';
    const t = rs.map((r) => r.test);
    return `**${f1(mean(t))}** ± ${f1(std(t))} <br>(${Math.round(mean(rs.map((r) => r.calls)))} calls)`;
  });
  lines.push(`| ${s.label} | ${cells.join(' | ')} |`);
}
lines.push('');
lines.push(
  `Reference points (same world): the unoptimized program scores ${f1(
    mean(seeds.map((seed) => expectedAccuracy(makeTask(seed), student(), makeTask(seed).testset))),
  )}; every right rule and the format phrase without demos would score ${f1(
    100 * WORLD.pKnowRule * WORLD.pFormatRule,
  )}; demos of every topic without rules ${f1(100 * WORLD.pKnowDemo * WORLD.pFormatDemos)}; both ${f1(
    100 * WORLD.pKnowBoth * WORLD.pFormatBoth,
  )}.`,
  '',
);

lines.push('## Validation accuracy of the returned program (mean ± std)', '');
lines.push(`| optimizer | ${budgets.map((b) => `budget ${b}`).join(' | ')} |`);
lines.push(`|---|${budgets.map(() => '---:').join('|')}|`);
for (const s of present) {
  const cells = budgets.map((b) => {
    const v = select(s.id, b).map((r) => r.val);
    return v.length === 0 ? '—' : `${f1(mean(v))} ± ${f1(std(v))}`;
  });
  lines.push(`| ${s.label} | ${cells.join(' | ')} |`);
}
lines.push('');

lines.push('## Against random search, paired by seed (test accuracy, points)', '');
lines.push(
  'Difference to BootstrapRS on the same task instance and budget: mean ± std of the per-seed differences, and on ' +
    'how many seeds the optimizer was strictly better.',
  '',
);
lines.push(`| optimizer | ${budgets.map((b) => `budget ${b}`).join(' | ')} |`);
lines.push(`|---|${budgets.map(() => '---:').join('|')}|`);
for (const s of present.filter((p) => p.id !== 'random-search')) {
  const cells = budgets.map((b) => {
    const base = select('random-search', b);
    const other = select(s.id, b);
    const diffs = other
      .map((r) => {
        const ref = base.find((x) => x.seed === r.seed);
        return ref ? r.test - ref.test : undefined;
      })
      .filter((d): d is number => d !== undefined);
    if (diffs.length === 0) return '—';
    const sign = mean(diffs) >= 0 ? '+' : '';
    return `${sign}${f1(mean(diffs))} ± ${f1(std(diffs))} (${diffs.filter((d) => d > 0).length}/${diffs.length})`;
  });
  lines.push(`| ${s.label} | ${cells.join(' | ')} |`);
}
lines.push('');

lines.push('## Calls actually spent (mean, min–max; prompt-model calls in brackets)', '');
lines.push(`| optimizer | ${budgets.map((b) => `budget ${b}`).join(' | ')} |`);
lines.push(`|---|${budgets.map(() => '---:').join('|')}|`);
for (const s of present) {
  const cells = budgets.map((b) => {
    const rs = select(s.id, b);
    if (rs.length === 0) return '—';
    const c = rs.map((r) => r.calls);
    return `${Math.round(mean(c))} (${Math.min(...c)}–${Math.max(...c)}) [${Math.round(mean(rs.map((r) => r.promptCalls)))}]`;
  });
  lines.push(`| ${s.label} | ${cells.join(' | ')} |`);
}
lines.push('');

lines.push(`## What the returned prompts hold (budget ${budgets.at(-1)}, mean over seeds)`, '');
lines.push(
  `| optimizer | right rules (of ${WORLD.topics.length}) | wrong rules | format phrase | demos | demo topics |`,
);
lines.push('|---|---:|---:|---:|---:|---:|');
for (const s of present) {
  const rs = select(s.id, budgets.at(-1) as number);
  if (rs.length === 0) continue;
  lines.push(
    `| ${s.label} | ${f1(mean(rs.map((r) => r.rightRules)))} | ${f1(mean(rs.map((r) => r.wrongRules)))} | ` +
      `${rs.filter((r) => r.format).length}/${rs.length} | ${f1(mean(rs.map((r) => r.demos)))} | ${f1(mean(rs.map((r) => r.demoTopics)))} |`,
  );
}
lines.push('');

lines.push('## Settings per budget (seed 0)', '');
lines.push('| optimizer | budget | settings |', '|---|---:|---|');
for (const s of present) {
  for (const b of budgets) {
    const r = select(s.id, b)[0];
    if (r) lines.push(`| ${s.label} | ${b} | ${r.settings} |`);
  }
}
lines.push('');
lines.push(
  `Raw per-run rows: [results.json](./results.json). Plot: [search-efficiency.svg](./search-efficiency.svg).`,
  '',
);

writeFileSync(String(args.out), lines.join('\n'));
writeFileSync(String(args.json), `${JSON.stringify({ command, date: new Date().toISOString(), rows }, null, 1)}\n`);
writeFileSync(
  String(args.svg),
  renderSvg(series, {
    title: 'Held-out accuracy of the returned program vs LM calls spent',
    subtitle: `simulated ticket-routing world, mean ± std over ${seeds.length} seeds`,
    baseline: 'random-search',
  }),
);
log(`wrote ${args.out}, ${args.json}, ${args.svg} in ${f1(elapsed)} s`);
