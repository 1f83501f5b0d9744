/**
 * The fair small-scale SMT experiment (spec §7) on stories260K and the templated story-QA task: full fine-tuning
 * (FT), LoRA, DoRA, SMT and an SMT random-blocks control at matched trainable-parameter budgets, a learning rate
 * chosen per (method, budget) from a grid on a validation split, then several seeds at the chosen rate; test
 * accuracy is exact match of the greedily generated answer on held-out names.
 *
 * Usage (from `bench/`):
 *   tsx --conditions=@dspy-ts/source smt/experiment.ts [options]
 *
 * Options (every size is configurable; see README.md):
 *   --phase P          sweep | final | all (default all): `sweep` runs the LR grid on the sweep seed, `final`
 *                      runs the chosen LR on every seed (re-using sweep runs with the same seed and LR)
 *   --methods LIST     full,lora,dora,smt,smt-random (default), smt-gradonly (SMT with a gradient-only
 *                      warm-up: no weight update before selection) and lora-ftwarm (LoRA after the same full
 *                      fine-tuning warm-up SMT gets: SMT's chosen LR at the budget among the SMT sweep runs
 *                      in the results file, same steps and batches, then
 *                      LoRA on the remaining steps' batches with a fresh schedule; its own LR sweep)
 *   --budgets LIST     LoRA ranks r; SMT gets round(1600·r / 64) 8×8 blocks of Q/K/V (default 1,4,16)
 *   --lrs-peft LIST    LR grid of LoRA/DoRA/SMT (default 3e-4,1e-3,3e-3,1e-2)
 *   --lrs-full LIST    LR grid of FT (default 3e-5,1e-4,3e-4,1e-3)
 *   --random-lr M      smt-random: `own` (sweep its own grid) or `smt` (reuse SMT's chosen LR; default)
 *   --gradonly-lr M    smt-gradonly: `own` or `smt` (default), as --random-lr
 *   --seeds N|LIST     seeds of the final phase (default 3 → 0,1,2); --sweep-seed S (default 0)
 *   --steps N          optimizer steps per run, SMT warm-up included (default 200); --batch N (default 8)
 *   --warmup N         SMT warm-up steps (default 10 % of steps)
 *   --train/--val/--test/--test-real N   split sizes (default 512 / 64 / 200 / 100)
 *   --threads N        wasm backend threads (default 1); --shard K/N runs every N-th run from K (parallel jobs)
 *   --quick            tiny smoke run (steps 20, budgets 1,4, two LRs, 1 seed, small splits)
 *   --out FILE         JSON-lines results file (default smt/results/runs.jsonl); finished runs are skipped
 *
 * @module
 */

import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  batchIndices,
  type FinetuneResult,
  finetune,
  type LlamaModel,
  loadLlama2c,
  selectBackend,
  type TrainingExample,
} from '@dspy-ts/smt';
import { makeSplits, promptTokens, type StoryQuestion, TEMPLATE_IDS, toExample } from './task.ts';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    phase: { type: 'string', default: 'all' },
    methods: { type: 'string', default: 'full,lora,dora,smt,smt-random' },
    budgets: { type: 'string' },
    'lrs-peft': { type: 'string' },
    'lrs-full': { type: 'string' },
    'random-lr': { type: 'string', default: 'smt' },
    'gradonly-lr': { type: 'string', default: 'smt' },
    seeds: { type: 'string' },
    'sweep-seed': { type: 'string', default: '0' },
    steps: { type: 'string' },
    batch: { type: 'string', default: '8' },
    warmup: { type: 'string' },
    train: { type: 'string' },
    val: { type: 'string' },
    test: { type: 'string' },
    'test-real': { type: 'string' },
    threads: { type: 'string', default: '1' },
    shard: { type: 'string', default: '0/1' },
    quick: { type: 'boolean', default: false },
    model: { type: 'string' },
    out: { type: 'string' },
  },
});

