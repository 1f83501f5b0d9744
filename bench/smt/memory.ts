/**
 * The memory claim (spec §3, §7.4): SMT's accounted training state against full fine-tuning's, on stories260K
 * and on a randomly initialised ~110M-parameter LLaMA configuration (dim 768, 12 layers, 12 heads, hidden 2048,
 * vocab 32000, seq 256), for full fine-tuning, LoRA, DoRA and SMT, each without and with per-layer gradient
 * checkpointing. Each method runs a couple of real optimizer steps through `finetune`, so the numbers are the
 * engine's own `TrainingMemoryReport`, not a formula.
 *
 * Two token settings, the same for every method of a row group:
 * - `task`: the story-QA task's real batch: the 8 longest training sequences of the experiment's training split
 *   (the largest batch any of its steps can draw, so it bounds the activation peak of every step). stories260K
 *   sees their real tokens; the 110M configuration random tokens at the same lengths.
 * - `task1`: the task's longest single sequence (real tokens for stories260K, random tokens of its length for the
 *   110M configuration).
 * - `256` (or any token count N): one sequence of N tokens (random tokens).
 *
 * Usage (from `bench/`):
 *   tsx --conditions=@dspy-ts/source smt/memory.ts [--settings task,task1,256] [--threads 1] [--skip-110m]
 *     [--backend auto|wasm|reference] [--model DIR] [--out FILE]
 *
 * With `--expose-gc` (`NODE_OPTIONS=--expose-gc`), garbage is collected before each run and the process's ArrayBuffer
 * bytes at that point are recorded as the run's baseline, next to the run's measured peak. Both are process-wide:
 * they include the source model, the runtime and whatever garbage has not been collected yet.
 *
 * Writes smt/results/memory.json (report.ts turns it into the tables of RESULTS.md) and prints one line per run.
 *
 * @module
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type CheckpointingMode,
  type FinetuneResult,
  finetune,
  type LlamaConfig,
  type LlamaWeights,
  loadLlama2c,
  randomLlamaWeights,
  selectBackend,
  type TrainingExample,
  type TrainingRunOptions,
} from '@dspy-ts/smt';
import { makeSplits, toExample } from './task.ts';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    settings: { type: 'string', default: 'task,task1,256' },
    threads: { type: 'string', default: '1' },
    backend: { type: 'string', default: 'auto' },
    'skip-110m': { type: 'boolean', default: false },
    model: { type: 'string' },
    out: { type: 'string' },
  },
});
const backend = await selectBackend(args.backend as 'auto' | 'wasm' | 'reference', {
  wasm: { threads: Number(args.threads) },
});

interface Case {
  name: string;
  config: LlamaConfig;
  weights: LlamaWeights;
  /** LoRA rank and the SMT block size / block count matched to it. */
  rank: number;
  blockSize: number;
  blocks: number;
}

/** Pseudo-random token ids in [3, vocab) after a BOS, one sequence per requested length (inputs = length). */
function randomExamples(vocab: number, lengths: readonly number[], seed: number): TrainingExample[] {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
  return lengths.map((length) => ({
    tokens: Array.from({ length: length + 1 }, (_, i) => (i === 0 ? 1 : 3 + (next() % (vocab - 3)))),
  }));
}

