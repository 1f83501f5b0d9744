import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DspyError } from '@dspy-ts/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelBackend } from '../kernels/backend.ts';
import { mulberry32 } from '../kernels/reference/random.ts';
import { createReferenceBackend } from '../kernels/reference/reference-backend.ts';
import { createWasmBackend } from '../kernels/wasm/wasm-backend.ts';
import type { LlamaConfig, LlamaWeights } from '../model/llama-config.ts';
import {
  type FinetuneResult,
  finetune,
  TrainingDivergedError,
  type TrainingRunOptions,
  weightEntries,
} from './finetune.ts';
import { randomLlamaWeights } from './random-llama.ts';
import { selectBlocks } from './smt-selection.ts';
import { batchIndices, prepareExamples, stackBatch, type TrainingExample } from './training-data.ts';
import { frozenPlan, TrainingGraph } from './training-graph.ts';

const config: LlamaConfig = {
  dim: 16,
  hiddenDim: 24,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  vocabSize: 32,
  seqLen: 16,
  normEps: 1e-5,
  ropeBase: 10000,
  ropeLayout: 'interleaved',
  sharedClassifier: true,
};
const base = randomLlamaWeights(config, { seed: 1, std: 0.2 });

// A memorisation task: four fixed "prompts" whose last four tokens are the answer that counts.
const rng = mulberry32(2);
const examples: TrainingExample[] = Array.from({ length: 4 }, () => {
  const tokens = [1, ...Array.from({ length: 7 }, () => 3 + Math.floor(rng() * 29))];
  return { tokens, lossMask: [0, 0, 0, 0, 1, 1, 1, 1] };
});

function evalLoss(weights: LlamaWeights): number {
  const batch = stackBatch(prepareExamples(examples, config.vocabSize, config.seqLen));
  return new TrainingGraph(config, weights, frozenPlan(config), createReferenceBackend()).run(batch, {
    backward: false,
  }).loss;
}

const source = { config, weights: base };
const baseLoss = evalLoss(base);

function expectSameWeights(a: LlamaWeights, b: LlamaWeights) {
  const left = weightEntries(config, a);
  const right = weightEntries(config, b);
  left.forEach(([name, tensor], i) => {
    expect(
      Buffer.from(tensor.buffer, tensor.byteOffset, tensor.byteLength).equals(
        Buffer.from(right[i]![1].buffer, right[i]![1].byteOffset, right[i]![1].byteLength),
      ),
      name,
    ).toBe(true);
  });
}

describe('finetune: every method learns a small memorisation task', () => {
  const cases: [string, TrainingRunOptions][] = [
    ['full', { method: 'full', lr: 1e-2 }],
    ['lora', { method: 'lora', lr: 3e-2, lora: { rank: 4 } }],
    ['dora', { method: 'dora', lr: 3e-2, lora: { rank: 4 } }],
    [
      'smt',
      {
        method: 'smt',
        lr: 3e-2,
        smt: { blockSize: 4, warmupSteps: 3, groups: [{ matrices: ['wq', 'wk', 'wv', 'wo'], fraction: 0.25 }] },
      },
    ],
  ];
  for (const [name, options] of cases) {
    it(`${name} lowers the answer loss`, async () => {
      const result = await finetune(source, examples, { steps: 40, batchSize: 4, ...options });
      const after = evalLoss(result.weights);
      expect(result.losses).toHaveLength(40);
      expect(after).toBeLessThan(0.6 * baseLoss);
      // The source's weights are never touched.
      expect(evalLoss(base)).toBe(baseLoss);
    });
  }
});