const quick = args.quick;
const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
const nums = (s: string) => list(s).map(Number);
const methods = list(args.methods!) as Method[];
const budgets = nums(args.budgets ?? (quick ? '1,4' : '1,4,16'));
const lrsPeft = nums(args['lrs-peft'] ?? (quick ? '1e-3,1e-2' : '3e-4,1e-3,3e-3,1e-2'));
const lrsFull = nums(args['lrs-full'] ?? (quick ? '1e-4,1e-3' : '3e-5,1e-4,3e-4,1e-3'));
const seedsArg = args.seeds ?? (quick ? '1' : '3');
const seeds = seedsArg.includes(',') ? nums(seedsArg) : Array.from({ length: Number(seedsArg) }, (_, i) => i);
const sweepSeed = Number(args['sweep-seed']);
const steps = Number(args.steps ?? (quick ? 20 : 200));
const batchSize = Number(args.batch);
const warmupSteps = args.warmup ? Number(args.warmup) : Math.max(1, Math.round(0.1 * steps));
const sizes = {
  train: Number(args.train ?? (quick ? 64 : 512)),
  val: Number(args.val ?? (quick ? 16 : 64)),
  test: Number(args.test ?? (quick ? 32 : 200)),
  testReal: Number(args['test-real'] ?? (quick ? 16 : 100)),
};
const [shardK, shardN] = args.shard!.split('/').map(Number) as [number, number];
const modelDir = resolve(args.model ?? resolve(here, '../../../shared/models/stories260K'));
const outFile = resolve(args.out ?? resolve(here, 'results/runs.jsonl'));

type Method = 'full' | 'lora' | 'dora' | 'smt' | 'smt-random' | 'smt-gradonly' | 'lora-ftwarm';
const METHODS: readonly Method[] = ['full', 'lora', 'dora', 'smt', 'smt-random', 'smt-gradonly', 'lora-ftwarm'];
for (const m of methods) {
  if (!METHODS.includes(m)) throw new Error(`--methods: unknown method '${m}'; expected one of ${METHODS.join(', ')}.`);
}
for (const option of ['random-lr', 'gradonly-lr'] as const) {
  if (args[option] !== 'own' && args[option] !== 'smt') {
    throw new Error(`--${option} must be 'own' or 'smt', got '${args[option]}'.`);
  }
}
/** Whether a control reuses SMT's chosen LR instead of sweeping its own grid. */
const reusesSmtLr = (m: Method) =>
  (m === 'smt-random' && args['random-lr'] === 'smt') || (m === 'smt-gradonly' && args['gradonly-lr'] === 'smt');
const BLOCK = 8;
/** Trainable parameters of LoRA rank r on Q, K, V of stories260K: 5 layers × r·(64+64 + 64+32 + 64+32). */
const loraParams = (r: number) => 1600 * r;
const smtBlocks = (r: number) => Math.round(loraParams(r) / (BLOCK * BLOCK));

/** One run's identity. `budget` is the LoRA rank (0 for FT). */
interface RunSpec {
  method: Method;
  budget: number;
  lr: number;
  seed: number;
}

/** What a run records. */
export interface RunRecord extends RunSpec {
  key: string;
  protocol: { steps: number; batch: number; warmupSteps: number; sizes: typeof sizes };
  trainableParameters: number;
  /** lora-ftwarm: peak LR of its full fine-tuning warm-up (SMT's chosen LR at the budget). */
  warmupLr?: number;
  valAccuracy: number;
  valNll: number;
  testAccuracy: number;
  testNll: number;
  testByTemplate: Record<string, number>;
  testRealAccuracy: number;
  testRealNll: number;
  losses: number[];
  secondsPerStep: number;
  secondsPerWarmupStep?: number;
  wallSeconds: number;
  memory: FinetuneResult['memory'];
  smt?: { selectedBlocks: number; blocksPerMatrix: Record<string, number[]> };
  error?: string;
}

const keyOf = (s: RunSpec) =>
  `${s.method}|${s.budget}|${s.lr}|${s.seed}|${steps}|${batchSize}|${warmupSteps}|${sizes.train}|${sizes.val}|${sizes.test}|${sizes.testReal}`;