const modelDir = resolve(args.model ?? resolve(here, '../../../shared/models/stories260K'));
const small = await loadLlama2c({
  checkpoint: resolve(modelDir, 'stories260K.bin'),
  tokenizer: resolve(modelDir, 'tok512.bin'),
});
const cases: Case[] = [];
// stories260K: LoRA r=4 on Q/K/V = 6,400 params = 100 SMT blocks of 8×8 (the experiment's middle budget).
cases.push({ name: 'stories260K', config: small.config, weights: small.weights, rank: 4, blockSize: 8, blocks: 100 });
if (!args['skip-110m']) {
  const config: LlamaConfig = {
    dim: 768,
    hiddenDim: 2048,
    nLayers: 12,
    nHeads: 12,
    nKvHeads: 12,
    vocabSize: 32000,
    seqLen: 256,
    normEps: 1e-5,
    ropeBase: 10000,
    ropeLayout: 'interleaved',
    // Shared classifier, as llama2.c's stories110M: 109.5M parameters (134M with a separate classifier).
    sharedClassifier: true,
  };
  // LoRA r=32 on Q/K/V: 12 · 3 · 32 · (768 + 768) = 1,769,472 params = exactly 27 blocks of 256×256 (the
  // paper's block size), ≈ 1.3 % of the model: the paper's matching (§2.3, SMT ↔ rank-32 LoRA).
  cases.push({
    name: 'llama-110M (random)',
    config,
    weights: randomLlamaWeights(config, { seed: 1 }),
    rank: 32,
    blockSize: 256,
    blocks: 27,
  });
}

// The experiment's training split (same sizes and seeds as experiment.ts's defaults), longest 8 sequences first.
const taskExamples = makeSplits({ train: 512, val: 64, test: 200, testReal: 100 })
  .train.map((q) => toExample(q, small.tokenizer))
  .sort((a, b) => b.tokens.length - a.tokens.length);
const taskLengths = taskExamples.map((e) => e.tokens.length - 1);

interface Setting {
  id: string;
  label: string;
  /** Input positions of each sequence of the batch. */
  lengths: number[];
  /** Examples for a model (real task tokens for stories260K, random tokens of the same lengths otherwise). */
  examples: (c: Case) => TrainingExample[];
}
const settings: Setting[] = [];
for (const id of (args.settings ?? '').split(',').filter(Boolean)) {
  if (id === 'task') {
    const batch = taskExamples.slice(0, 8);
    const lengths = batch.map((e) => e.tokens.length - 1);
    settings.push({
      id,
      label: `task batch: 8 story-QA sequences of ${Math.min(...lengths)}–${Math.max(...lengths)} tokens (${lengths.reduce((a, b) => a + b, 0)} in all)`,
      lengths,
      examples: (c) => (c.name === 'stories260K' ? batch : randomExamples(c.config.vocabSize, lengths, 7)),
    });
  } else if (id === 'task1') {
    const one = taskExamples.slice(0, 1);
    const lengths = [one[0]!.tokens.length - 1];
    settings.push({
      id,
      label: `1 story-QA sequence of ${lengths[0]} tokens (the longest)`,
      lengths,
      examples: (c) => (c.name === 'stories260K' ? one : randomExamples(c.config.vocabSize, lengths, 7)),
    });
  } else if (/^\d+$/.test(id)) {
    const length = Number(id);
    settings.push({
      id,
      label: `1 sequence of ${length} tokens`,
      lengths: [length],
      examples: (c) => randomExamples(c.config.vocabSize, [Math.min(length, c.config.seqLen)], 7),
    });
  } else {
    throw new Error(`--settings: unknown setting '${id}'; expected 'task', 'task1' or a token count such as 256.`);
  }
}