describe('LoRA and DoRA initialisation', () => {
  for (const method of ['lora', 'dora'] as const) {
    it(`${method} with B = 0 leaves the model unchanged`, async () => {
      // lr 0: the adapters keep their initial values, so the merged weights are the initial adapted model.
      const result = await finetune(source, examples, { method, steps: 1, lr: 0, lora: { rank: 2 } });
      for (const adapter of Object.values(result.adapters!)) {
        expect(adapter.b.every((x) => x === 0)).toBe(true);
        // PEFT's kaiming_uniform(a=√5) bound is 1/√in.
        const bound = 1 / Math.sqrt(adapter.inDim);
        expect(adapter.a.every((x) => Math.abs(x) <= bound)).toBe(true);
        expect(adapter.a.some((x) => x !== 0)).toBe(true);
      }
      expectSameWeights(result.weights, base);
      // The first step's loss (computed through the adapters) equals the base model's.
      const prepared = prepareExamples(examples, 32, 16);
      const first = stackBatch(batchIndices(4, 4, 0, 0).map((i) => prepared[i]!));
      expect(result.losses[0]).toBe(
        new TrainingGraph(config, base, frozenPlan(config), createReferenceBackend()).run(first, { backward: false })
          .loss,
      );
    });
  }

  it('DoRA starts from magnitudes equal to the row norms of the base weights', async () => {
    const result = await finetune(source, examples, { method: 'dora', steps: 1, lr: 0, lora: { targets: ['wv'] } });
    const adapter = result.adapters!['layers.1.wv']!;
    const w = base.layers[1]!.wv;
    for (let i = 0; i < 8; i++) {
      const norm = Math.hypot(...w.subarray(i * 16, (i + 1) * 16));
      expect(adapter.magnitude![i]).toBeCloseTo(norm, 6);
    }
  });
});