function loadRecords(): Map<string, RunRecord> {
  const map = new Map<string, RunRecord>();
  if (!existsSync(outFile)) return map;
  for (const line of readFileSync(outFile, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as RunRecord;
    map.set(r.key, r);
  }
  return map;
}

const model: LlamaModel = await loadLlama2c({
  checkpoint: resolve(modelDir, 'stories260K.bin'),
  tokenizer: resolve(modelDir, 'tok512.bin'),
});
const backend = await selectBackend('auto', { wasm: { threads: Number(args.threads) } });
const tokenizer = model.tokenizer;
const splits = makeSplits(sizes);
mkdirSync(dirname(outFile), { recursive: true });
const trainExamples = splits.train.map((q) => toExample(q, tokenizer));

/** Exact-match accuracy of greedy answers and mean answer NLL (answer tokens + EOS, nats per example). */
function evaluate(m: LlamaModel, questions: readonly StoryQuestion[]) {
  let correct = 0;
  let nll = 0;
  const byTemplate: Record<string, [number, number]> = Object.fromEntries(TEMPLATE_IDS.map((t) => [t, [0, 0]]));
  for (const q of questions) {
    const prompt = promptTokens(q, tokenizer);
    const { text } = m.generate(prompt, { maxNewTokens: 6, stop: ['.', '\n', ',', '?', '!'] });
    const ok = text.trim() === q.answer;
    if (ok) correct++;
    byTemplate[q.template]![0] += ok ? 1 : 0;
    byTemplate[q.template]![1] += 1;
    const ex = toExample(q, tokenizer);
    const tokens = Array.from(ex.tokens);
    const logits = m.forward(tokens.slice(0, -1), 0, { cache: m.createCache() });
    const V = m.config.vocabSize;
    for (let i = prompt.length; i < tokens.length; i++) {
      const row = logits.subarray((i - 1) * V, i * V);
      let max = -Infinity;
      for (let j = 0; j < V; j++) max = Math.max(max, row[j]!);
      let sum = 0;
      for (let j = 0; j < V; j++) sum += Math.exp(row[j]! - max);
      nll -= row[tokens[i]!]! - max - Math.log(sum);
    }
  }
  return {
    accuracy: correct / questions.length,
    nll: nll / questions.length,
    byTemplate: Object.fromEntries(Object.entries(byTemplate).map(([t, [c, n]]) => [t, n ? c / n : 0])),
  };
}

async function runOne(spec: RunSpec): Promise<RunRecord> {
  const isSmt = spec.method.startsWith('smt');
  const times: { phase: string; t: number }[] = [];
  let last = performance.now();
  const t0 = last;
  const base = {
    ...spec,
    key: keyOf(spec),
    protocol: { steps, batch: batchSize, warmupSteps, sizes },
  };
  let result: FinetuneResult;
  let warmupLr: number | undefined;
  try {
    if (spec.method === 'lora-ftwarm') {
      warmupLr = chosenSmtLr(spec.budget);
      if (warmupLr === undefined) throw new Error(`SMT's LR sweep at r=${spec.budget} is incomplete`);
      result = await loraAfterWarmup(spec, warmupLr, (phase) => {
        const now = performance.now();
        times.push({ phase, t: now - last });
        last = now;
      });
    } else
      result = await finetune({ config: model.config, weights: model.weights, tokenizer, backend }, trainExamples, {
        method: isSmt ? 'smt' : (spec.method as 'full' | 'lora' | 'dora'),
        steps,
        batchSize,
        lr: spec.lr,
        seed: spec.seed,
        beta1: 0.9,
        beta2: 0.999,
        maxGradNorm: 1,
        decay: 'linear',
        backend,
        ...(spec.method === 'lora' || spec.method === 'dora'
          ? { lora: { rank: spec.budget, alpha: 2 * spec.budget, targets: ['wq', 'wk', 'wv'] } }
          : {}),
        ...(isSmt
          ? {
              smt: {
                blockSize: BLOCK,
                warmupSteps,
                warmup: spec.method === 'smt-gradonly' ? ('gradient-only' as const) : ('full-ft' as const),
                score: 'mean-of-abs' as const,
                strategy: spec.method === 'smt-random' ? ('random' as const) : ('gradient' as const),
                groups: [{ matrices: ['wq', 'wk', 'wv'], blocks: smtBlocks(spec.budget) }],
              },
            }
          : {}),
        onProgress: (e) => {
          const now = performance.now();
          times.push({ phase: e.phase, t: now - last });
          last = now;
        },
      });
  } catch (error) {
    // A diverged run counts as a failed configuration (accuracy 0) rather than stopping the experiment.
    return {
      ...base,
      trainableParameters: 0,
      valAccuracy: 0,
      valNll: Number.NaN,
      testAccuracy: 0,
      testNll: Number.NaN,
      testByTemplate: {},
      testRealAccuracy: 0,
      testRealNll: Number.NaN,
      losses: [],
      secondsPerStep: Number.NaN,
      wallSeconds: (performance.now() - t0) / 1000,
      memory: {
        checkpointing: 'none',
        accounted: { weights: 0, gradients: 0, optimizerState: 0, activations: 0, other: 0, total: 0 },
        activationParts: { stored: 0, recomputedLayer: 0, head: 0 },
        measuredPeak: { rss: 0, heapUsed: 0, arrayBuffers: 0 },
      },
      error: String((error as Error).message ?? error),
    };
  }
  const wallSeconds = (performance.now() - t0) / 1000;
  const tuned = result.model!;
  const val = evaluate(tuned, splits.val);
  const test = evaluate(tuned, splits.test);
  const testReal = evaluate(tuned, splits.testReal);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length / 1000 : Number.NaN);
  const trainTimes = times.filter((x) => x.phase === 'train').map((x) => x.t);
  const warmTimes = times.filter((x) => x.phase === 'warmup').map((x) => x.t);
  return {
    ...base,
    trainableParameters: result.trainableParameters,
    ...(warmupLr !== undefined ? { warmupLr } : {}),
    valAccuracy: val.accuracy,
    valNll: val.nll,
    testAccuracy: test.accuracy,
    testNll: test.nll,
    testByTemplate: test.byTemplate,
    testRealAccuracy: testReal.accuracy,
    testRealNll: testReal.nll,
    losses: result.losses,
    // The first step includes JIT warm-up and graph set-up; drop it from the mean.
    secondsPerStep: mean(trainTimes.slice(1)),
    ...(warmTimes.length ? { secondsPerWarmupStep: mean(warmTimes.slice(1)) } : {}),
    wallSeconds,
    memory: result.memory,
    ...(result.smt
      ? {
          smt: {
            selectedBlocks: result.smt.selectedBlocks,
            blocksPerMatrix: result.smt.blocksPerMatrix as Record<string, number[]>,
          },
        }
      : {}),
  };
}

