/**
 * Search efficiency of dspy-ts's optimizers at equal LM-call budgets, on the simulated ticket-routing world of
 * `world.ts` (no real LM). For every seed, budget and optimizer: a fresh task instance and fresh counting LMs, the
 * optimizer configured so that its projected spend is about the budget, one compile, then the returned program's
 * expected accuracy on the validation set and on a held-out test set (computed exactly from the world's model, not
 * sampled, and not counted as calls). See README.md.
 *
 *   tsx --conditions=@dspy-ts/source optimizers/search-efficiency.ts --seeds 5 --budgets 250,500,1000,2000
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { configure, Evaluate, type Example, type Module, Predict } from '@dspy-ts/core';
import {
  BootstrapFewShotWithRandomSearch,
  COPRO,
  fullEvalCount,
  GEPA,
  LabeledFewShot,
  MIPROv2,
  type MIPROv2Compiled,
  SeededRandom,
  SIMBA,
} from '@dspy-ts/optimizers';
import { renderSvg } from './plot.ts';
import {
  describeProgram,
  exactMatch,
  expectedAccuracy,
  FORMAT_PHRASE,
  feedbackMetric,
  makeTask,
  overrideWorld,
  rulePhrase,
  type Task,
  topicOf,
  WORLD,
  WorldLM,
} from './world.ts';

const here = dirname(fileURLToPath(import.meta.url));

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '5' },
    budgets: { type: 'string', default: '250,500,1000,2000' },
    optimizers: {
      type: 'string',
      default: 'random-search,copro,mipro,mipro-16,mipro-uniform,simba,gepa,gepa-labeled,gepa-score-only',
    },
    out: { type: 'string', default: join(here, 'RESULTS.md') },
    svg: { type: 'string', default: join(here, 'search-efficiency.svg') },
    json: { type: 'string', default: join(here, 'results.json') },
    'svg-paired': { type: 'string' },
    world: { type: 'string', default: '' },
    compare: { type: 'string', default: '' },
    'report-only': { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});
/** A saved run (the `--json` file). */
interface SavedRun {
  command: string;
  date: string;
  elapsed?: number;
  machine?: string;
  seeds?: number[];
  budgets?: number[];
  world?: Record<string, number>;
  rows: Row[];
}
const saved: SavedRun | undefined = args['report-only']
  ? (JSON.parse(readFileSync(String(args.json), 'utf8')) as SavedRun)
  : undefined;
const seeds = saved
  ? (saved.seeds ?? [...new Set(saved.rows.map((r) => r.seed))].sort((a, b) => a - b))
  : Array.from({ length: Number(args.seeds) }, (_, i) => i);
const budgets = saved
  ? (saved.budgets ?? [...new Set(saved.rows.map((r) => r.budget))].sort((a, b) => a - b))
  : String(args.budgets).split(',').map(Number);