describe('SMT', () => {
  const smtOptions = (extra: Partial<TrainingRunOptions['smt']> = {}): TrainingRunOptions => ({
    method: 'smt',
    steps: 8,
    batchSize: 2,
    lr: 1e-2,
    smt: {
      blockSize: 4,
      warmupSteps: 3,
      warmup: 'gradient-only',
      groups: [{ matrices: ['wq', 'wk', 'wv'], blocks: 6 }],
      ...extra,
    },
  });

  it('changes only the selected blocks; every other weight stays bit-identical', async () => {
    const result = await finetune(source, examples, smtOptions());
    const smt = result.smt!;
    expect(smt.selectedBlocks).toBe(6);
    const perType = Object.values(smt.blocksPerMatrix)
      .flat()
      .reduce((a, b) => a + b, 0);
    expect(perType).toBe(6);
    const selected = new Set<string>();
    for (const { layer, matrix, blocks } of smt.selection) {
      for (const b of blocks) selected.add(`layers.${layer}.${matrix}:${b.rowBlock}:${b.colBlock}`);
    }
    let changedInside = 0;
    const after = new Map(weightEntries(config, result.weights));
    for (const [name, before] of weightEntries(config, base)) {
      const now = after.get(name)!;
      const cols = name.endsWith('Norm') || name === 'finalNorm' ? before.length : name.endsWith('w2') ? 24 : 16;
      for (let i = 0; i < before.length; i++) {
        const key = `${name}:${Math.floor(Math.floor(i / cols) / 4)}:${Math.floor((i % cols) / 4)}`;
        if (selected.has(key)) {
          if (now[i] !== before[i]) changedInside++;
        } else {
          expect(now[i], `${name}[${i}] is outside the selected blocks`).toBe(before[i]);
        }
      }
    }
    expect(changedInside).toBeGreaterThan(6 * 16 * 0.9);
  });

  it('gradient-only warm-up leaves the weights unchanged; the full-ft warm-up moves them', async () => {
    // lr 0 after selection: whatever changed, warm-up changed it.
    const gradOnly = await finetune(source, examples, { ...smtOptions(), lr: 0, steps: 4 });
    expectSameWeights(gradOnly.weights, base);
    const fullFt = await finetune(source, examples, {
      ...smtOptions({ warmup: 'full-ft', warmupLr: 1e-2 }),
      lr: 0,
      steps: 4,
    });
    expect(fullFt.weights.layers[0]!.w2.some((x, i) => x !== base.layers[0]!.w2[i])).toBe(true);
    // The full-ft warm-up needed full optimizer state; the gradient-only one none.
    expect(fullFt.memory.warmup!.optimizerState).toBe(
      8 * weightEntries(config, base).reduce((s, [, t]) => s + t.length, 0),
    );
    expect(gradOnly.memory.warmup!.optimizerState).toBe(0);
  });

  it('keeps optimizer state and gradients for the selected blocks only', async () => {
    const result = await finetune(source, examples, smtOptions());
    expect(result.memory.accounted.optimizerState).toBe(6 * 4 * 4 * 2 * 4);
    expect(result.memory.accounted.gradients).toBe(6 * 4 * 4 * 4);
    expect(result.trainableParameters).toBe(6 * 16);
  });

  it('does no gradient work below the lowest layer holding a selected block', async () => {
    const calls: Record<string, number> = {};
    const reference = createReferenceBackend();
    const counting = new Proxy(reference, {
      get(target, key: keyof KernelBackend) {
        const value = target[key];
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls[key] = (calls[key] ?? 0) + 1;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const selection = [{ layer: 1, matrix: 'wv' as const, blocks: [{ rowBlock: 1, colBlock: 2 }] }];
    const result = await finetune(source, examples, {
      method: 'smt',
      steps: 3,
      batchSize: 2,
      backend: counting,
      smt: { blockSize: 4, selection },
    });
    expect(result.smt!.warmupSteps).toBe(0);
    // 3 steps × 2 sequences × layer 1 only.
    expect(calls.attentionBackward).toBe(6);
    expect(calls.swigluBackward).toBe(3);
    expect(calls.blockSparseWeightGrad).toBe(3);
    expect(calls.adamUpdateBlocks).toBe(3);
    expect(calls.adamUpdate ?? 0).toBe(0);
  });

  it('records the selection and scores blocks with both named scores', async () => {
    const meanOfAbs = await finetune(source, examples, smtOptions());
    const absOfMean = await finetune(source, examples, smtOptions({ score: 'abs-of-mean' }));
    expect(meanOfAbs.smt!.score).toBe('mean-of-abs');
    expect(absOfMean.smt!.score).toBe('abs-of-mean');
    for (const r of [meanOfAbs, absOfMean]) {
      for (const s of r.smt!.selection) expect(['wq', 'wk', 'wv']).toContain(s.matrix);
    }
    const random = await finetune(source, examples, smtOptions({ strategy: 'random' }));
    expect(random.smt!.selectedBlocks).toBe(6);
  });
});

describe('trainer mechanics', () => {
  it('is deterministic for a seed and reports progress with loss, lr and step', async () => {
    const events: { step: number; loss: number; lr: number; phase: string }[] = [];
    const options: TrainingRunOptions = { method: 'lora', steps: 5, batchSize: 2, lr: 1e-2, seed: 3 };
    const a = await finetune(source, examples, { ...options, onProgress: (e) => events.push(e) });
    const b = await finetune(source, examples, options);
    expectSameWeights(a.weights, b.weights);
    const c = await finetune(source, examples, { ...options, seed: 4 });
    expect(c.losses).not.toEqual(a.losses);
    expect(events.map((e) => e.step)).toEqual([1, 2, 3, 4, 5]);
    expect(events.map((e) => e.lr)).toEqual([1e-2, 8e-3, 6e-3, 4e-3, 2e-3].map((x) => expect.closeTo(x, 12)));
    expect(events.map((e) => e.loss)).toEqual(a.losses);
  });

  it('stops with a TrainingDivergedError naming the step and tensor on a non-finite loss', async () => {
    const broken = randomLlamaWeights(config, { seed: 1, std: 0.2 });
    broken.layers[1]!.w2[5] = Number.NaN;
    const error = await finetune({ config, weights: broken }, examples, { method: 'full', steps: 2 }).catch((e) => e);
    expect(TrainingDivergedError.isInstance(error)).toBe(true);
    expect(DspyError.isInstance(error)).toBe(true);
    expect(TrainingDivergedError.isInstance(new DspyError('optimizer', 'other'))).toBe(false);
    expect(error).toMatchObject({ code: 'optimizer', step: 1, tensor: 'loss' });
    expect(error.message).toMatch(/step 1/);
  });

  it('names the tensor whose gradient is not finite', async () => {
    // A kernel that returns a NaN weight gradient (and nothing else wrong): the loss stays finite.
    const reference = createReferenceBackend();
    let calls = 0;
    const faulty: KernelBackend = {
      ...reference,
      rmsnormBackward: (...args) => {
        const r = reference.rmsnormBackward(...args);
        // The backward pass starts at the final norm; corrupt it on the second step only.
        if (++calls === 1 + 2 * config.nLayers + 1) r.dWeight[3] = Number.NaN;
        return r;
      },
    };
    const error = await finetune(source, examples, { method: 'full', steps: 3, backend: faulty }).catch((e) => e);
    expect(error).toBeInstanceOf(TrainingDivergedError);
    expect(error).toMatchObject({ code: 'optimizer', step: 2, tensor: 'finalNorm' });
    expect(error.message).toMatch(/finalNorm.*step 2/);
  });

  it('keeps the non-finite guard with layer checkpointing (the gradient comes from a recomputed tape)', async () => {
    const reference = createReferenceBackend();
    let calls = 0;
    const faulty: KernelBackend = {
      ...reference,
      rmsnormBackward: (...args) => {
        const r = reference.rmsnormBackward(...args);
        // Call 1 is the final norm, call 2 layer 1's FFN norm, from the recomputed tape, on the first step.
        if (++calls === 2) r.dWeight[3] = Number.NaN;
        return r;
      },
    };
    const error = await finetune(source, examples, {
      method: 'full',
      steps: 2,
      checkpointing: 'layer',
      backend: faulty,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(TrainingDivergedError);
    expect(error).toMatchObject({ code: 'optimizer', step: 1, tensor: 'layers.1.ffnNorm' });
    expect(error.message).toMatch(/layers\.1\.ffnNorm.*step 1/);
  });

  it('rejects bad options with clear messages', async () => {
    await expect(finetune(source, examples, { method: 'smt', steps: 2, smt: { warmupSteps: 2 } })).rejects.toThrow(
      /warmupSteps/,
    );
    await expect(finetune(source, examples, { method: 'lora', lora: { targets: ['wz' as never] } })).rejects.toThrow(
      /unknown matrix 'wz'/,
    );
    await expect(finetune(source, [{ tokens: [1, 99] }], { method: 'full' })).rejects.toThrow(/outside the vocabulary/);
    await expect(finetune(source, examples, { method: 'full', checkpointing: 'all' as never })).rejects.toThrow(
      /checkpointing must be 'none' or 'layer', got 'all'/,
    );
  });
});

describe('backends', () => {
  it('trains on the wasm backend to the same losses as on the reference backend', async () => {
    const wasm = await createWasmBackend({ threads: 1 });
    try {
      const options: TrainingRunOptions = {
        method: 'smt',
        steps: 4,
        batchSize: 2,
        lr: 1e-2,
        smt: { blockSize: 4, warmupSteps: 2, warmup: 'full-ft', groups: [{ matrices: ['wv', 'w2'], blocks: 5 }] },
      };
      const reference = await finetune(source, examples, options);
      const fast = await finetune({ ...source, backend: wasm }, examples, options);
      expect(fast.smt!.selection).toEqual(reference.smt!.selection);
      fast.losses.forEach((loss, i) => {
        expect(loss).toBeCloseTo(reference.losses[i]!, 4);
      });
    } finally {
      await wasm.dispose();
    }
  });
});

describe('per-layer gradient checkpointing', () => {
  const cases: [string, TrainingRunOptions][] = [
    ['full', { method: 'full', lr: 1e-2 }],
    ['lora', { method: 'lora', lr: 3e-2, lora: { rank: 2 } }],
    ['dora', { method: 'dora', lr: 3e-2, lora: { rank: 2 } }],
    ['smt', { method: 'smt', lr: 3e-2, smt: { blockSize: 4, warmupSteps: 2 } }],
    [
      'smt, gradient-only warm-up',
      { method: 'smt', lr: 3e-2, smt: { blockSize: 4, warmupSteps: 2, warmup: 'gradient-only' } },
    ],
  ];
  for (const [name, options] of cases) {
    it(`${name}: same losses, selection and weights bit for bit, fewer activation bytes`, async () => {
      const common: TrainingRunOptions = { ...options, steps: 5, batchSize: 3, seed: 2 };
      const plain = await finetune(source, examples, common);
      const checkpointed = await finetune(source, examples, { ...common, checkpointing: 'layer' });
      expect(checkpointed.losses).toEqual(plain.losses);
      expect(checkpointed.smt?.selection).toEqual(plain.smt?.selection);
      expectSameWeights(checkpointed.weights, plain.weights);
      expect(plain.memory.checkpointing).toBe('none');
      expect(checkpointed.memory.checkpointing).toBe('layer');
      const a = plain.memory;
      const b = checkpointed.memory;
      expect(b.accounted.activations).toBeLessThan(a.accounted.activations);
      expect(b.accounted.total - b.accounted.activations).toBe(a.accounted.total - a.accounted.activations);
      expect(a.accounted.activations).toBe(a.activationParts.stored + a.activationParts.head);
      expect(b.activationParts.recomputedLayer).toBeGreaterThan(0);
      // The peak is at the loss or inside some layer's backward, where only the inputs of the layers not yet
      // back-propagated are still stored.
      const { stored, head, recomputedLayer } = b.activationParts;
      expect(b.accounted.activations).toBeGreaterThanOrEqual(stored + head);
      expect(b.accounted.activations).toBeLessThanOrEqual(stored + Math.max(head, recomputedLayer));
    });
  }
});

describe('checkpoint and resume', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smt-training-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const cases: [string, TrainingRunOptions, number][] = [
    ['full', { method: 'full', lr: 1e-2 }, 3],
    ['dora', { method: 'dora', lr: 1e-2, lora: { rank: 2 } }, 3],
    ['smt across the selection', { method: 'smt', lr: 1e-2, smt: { blockSize: 4, warmupSteps: 2 } }, 3],
    ['smt inside warm-up', { method: 'smt', lr: 1e-2, smt: { blockSize: 4, warmupSteps: 3 } }, 1],
    [
      'smt with layer checkpointing',
      { method: 'smt', lr: 1e-2, checkpointing: 'layer', smt: { blockSize: 4, warmupSteps: 2 } },
      3,
    ],
  ];
  for (const [name, options, abortAfter] of cases) {
    it(`${name}: N/2 steps, abort, resume to N gives the same weights bit for bit`, async () => {
      const common: TrainingRunOptions = { ...options, steps: 6, batchSize: 2, seed: 5 };
      const straight = await finetune(source, examples, common);
      const path = join(dir, `${name.replaceAll(' ', '-')}.safetensors`);
      const controller = new AbortController();
      const aborted = await finetune(source, examples, {
        ...common,
        checkpoint: { path },
        signal: controller.signal,
        onProgress: (e) => {
          if (e.step === abortAfter) controller.abort();
        },
      }).catch((e) => e);
      expect(aborted).toMatchObject({ code: 'aborted' });
      const resumed: FinetuneResult = await finetune(source, examples, {
        ...common,
        checkpoint: { path },
        resume: true,
      });
      expectSameWeights(resumed.weights, straight.weights);
      expect(resumed.losses).toEqual(straight.losses);
      expect(resumed.smt?.selection).toEqual(straight.smt?.selection);
      // Atomic writes leave no temporary files behind.
      expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    });
  }

  it('refuses a checkpoint from a different run', async () => {
    const path = join(dir, 'other.safetensors');
    await finetune(source, examples, { method: 'full', steps: 2, checkpoint: { path } });
    await expect(
      finetune(source, examples, { method: 'full', steps: 2, lr: 5e-4, checkpoint: { path }, resume: true }),
    ).rejects.toMatchObject({ code: 'state' });
  });
});

describe('memory accounting', () => {
  // stories260K's shape with random weights, one sequence of 32 tokens, 100 SMT blocks of 8×8 among Q, K, V (the
  // budget matched to LoRA r = 4 in spec §7.2).
  const shape: LlamaConfig = {
    ...config,
    dim: 64,
    hiddenDim: 172,
    nLayers: 5,
    nHeads: 8,
    nKvHeads: 4,
    vocabSize: 512,
    seqLen: 64,
  };
  const weights = randomLlamaWeights(shape, { seed: 2 });
  const r = mulberry32(4);
  const data = [{ tokens: Array.from({ length: 33 }, () => Math.floor(r() * 512)) }];
  const backend = createReferenceBackend();
  const candidates = weights.layers.flatMap((_, layer) =>
    (['wq', 'wk', 'wv'] as const).map((matrix) => ({ layer, matrix, rows: matrix === 'wq' ? 64 : 32, cols: 64 })),
  );
  const selection = selectBlocks(
    backend,
    candidates,
    { matrices: ['wq', 'wk', 'wv'], blocks: 100 },
    { blockSize: 8, score: 'mean-of-abs', strategy: 'random', seed: 1 },
  );
  const run = (method: 'full' | 'smt', checkpointing: 'none' | 'layer') =>
    finetune({ config: shape, weights, backend }, data, {
      method,
      steps: 1,
      checkpointing,
      ...(method === 'smt' ? { smt: { blockSize: 8, selection } } : {}),
    });

  it('counts weights, gradients, Adam state and the activations held, logits included', async () => {
    const full = await run('full', 'none');
    const smt = await run('smt', 'none');
    const f = full.memory.accounted;
    const s = smt.memory.accounted;
    expect(f.weights).toBe(4 * 260_032);
    expect(f.gradients).toBe(4 * 260_032);
    expect(f.optimizerState).toBe(8 * 260_032);
    expect(s.weights).toBe(4 * 260_032);
    expect(s.gradients).toBe(100 * 64 * 4);
    expect(s.optimizerState).toBe(100 * 64 * 8);
    // 32 positions: logits and their gradient (2 · 32 · 512 floats), the final norm's input and 1/rms, and (full
    // fine-tuning only: the classifier trains) the final norm's output.
    expect(smt.memory.activationParts.head).toBe(4 * (2 * 32 * 512 + 32 * 64 + 32));
    expect(full.memory.activationParts.head).toBe(4 * (2 * 32 * 512 + 32 * 64 + 32 + 32 * 64));
    expect(s.activations).toBeLessThan(f.activations);
    expect(full.memory.measuredPeak.arrayBuffers).toBeGreaterThan(0);
  });

  it("with layer checkpointing SMT's training state is at most 35 % of full fine-tuning's (stories260K shape, 1 × 32 tokens)", async () => {
    const full = await run('full', 'layer');
    const smt = await run('smt', 'layer');
    const f = full.memory.accounted;
    const s = smt.memory.accounted;
    // Stored: the inputs of all 5 layers (SMT's selection spans every layer), 32 × 64 floats each.
    expect(full.memory.activationParts.stored).toBe(5 * 4 * 32 * 64);
    expect(smt.memory.activationParts.stored).toBe(5 * 4 * 32 * 64);
    expect(s.total / f.total).toBeLessThanOrEqual(0.35);
    // Without checkpointing the same comparison gives a larger share: the tape of all 5 layers outweighs the
    // weights and Adam state at this size.
    const plainFull = (await run('full', 'none')).memory.accounted;
    const plainSmt = (await run('smt', 'none')).memory.accounted;
    expect(plainSmt.total / plainFull.total).toBeGreaterThan(s.total / f.total);
  });
});