/**
 * The lora-ftwarm control: the first `warmupSteps` steps are full fine-tuning exactly as SMT's default warm-up
 * runs them (same batches, LR ramping linearly from 0 to SMT's chosen LR, AdamW, clipping), so the weights it
 * leaves are those SMT selects its blocks on; then LoRA trains on the batches SMT's sparse phase sees (steps
 * `warmupSteps`…`steps − 1` of the same data order), with a fresh Adam state and a fresh linear decay, as SMT's
 * sparse phase does. Returns the LoRA phase's result, with the warm-up's losses in front and its state as
 * `memory.warmup`.
 */
async function loraAfterWarmup(
  spec: RunSpec,
  warmupLr: number,
  onStep: (phase: 'warmup' | 'train') => void,
): Promise<FinetuneResult> {
  const common = { batchSize, seed: spec.seed, beta1: 0.9, beta2: 0.999, maxGradNorm: 1, backend };
  const warm = await finetune({ config: model.config, weights: model.weights, backend }, trainExamples, {
    ...common,
    method: 'full',
    steps: warmupSteps,
    lr: warmupLr,
    lrWarmupSteps: warmupSteps,
    onProgress: () => onStep('warmup'),
  });
  const rest: TrainingExample[] = [];
  for (let step = warmupSteps; step < steps; step++) {
    for (const i of batchIndices(trainExamples.length, batchSize, step, spec.seed)) rest.push(trainExamples[i]!);
  }
  const lora = await finetune({ config: model.config, weights: warm.weights, tokenizer, backend }, rest, {
    ...common,
    method: 'lora',
    steps: steps - warmupSteps,
    lr: spec.lr,
    decay: 'linear',
    shuffle: false,
    lora: { rank: spec.budget, alpha: 2 * spec.budget, targets: ['wq', 'wk', 'wv'] },
    onProgress: () => onStep('train'),
  });
  return {
    ...lora,
    steps,
    losses: [...warm.losses, ...lora.losses],
    memory: { ...lora.memory, warmup: warm.memory.accounted },
  };
}

const lrGrid = (m: Method) => (m === 'full' ? lrsFull : lrsPeft);
const budgetsOf = (m: Method) => (m === 'full' ? [0] : budgets);
const records = loadRecords();