interface Row {
  model: string;
  parameters: number;
  setting: string;
  checkpointing: CheckpointingMode;
  method: string;
  trainableParameters: number;
  accounted: FinetuneResult['memory']['accounted'];
  activationParts: FinetuneResult['memory']['activationParts'];
  warmup?: FinetuneResult['memory']['accounted'];
  measuredPeak: FinetuneResult['memory']['measuredPeak'];
  /** Process ArrayBuffer bytes just before the run, after a garbage collection (absent without `--expose-gc`). */
  baselineArrayBuffers?: number;
  seconds: number;
}
const gc = (globalThis as { gc?: () => void }).gc;
const rows: Row[] = [];
const MiB = (b: number) => (b / 2 ** 20).toFixed(2);
for (const c of cases) {
  const params =
    c.weights.tokenEmbedding.length +
    (c.config.sharedClassifier ? 0 : c.weights.classifier.length) +
    c.weights.finalNorm.length +
    c.weights.layers.reduce((s, l) => s + Object.values(l).reduce((a, t) => a + (t as Float32Array).length, 0), 0);
  const smt = (warmup: 'full-ft' | 'gradient-only'): Omit<TrainingRunOptions, 'backend'> => ({
    method: 'smt',
    steps: 2,
    smt: {
      warmupSteps: 1,
      warmup,
      blockSize: c.blockSize,
      groups: [{ matrices: ['wq', 'wk', 'wv'], blocks: c.blocks }],
    },
  });
  const runs: [string, Omit<TrainingRunOptions, 'backend'>][] = [
    ['full', { method: 'full', steps: 1 }],
    [`lora r=${c.rank}`, { method: 'lora', steps: 1, lora: { rank: c.rank } }],
    [`dora r=${c.rank}`, { method: 'dora', steps: 1, lora: { rank: c.rank } }],
    [`smt ${c.blocks}×${c.blockSize}² (full-ft warm-up)`, smt('full-ft')],
    [`smt ${c.blocks}×${c.blockSize}² (gradient-only warm-up)`, smt('gradient-only')],
  ];
  for (const setting of settings) {
    const examples = setting.examples(c);
    for (const checkpointing of ['none', 'layer'] as const) {
      for (const [label, opts] of runs) {
        let baselineArrayBuffers: number | undefined;
        if (gc) {
          gc();
          baselineArrayBuffers = process.memoryUsage().arrayBuffers;
        }
        const t0 = performance.now();
        const r = await finetune({ config: c.config, weights: c.weights }, examples, {
          ...opts,
          batchSize: examples.length,
          lr: 1e-4,
          checkpointing,
          backend,
        } as TrainingRunOptions);
        rows.push({
          model: c.name,
          parameters: params,
          setting: setting.id,
          checkpointing,
          method: label,
          trainableParameters: r.trainableParameters,
          accounted: r.memory.accounted,
          activationParts: r.memory.activationParts,
          ...(r.memory.warmup ? { warmup: r.memory.warmup } : {}),
          measuredPeak: r.memory.measuredPeak,
          ...(baselineArrayBuffers !== undefined ? { baselineArrayBuffers } : {}),
          seconds: (performance.now() - t0) / 1000,
        });
        const a = r.memory.accounted;
        const p = r.memory.activationParts;
        console.log(
          `${c.name.padEnd(20)} ${setting.id.padEnd(5)} ${checkpointing.padEnd(5)} ${label.padEnd(40)} ` +
            `total ${MiB(a.total)} MiB (weights ${MiB(a.weights)}, grads ${MiB(a.gradients)}, adam ${MiB(a.optimizerState)}, ` +
            `act ${MiB(a.activations)} = stored ${MiB(p.stored)} / recomputed ${MiB(p.recomputedLayer)} / head ${MiB(p.head)}, ` +
            `other ${MiB(a.other)})` +
            (r.memory.warmup ? ` warm-up ${MiB(r.memory.warmup.total)} MiB` : '') +
            ` ${((performance.now() - t0) / 1000).toFixed(1)} s`,
        );
      }
    }
  }
}
const outFile = resolve(args.out ?? resolve(here, 'results/memory.json'));
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(
  outFile,
  `${JSON.stringify(
    {
      settings: settings.map(({ id, label, lengths }) => ({
        id,
        label,
        sequences: lengths.length,
        tokens: lengths.reduce((a, b) => a + b, 0),
      })),
      taskLengths: {
        min: Math.min(...taskLengths),
        max: Math.max(...taskLengths),
        mean: taskLengths.reduce((a, b) => a + b, 0) / taskLengths.length,
      },
      rows,
    },
    null,
    2,
  )}\n`,
);
await (backend as { dispose?: () => Promise<void> | void }).dispose?.();
small.dispose?.();
