/**
 * The memory claim (spec §3, §7.4): SMT's accounted training state against full fine-tuning's, on stories260K
 * and on a randomly initialised ~110M-parameter LLaMA configuration (dim 768, 12 layers, 12 heads, hidden 2048,
 * vocab 32000, seq 256). Each method runs a couple of real optimizer steps through `finetune` (so the numbers
 * are the engine's own `TrainingMemoryReport`, not a formula), on `--batch` sequences of `--tokens` tokens.
 *
 * Usage (from `bench/`):
 *   tsx --conditions=@dspy-ts/source smt/memory.ts [--tokens 256] [--batch 1] [--threads 1] [--skip-110m]
 *     [--backend auto|wasm|reference]
 *
 * Writes smt/results/memory.json and prints a table.
 *
 * @module
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type FinetuneResult,
  finetune,
  type LlamaConfig,
  type LlamaWeights,
  loadLlama2c,
  randomLlamaWeights,
  selectBackend,
  type TrainingRunOptions,
} from '@dspy-ts/smt';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    tokens: { type: 'string', default: '256' },
    batch: { type: 'string', default: '1' },
    threads: { type: 'string', default: '1' },
    backend: { type: 'string', default: 'auto' },
    'skip-110m': { type: 'boolean', default: false },
    model: { type: 'string' },
    out: { type: 'string' },
  },
});
const T = Number(args.tokens);
const batch = Number(args.batch);
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

function randomExamples(vocab: number, count: number, length: number, seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
  return Array.from({ length: count }, () => ({
    tokens: Array.from({ length: length + 1 }, (_, i) => (i === 0 ? 1 : 3 + (next() % (vocab - 3)))),
  }));
}

const cases: Case[] = [];
const modelDir = resolve(args.model ?? resolve(here, '../../../shared/models/stories260K'));
const small = await loadLlama2c({
  checkpoint: resolve(modelDir, 'stories260K.bin'),
  tokenizer: resolve(modelDir, 'tok512.bin'),
});
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

type Row = {
  model: string;
  parameters: number;
  method: string;
  trainableParameters: number;
  accounted: FinetuneResult['memory']['accounted'];
  warmup?: FinetuneResult['memory']['accounted'];
  seconds: number;
};
const rows: Row[] = [];
for (const c of cases) {
  const examples = randomExamples(c.config.vocabSize, batch, Math.min(T, c.config.seqLen), 7);
  const params =
    c.weights.tokenEmbedding.length +
    (c.config.sharedClassifier ? 0 : c.weights.classifier.length) +
    c.weights.finalNorm.length +
    c.weights.layers.reduce((s, l) => s + Object.values(l).reduce((a, t) => a + (t as Float32Array).length, 0), 0);
  const runs: [string, Omit<TrainingRunOptions, 'backend'>][] = [
    ['full', { method: 'full', steps: 1 }],
    [`lora r=${c.rank}`, { method: 'lora', steps: 1, lora: { rank: c.rank } }],
    [
      `smt ${c.blocks}×${c.blockSize}² (full-ft warm-up)`,
      {
        method: 'smt',
        steps: 2,
        smt: { warmupSteps: 1, blockSize: c.blockSize, groups: [{ matrices: ['wq', 'wk', 'wv'], blocks: c.blocks }] },
      },
    ],
    [
      `smt ${c.blocks}×${c.blockSize}² (gradient-only warm-up)`,
      {
        method: 'smt',
        steps: 2,
        smt: {
          warmupSteps: 1,
          warmup: 'gradient-only',
          blockSize: c.blockSize,
          groups: [{ matrices: ['wq', 'wk', 'wv'], blocks: c.blocks }],
        },
      },
    ],
  ];
  for (const [label, opts] of runs) {
    const t0 = performance.now();
    const r = await finetune({ config: c.config, weights: c.weights }, examples, {
      ...opts,
      batchSize: batch,
      lr: 1e-4,
      backend,
    } as TrainingRunOptions);
    rows.push({
      model: c.name,
      parameters: params,
      method: label,
      trainableParameters: r.trainableParameters,
      accounted: r.memory.accounted,
      ...(r.memory.warmup ? { warmup: r.memory.warmup } : {}),
      seconds: (performance.now() - t0) / 1000,
    });
    const a = r.memory.accounted;
    console.log(
      `${c.name.padEnd(20)} ${label.padEnd(40)} trainable ${String(r.trainableParameters).padStart(10)} ` +
        `total ${(a.total / 2 ** 20).toFixed(2)} MiB (weights ${(a.weights / 2 ** 20).toFixed(2)}, grads ${(a.gradients / 2 ** 20).toFixed(2)}, ` +
        `adam ${(a.optimizerState / 2 ** 20).toFixed(2)}, act ${(a.activations / 2 ** 20).toFixed(2)}, other ${(a.other / 2 ** 20).toFixed(2)})` +
        (r.memory.warmup ? ` warm-up total ${(r.memory.warmup.total / 2 ** 20).toFixed(2)} MiB` : ''),
    );
  }
}
const outFile = resolve(args.out ?? resolve(here, 'results/memory.json'));
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, `${JSON.stringify({ tokens: T, batch, rows }, null, 2)}\n`);
await (backend as { dispose?: () => Promise<void> | void }).dispose?.();
small.dispose?.();