let ordinal = 0;
async function ensure(spec: RunSpec): Promise<RunRecord | undefined> {
  const key = keyOf(spec);
  const have = records.get(key);
  if (have) return have;
  const mine = ordinal++ % shardN === shardK;
  if (!mine) return undefined;
  const started = performance.now();
  const rec = await runOne(spec);
  records.set(key, rec);
  appendFileSync(outFile, `${JSON.stringify(rec)}\n`);
  console.log(
    `${spec.method.padEnd(10)} r=${String(spec.budget).padEnd(3)} lr=${spec.lr.toExponential(0).padEnd(6)} ` +
      `seed=${spec.seed} params=${String(rec.trainableParameters).padStart(6)} val=${rec.valAccuracy.toFixed(3)} ` +
      `test=${rec.testAccuracy.toFixed(3)} real=${rec.testRealAccuracy.toFixed(3)} loss=${(rec.losses.at(-1) ?? Number.NaN).toFixed(3)} ` +
      `s/step=${rec.secondsPerStep.toFixed(3)} (${((performance.now() - started) / 1000).toFixed(1)} s)` +
      (rec.error ? ` ERROR ${rec.error.slice(0, 80)}` : ''),
  );
  return rec;
}

/** Chosen LR of (method, budget): best validation accuracy, ties broken by lower validation NLL. */
function chosenLr(method: Method, budget: number): number | undefined {
  const m = reusesSmtLr(method) ? 'smt' : method;
  let best: RunRecord | undefined;
  for (const lr of lrGrid(m)) {
    const r = records.get(keyOf({ method: m, budget, lr, seed: sweepSeed }));
    if (!r) return undefined;
    const nll = Number.isNaN(r.valNll) ? Infinity : r.valNll;
    const bestNll = best && !Number.isNaN(best.valNll) ? best.valNll : Infinity;
    if (!best || r.valAccuracy > best.valAccuracy || (r.valAccuracy === best.valAccuracy && nll < bestNll)) best = r;
  }
  return best?.lr;
}

/**
 * SMT's chosen LR at `budget` among every SMT sweep run of this protocol on the sweep seed, whatever LR grid it
 * used (so the lora-ftwarm control can sweep a different grid): best validation accuracy, then lower NLL.
 */
function chosenSmtLr(budget: number): number | undefined {
  const protocol = keyOf({ method: 'smt', budget, lr: 0, seed: sweepSeed }).split('|').slice(4).join('|');
  let best: RunRecord | undefined;
  for (const r of records.values()) {
    if (r.method !== 'smt' || r.budget !== budget || r.seed !== sweepSeed || r.error) continue;
    if (r.key.split('|').slice(4).join('|') !== protocol) continue;
    const nll = Number.isNaN(r.valNll) ? Infinity : r.valNll;
    if (!best || r.valAccuracy > best.valAccuracy || (r.valAccuracy === best.valAccuracy && nll < best.valNll))
      best = r;
  }
  return best?.lr;
}

console.log(
  `SMT experiment: steps ${steps}, batch ${batchSize}, SMT warm-up ${warmupSteps}, splits ${JSON.stringify(sizes)}, ` +
    `budgets r=${budgets.join(',')} (SMT blocks ${budgets.map(smtBlocks).join(',')}), seeds ${seeds.join(',')}, ` +
    `backend ${backend.name}, shard ${shardK}/${shardN}`,
);
if (shardK === 0) {
  // The base model, unchanged: the floor every method starts from.
  const base = {
    val: evaluate(model, splits.val),
    test: evaluate(model, splits.test),
    testReal: evaluate(model, splits.testReal),
    sizes,
  };
  writeFileSync(resolve(dirname(outFile), 'base.json'), `${JSON.stringify(base, null, 2)}\n`);
  console.log(
    `base model (no fine-tuning): test accuracy ${base.test.accuracy.toFixed(3)}, test NLL ${base.test.nll.toFixed(3)}`,
  );
}

const sweepMethods = methods.filter((m) => !reusesSmtLr(m));
if (args.phase === 'sweep' || args.phase === 'all') {
  for (const method of sweepMethods)
    for (const budget of budgetsOf(method))
      for (const lr of lrGrid(method)) await ensure({ method, budget, lr, seed: sweepSeed });
}
if (args.phase === 'final' || args.phase === 'all') {
  for (const seed of seeds)
    for (const method of methods)
      for (const budget of budgetsOf(method)) {
        const lr = chosenLr(method, budget);
        if (lr === undefined) {
          console.log(`skip ${method} r=${budget} seed ${seed}: its LR sweep is incomplete`);
          continue;
        }
        await ensure({ method, budget, lr, seed });
      }
}
await (backend as { dispose?: () => Promise<void> | void }).dispose?.();
model.dispose?.();