const wanted = saved ? [...new Set(saved.rows.map((r) => r.optimizer))] : String(args.optimizers).split(',');
const worldOverrides = saved
  ? overrideWorld(
      Object.entries(saved.world ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    )
  : overrideWorld(String(args.world));

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
/** Random search's `maxLabeledDemos` (DSPy's default), also the demos `gepa-labeled` starts from. */
const LABELED_K = 16;
const GEPA_LABELS = {
  gepa: 'GEPA',
  'gepa-score-only': 'GEPA (score-only metric)',
  'gepa-labeled': 'GEPA on the labeled few-shot program',
} as const;
const noProgress = { displayProgress: false } as const;

/**
 * `program` with 16 labeled demos from LabeledFewShot (no LM call; k and seed as random search's labeled-only
 * candidate, so the very same demos): `gepa-labeled`'s student, and the demos of the data ceilings in the report.
 */
const withLabeledDemos = (program: Predict, task: Task) =>
  new LabeledFewShot({ k: LABELED_K }).compile(program, { trainset: task.trainset });

/** MIPROv2's candidate count per budget (the trial count is what the budget search scales). */
const miproCandidates = (budget: number) => Math.min(12, Math.max(4, Math.round(budget / 150)));
const MIPRO_MINIBATCH = 20;
const MIPRO_FULL_EVAL_STEPS = 5;

function makeMipro(
  task: Task,
  budget: number,
  lms: { task: WorldLM; prompt: WorldLM },
  maxLabeledDemos?: number,
): MIPROv2 {
  // DSPy's defaults: up to 4 bootstrapped and 4 labeled demos per demo set (`maxLabeledDemos` overrides the latter).
  return new MIPROv2({
    metric: exactMatch,
    promptModel: lms.prompt,
    taskModel: lms.task,
    auto: null,
    numCandidates: miproCandidates(budget),
    seed: task.seed,
    ...(maxLabeledDemos === undefined ? {} : { maxLabeledDemos }),
  });
}

/**
 * The TPE ablation: MIPROv2's own instruction candidates and demo sets (a MIPROv2 compile with no trials makes
 * them, with the same seed and so the same candidates as the MIPROv2 run, and scores the baseline on the valset),
 * then MIPROv2's search protocol with the TPE sampler replaced by uniform sampling: each trial draws an instruction
 * and a demo set uniformly and scores them on a random minibatch; after every `MIPRO_FULL_EVAL_STEPS` trials and
 * after the last, the combination with the best mean minibatch score not yet fully evaluated is scored on the
 * whole valset. Returns the best fully evaluated program (the baseline included), as MIPROv2 does.
 */
async function miproUniform(
  task: Task,
  budget: number,
  numTrials: number,
  lms: { task: WorldLM; prompt: WorldLM },
  program: Predict,
): Promise<Module<any, any, any>> {
  const prepared = (await makeMipro(task, budget, lms).compile(program, {
    trainset: task.trainset,
    valset: task.valset,
    numTrials: 0,
    minibatchSize: MIPRO_MINIBATCH,
    ...noProgress,
  })) as MIPROv2Compiled<Predict>;
  const instructions = prepared.instructionCandidates[0] as string[];
  const demoSets = prepared.demoCandidates?.[0] ?? [[]];
  const quiet = { info() {}, error() {} };
  const score = async (candidate: Predict, devset: readonly Example[]) =>
    (await new Evaluate({ devset, metric: exactMatch, logger: quiet, maxErrors: 1000 }).call(candidate)).score;
  const build = (i: number, d: number) => {
    const candidate = program.deepCopy();
    candidate.signature = candidate.signature.withInstructions(instructions[i] as string);
    candidate.demos = [...(demoSets[d] ?? [])];
    return candidate;
  };
  const rng = new SeededRandom(`uniform:${task.seed}`);
  let best: Module<any, any, any> = prepared;
  let bestScore = prepared.score;
  const minibatchScores = new Map<string, { sum: number; n: number; i: number; d: number }>();
  const fullyEvaluated = new Set<string>();
  const fullEvaluation = async () => {
    const ranked = [...minibatchScores.entries()].sort((a, b) => b[1].sum / b[1].n - a[1].sum / a[1].n);
    const chosen = ranked.find(([key]) => !fullyEvaluated.has(key)) ?? ranked.at(-1);
    if (!chosen) return;
    const [key, { i, d }] = chosen;
    fullyEvaluated.add(key);
    const candidate = build(i, d);
    const full = await score(candidate, task.valset);
    if (full > bestScore) {
      bestScore = full;
      best = candidate;
    }
  };
  for (let k = 1; k <= numTrials; k++) {
    const i = rng.randint(0, instructions.length - 1);
    const d = rng.randint(0, demoSets.length - 1);
    const ids = rng.sample(
      task.valset.map((_, j) => j),
      MIPRO_MINIBATCH,
    );
    const mb = await score(
      build(i, d),
      ids.map((j) => task.valset[j] as Example),
    );
    const key = `${i}/${d}`;
    const entry = minibatchScores.get(key) ?? { sum: 0, n: 0, i, d };
    entry.sum += mb;
    entry.n++;
    minibatchScores.set(key, entry);
    if (k % MIPRO_FULL_EVAL_STEPS === 0 || k === numTrials) await fullEvaluation();
  }
  return best;
}

const SPECS: OptimizerSpec[] = [
  {
    id: 'random-search',
    label: 'BootstrapRS (random search)',
    range: (budget) => [0, Math.ceil(budget / 30)],
    plan: (task, _budget, n) => {
      // DSPy's defaults: up to 4 bootstrapped demos, 16 demos in all.
      const optimizer = new BootstrapFewShotWithRandomSearch({ metric: exactMatch, numCandidatePrograms: n });
      return {
        settings: `numCandidatePrograms=${n} (+3 fixed candidates), maxBootstrappedDemos=4, maxLabeledDemos=${LABELED_K}`,
        compile: (s) => optimizer.compile(s, { trainset: task.trainset, valset: task.valset, ...noProgress }),
      };
    },
  },
  {
    id: 'copro',
    label: 'COPRO',
    range: (budget) => [2, Math.ceil(budget / 30) + 1],
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
  ...(['mipro', 'mipro-16'] as const).map(
    (id): OptimizerSpec => ({
      id,
      // `mipro-16` gets random search's demo settings (16 demos, up to 4 of them bootstrapped) instead of DSPy's
      // MIPROv2 default of 4 + 4, so that the two search the same demo sets and differ in the instructions.
      label: id === 'mipro' ? 'MIPROv2' : `MIPROv2 with ${LABELED_K} labeled demos`,
      range: (budget) => [1, Math.ceil(budget / 4)],
      plan: (task, budget, numTrials, lms) => {
        const optimizer = makeMipro(task, budget, lms, id === 'mipro' ? undefined : LABELED_K);
        return {
          settings:
            `numCandidates=${miproCandidates(budget)}, numTrials=${numTrials}, minibatchSize=${MIPRO_MINIBATCH}` +
            (id === 'mipro' ? '' : `, maxLabeledDemos=${LABELED_K}, maxBootstrappedDemos=4`),
          compile: (s) =>
            optimizer.compile(s, {
              trainset: task.trainset,
              valset: task.valset,
              numTrials,
              minibatchSize: MIPRO_MINIBATCH,
              minibatchFullEvalSteps: MIPRO_FULL_EVAL_STEPS,
              ...noProgress,
            }),
        };
      },
    }),
  ),
  {
    id: 'mipro-uniform',
    label: 'MIPROv2 candidates, uniform search',
    range: (budget) => [1, Math.ceil(budget / 4)],
    plan: (task, budget, numTrials, lms) => ({
      settings:
        `numCandidates=${miproCandidates(budget)}, numTrials=${numTrials}, minibatchSize=${MIPRO_MINIBATCH}, ` +
        `${fullEvalCount(numTrials, MIPRO_FULL_EVAL_STEPS)} full evaluations, uniform sampling instead of TPE`,
      compile: (s) => miproUniform(task, budget, numTrials, lms, s),
    }),
  },
  {
    id: 'simba',
    label: 'SIMBA',
    range: (budget) => [1, Math.ceil(budget / 30)],
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
  ...(['gepa', 'gepa-labeled', 'gepa-score-only'] as const).map(
    (id): OptimizerSpec => ({
      id,
      label: GEPA_LABELS[id],
      // Cache hits make metric calls cheaper than paid calls, so the search goes up to twice the budget.
      range: (budget) => [Math.min(budget, Math.max(46, Math.floor(budget * 0.6))), 2 * budget],
      plan: (task, _budget, maxMetricCalls, lms) => {
        if (!gepaModule) return undefined;
        const optimizer = new gepaModule.GEPA({
          metric:
            id === 'gepa-score-only'
              ? (example, prediction) => (exactMatch(example, prediction) ? 1 : 0)
              : feedbackMetric,
          reflectionLM: lms.prompt,
          maxMetricCalls,
          seed: task.seed,
        });
        const settings = `maxMetricCalls=${maxMetricCalls}, reflectionMinibatchSize=3, merge on`;
        const sets = { trainset: task.trainset, valset: task.valset, ...noProgress };
        if (id !== 'gepa-labeled') return { settings, compile: (s) => optimizer.compile(s, sets) };
        // GEPA rewrites instructions only and keeps the student's demos: the student first gets random search's
        // labeled-only demos, as a user with a labeled trainset would run it.
        return {
          settings: `${settings}; student = LabeledFewShot(k=${LABELED_K}) on the trainset, so it carries ${LABELED_K} labeled demos (0 calls)`,
          compile: async (s) => optimizer.compile(await withLabeledDemos(s, task), sets),
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
  /** Characters sent to both models (all messages of every paid call). */
  promptChars: number;
  /** Requests to both models, cache hits included. */
  requests: number;
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
      promptChars: lms.task.counter.promptChars + lms.prompt.counter.promptChars,
      requests: lms.task.counter.requests + lms.prompt.counter.requests,
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
  /** Input tokens of the paid calls to both models, estimated as characters / 4. */
  inputTokens: number;
  /** Requests to both models, cache hits included. */
  requests: number;
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

const svgPath = String(args.svg);
const pairedSvgPath = args['svg-paired'] ?? svgPath.replace(/(\.svg)?$/, '-paired.svg');
const specs = SPECS.filter((s) => wanted.includes(s.id));
const rows: Row[] = saved ? saved.rows : [];
const started = Date.now();
const log = (text: string) => {
  if (!args.quiet) process.stderr.write(`${text}\n`);
};

for (const seed of saved ? [] : seeds) {
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
        inputTokens: Math.round(run.promptChars / 4),
        requests: run.requests,
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
const elapsed = saved?.elapsed ?? (Date.now() - started) / 1000;
const date = saved?.date ?? new Date().toISOString();
const machine =
  saved?.machine ??
  `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM ` +
    `(shared with other jobs); Node ${process.version}`;

// ---------------------------------------------------------------------------------------------------------------
// Report

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]) => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
};
const f1 = (x: number) => x.toFixed(1);
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${f1(Math.abs(x))}`;
/** Two-sided 95 % quantiles of Student's t for 1…20 degrees of freedom (1.96 beyond). */
const T975 = [
  Number.NaN,
  12.706,
  4.303,
  3.182,
  2.776,
  2.571,
  2.447,
  2.365,
  2.306,
  2.262,
  2.228,
  2.201,
  2.179,
  2.16,
  2.145,
  2.131,
  2.12,
  2.11,
  2.101,
  2.093,
  2.086,
];

interface Paired {
  n: number;
  mean: number;
  std: number;
  better: number;
  lo: number;
  hi: number;
}

/** Per-seed differences of `id` minus `ref` (test accuracy) at one budget, with a 95 % t-interval for the mean. */
function paired(from: readonly Row[], id: string, ref: string, budget: number): Paired | undefined {
  const base = new Map(from.filter((r) => r.optimizer === ref && r.budget === budget).map((r) => [r.seed, r.test]));
  const diffs = from
    .filter((r) => r.optimizer === id && r.budget === budget && base.has(r.seed))
    .map((r) => r.test - (base.get(r.seed) as number));
  if (diffs.length === 0) return undefined;
  const m = mean(diffs);
  const sd = std(diffs);
  const half = diffs.length > 1 ? (T975[diffs.length - 1] ?? 1.96) * (sd / Math.sqrt(diffs.length)) : Number.NaN;
  return { n: diffs.length, mean: m, std: sd, better: diffs.filter((d) => d > 0).length, lo: m - half, hi: m + half };
}

function formatPaired(d: Paired, interval = false): string {
  const ci = interval && d.n > 1 ? `, CI [${signed(d.lo)}, ${signed(d.hi)}]` : '';
  return `${signed(d.mean)} ± ${f1(d.std)}${ci} (${d.better}/${d.n})`;
}

/** "MIPROv2 beats random search at …; is not distinguishable … at …" for one optimizer, or undefined. */
function verdictSentence(from: readonly Row[], id: string, budgetList: readonly number[]): string | undefined {
  const groups = new Map<string, string[]>();
  for (const b of budgetList) {
    const d = paired(from, id, 'random-search', b);
    if (!d) continue;
    const v = verdict(d);
    groups.set(v, [...(groups.get(v) ?? []), `${b} (${signed(d.mean)} ± ${f1(d.std)})`]);
  }
  if (groups.size === 0) return undefined;
  const phrase: Record<string, string> = {
    beats: 'beats random search',
    'loses to': 'loses to random search',
    'not distinguishable': 'is not distinguishable from random search',
  };
  const parts = ['beats', 'not distinguishable', 'loses to']
    .filter((v) => groups.has(v))
    .map((v) => `${phrase[v]} at ${(groups.get(v) as string[]).join(', ')} calls`);
  const label = SPECS.find((sp) => sp.id === id)?.label ?? id;
  return `**${label}** ${parts.join('; ')} (paired differences in points, mean ± std over seeds; 95 % t-interval).`;
}

function verdict(d: Paired): string {
  if (d.lo > 0) return 'beats';
  if (d.hi < 0) return 'loses to';
  return 'not distinguishable';
}
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
const command =
  saved?.command ??
  `tsx --conditions=@dspy-ts/source optimizers/search-efficiency.ts ${process.argv.slice(2).join(' ')}`.trim();
lines.push('# Optimizer search efficiency — results', '');
lines.push(
  `Measured by \`bench/optimizers/search-efficiency.ts\` (see [README.md](./README.md)) on the simulated ` +
    'ticket-routing world: no real LM, a scripted one whose accuracy is a known function of the prompt. Scores are ' +
    "the returned program's **expected accuracy** (%), computed exactly from the world's model: on the 40-example " +
    'validation set the optimizers select on ("val") and on a 300-example held-out test set ("test"). Calls are ' +
    'every `generate` call to the task and prompt models that a response cache would not answer (see `cache` in ' +
    'README.md), counted by the scripted LM.',
  '',
);
lines.push('## Run', '');
lines.push('```sh', 'export PATH=/work/main/node_modules/.bin:$PATH', 'cd /work/main/bench', command, '```', '');
lines.push(
  `- Date: ${date}; wall time ${f1(elapsed)} s for ${rows.length} compiles.`,
  `- Machine: ${machine}.`,
  `- Seeds ${seeds.join(', ')} (each seed is a different task instance: new queue codes, tickets and splits), budgets ${budgets.join(', ')} LM calls.`,
  `- World parameters: ${
    Object.keys(worldOverrides).length === 0
      ? 'the defaults of `world.ts`'
      : `the defaults of \`world.ts\` except ${Object.entries(worldOverrides)
          .map(([k, v]) => `\`${k}=${v}\``)
          .join(', ')}`
  }.`,
  '',
);

// Sensitivity runs: the same comparison under other world assumptions, read from their saved rows.
const sensitivityDir = join(here, 'sensitivity');
const compareFiles =
  args.compare === 'none'
    ? []
    : args.compare
      ? String(args.compare).split(',').filter(Boolean)
      : String(args.out) === join(here, 'RESULTS.md') && existsSync(sensitivityDir)
        ? readdirSync(sensitivityDir)
            .filter((f) => f.endsWith('.json'))
            .sort((a, b) => Number(b.startsWith('previous')) - Number(a.startsWith('previous')) || a.localeCompare(b))
            .map((f) => join(sensitivityDir, f))
        : [];
// Summary sentences, computed from the rows.
lines.push('## Summary', '');
lines.push(
  'Differences are paired by seed (the same task instance and budget), in points of held-out test accuracy: mean ' +
    '± std of the per-seed differences, a 95 % t-interval for the mean, and on how many seeds the optimizer was ' +
    'strictly better. "Beats" / "loses to" means the interval excludes 0; otherwise the difference is not ' +
    'distinguishable from 0 with this many seeds.',
  '',
);
/** The optimizers whose verdict against random search opens the summary. */
const VERDICT_IDS = ['mipro', 'mipro-16', 'gepa', 'gepa-labeled'];
const statements: [string, string, string][] = [
  ['mipro', 'random-search', 'MIPROv2 vs random search (BootstrapRS)'],
  ['mipro-16', 'random-search', `MIPROv2 with ${LABELED_K} labeled demos vs random search (BootstrapRS)`],
  ['gepa-labeled', 'mipro-16', `GEPA on the labeled few-shot program vs MIPROv2 with ${LABELED_K} labeled demos`],
  ['gepa', 'random-search', 'GEPA vs random search (BootstrapRS)'],
  ['gepa-labeled', 'random-search', 'GEPA on the labeled few-shot program vs random search (BootstrapRS)'],
  ['gepa-labeled', 'gepa', 'GEPA on the labeled few-shot program vs GEPA on the zero-shot program'],
  ['mipro-uniform', 'random-search', 'MIPROv2 candidates with uniform search vs random search (BootstrapRS)'],
  ['mipro', 'mipro-uniform', 'TPE vs uniform sampling of the same MIPROv2 candidates'],
];
// The plain verdicts first: at which budgets MIPROv2 and GEPA beat, tie with or lose to random search.
for (const id of VERDICT_IDS) {
  const sentence = verdictSentence(rows, id, budgets);
  if (sentence) lines.push(sentence, '');
}
// The same verdicts from saved runs of the same (default-parameter) world with more seeds, if any.
for (const file of compareFiles) {
  const other = JSON.parse(readFileSync(file, 'utf8')) as SavedRun;
  const otherSeeds = other.seeds ?? [...new Set(other.rows.map((r) => r.seed))];
  const sameWorld = JSON.stringify(other.world ?? {}) === JSON.stringify(worldOverrides);
  if (!sameWorld || otherSeeds.length <= seeds.length) continue;
  const otherBudgets = other.budgets ?? [...new Set(other.rows.map((r) => r.budget))].sort((a, b) => a - b);
  lines.push(`With ${otherSeeds.length} seeds (\`${relative(here, file)}\`, same world and settings):`, '');
  for (const id of VERDICT_IDS) {
    const sentence = verdictSentence(other.rows, id, otherBudgets);
    if (sentence) lines.push(sentence, '');
  }
}
for (const [id, ref, title] of statements) {
  if (!present.some((p) => p.id === id) || !present.some((p) => p.id === ref)) continue;
  const parts = budgets
    .map((b) => {
      const d = paired(rows, id, ref, b);
      return d && `${b} calls: ${formatPaired(d, true)} — **${verdict(d)}**`;
    })
    .filter(Boolean);
  lines.push(`- **${title}.** ${parts.join('; ')}.`);
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
lines.push(
  '',
  `Plots: [accuracy vs calls](./${basename(svgPath)}), [paired differences](./${basename(pairedSvgPath)}).`,
  '',
);

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
// What the training data allows: rules can only be learned for topics the trainset shows, and the labeled
// few-shot program is random search's labeled-only candidate and `gepa-labeled`'s starting point.
const ceilings = await Promise.all(
  seeds.map(async (seed) => {
    const task = makeTask(seed);
    const topics = [...new Set(task.trainset.map((e) => topicOf(String(e.ticket))))].filter(
      (t): t is string => t !== undefined,
    );
    const instructions = [
      student().signature.instructions,
      ...topics.map((t) => rulePhrase(t, task.codes[t] as string)),
      FORMAT_PHRASE,
    ].join(' ');
    const rules = student();
    rules.signature = rules.signature.withInstructions(instructions);
    const labeled = await withLabeledDemos(student(), task);
    const both = labeled.deepCopy();
    both.signature = both.signature.withInstructions(instructions);
    return {
      train: task.trainset.length,
      topics: topics.length,
      rules: expectedAccuracy(task, rules, task.testset),
      labeled: expectedAccuracy(task, labeled, task.testset),
      labeledTopics: describeProgram(task, labeled).demoTopics,
      both: expectedAccuracy(task, both, task.testset),
    };
  }),
);
lines.push(
  `What the training data allows (test set, mean over the ${seeds.length} seeds): the ` +
    `${Math.round(mean(ceilings.map((c) => c.train)))} training tickets show ${f1(mean(ceilings.map((c) => c.topics)))} of the ${WORLD.topics.length} topics; right ` +
    `rules for every topic they show and the format phrase score ${f1(mean(ceilings.map((c) => c.rules)))}; the ` +
    `labeled few-shot program (\`LabeledFewShot\` with k=${LABELED_K}: random search's labeled-only candidate and ` +
    `the student of GEPA on the labeled few-shot program; its demos show ` +
    `${f1(mean(ceilings.map((c) => c.labeledTopics)))} topics) scores ${f1(mean(ceilings.map((c) => c.labeled)))}, ` +
    `and with those rules and the format phrase added ${f1(mean(ceilings.map((c) => c.both)))}.`,
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
    const d = paired(rows, s.id, 'random-search', b);
    return d ? formatPaired(d) : '—';
  });
  lines.push(`| ${s.label} | ${cells.join(' | ')} |`);
}
lines.push('');

lines.push(
  '## Calls actually spent (mean, min–max; prompt-model calls in brackets; requests including cache hits in braces)',
  '',
);
lines.push(`| optimizer | ${budgets.map((b) => `budget ${b}`).join(' | ')} |`);
lines.push(`|---|${budgets.map(() => '---:').join('|')}|`);
for (const s of present) {
  const cells = budgets.map((b) => {
    const rs = select(s.id, b);
    if (rs.length === 0) return '—';
    const c = rs.map((r) => r.calls);
    return (
      `${Math.round(mean(c))} (${Math.min(...c)}–${Math.max(...c)}) [${Math.round(mean(rs.map((r) => r.promptCalls)))}] ` +
      `{${Math.round(mean(rs.map((r) => r.requests)))}}`
    );
  });
  lines.push(`| ${s.label} | ${cells.join(' | ')} |`);
}
lines.push('');

lines.push('## Input tokens sent (thousands, mean; characters / 4)', '');
lines.push(
  'The budget counts calls, as the optimizers plan theirs. Calls differ in length: a task call with 16 demos is ' +
    'several times longer than a zero-shot one, and proposal prompts carry data summaries and examples. For the ' +
    'same budget of calls, this is what each optimizer sent.',
  '',
);
lines.push(`| optimizer | ${budgets.map((b) => `budget ${b}`).join(' | ')} |`);
lines.push(`|---|${budgets.map(() => '---:').join('|')}|`);
for (const s of present) {
  const cells = budgets.map((b) => {
    const rs = select(s.id, b);
    return rs.length === 0 ? '—' : f1(mean(rs.map((r) => r.inputTokens)) / 1000);
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
if (compareFiles.length > 0) {
  lines.push('## Under other world assumptions (sensitivity runs)', '');
  lines.push(
    'The same comparison with some world parameters changed (README.md explains each). Cells: held-out test ' +
      'accuracy, mean ± std over seeds; below it the paired difference to random search (BootstrapRS), mean ± std ' +
      '(seeds better).',
    '',
  );
  const outDir = dirname(String(args.out));
  for (const file of compareFiles) {
    const other = JSON.parse(readFileSync(file, 'utf8')) as SavedRun;
    const otherBudgets = other.budgets ?? [...new Set(other.rows.map((r) => r.budget))].sort((a, b) => a - b);
    const otherSeeds = other.seeds ?? [...new Set(other.rows.map((r) => r.seed))];
    const ids = SPECS.map((sp) => sp.id).filter((id) => other.rows.some((r) => r.optimizer === id));
    const world = Object.entries(other.world ?? {})
      .map(([k, v]) => `\`${k}=${v}\``)
      .join(', ');
    const md = relative(outDir, file.replace(/\.json$/, '.md'));
    lines.push(
      `### [${basename(file, '.json')}](./${md}): ${world || 'default world'} (${otherSeeds.length} seeds)`,
      '',
      `| optimizer | ${otherBudgets.map((b) => `budget ${b}`).join(' | ')} |`,
      `|---|${otherBudgets.map(() => '---:').join('|')}|`,
    );
    for (const id of ids) {
      const cells = otherBudgets.map((b) => {
        const t = other.rows.filter((r) => r.optimizer === id && r.budget === b).map((r) => r.test);
        if (t.length === 0) return '—';
        const d = id === 'random-search' ? undefined : paired(other.rows, id, 'random-search', b);
        return `**${f1(mean(t))}** ± ${f1(std(t))}${d ? `<br>${formatPaired(d)}` : ''}`;
      });
      lines.push(`| ${labels[id]} | ${cells.join(' | ')} |`);
    }
    lines.push('');
    for (const id of VERDICT_IDS) {
      const sentence = verdictSentence(other.rows, id, otherBudgets);
      if (sentence) lines.push(sentence, '');
    }
  }
}

lines.push(
  `Raw per-run rows: [${basename(String(args.json))}](./${basename(String(args.json))}) (the plots are linked in the ` +
    'summary above).',
  '',
);

writeFileSync(String(args.out), lines.join('\n'));
if (!saved) {
  const run: SavedRun = { command, date, elapsed, machine, seeds, budgets, world: worldOverrides, rows };
  writeFileSync(String(args.json), `${JSON.stringify(run, null, 2)}\n`);
}
writeFileSync(
  svgPath,
  renderSvg(series, {
    title: 'Held-out accuracy of the returned program vs LM calls spent',
    subtitle: `simulated ticket-routing world, mean ± std over ${seeds.length} seeds`,
    baseline: 'random-search',
  }),
);
const pairedSeries: Series[] = present
  .filter((s) => s.id !== 'random-search')
  .map((s) => ({
    id: s.id,
    label: s.label,
    points: budgets.flatMap((b) => {
      const d = paired(rows, s.id, 'random-search', b);
      return d ? [{ calls: b, mean: d.mean, std: d.std }] : [];
    }),
  }))
  .filter((s) => s.points.length > 0);
if (pairedSeries.length > 0) {
  writeFileSync(
    pairedSvgPath,
    renderSvg(pairedSeries, {
      title: 'Paired difference to random search (BootstrapRS) at equal budgets',
      subtitle: `held-out accuracy, optimizer minus random search on the same seed; mean ± std over ${seeds.length} seeds`,
      xLabel: 'budget of LM calls (log scale)',
      yLabel: 'difference in expected test accuracy (points)',
      differences: true,
    }),
  );
}
log(`wrote ${args.out}, ${args.json}, ${svgPath}, ${pairedSvgPath} in ${f1(elapsed)} s`);
