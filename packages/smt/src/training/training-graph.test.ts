import { describe, expect, it } from 'vitest';
import type { KernelBackend } from '../kernels/backend.ts';
import { mulberry32 } from '../kernels/reference/random.ts';
import { createReferenceBackend } from '../kernels/reference/reference-backend.ts';
import type { LlamaConfig, LlamaWeights } from '../model/llama-config.ts';
import { LlamaModel } from '../model/llama-model.ts';
import { adaptedWeight, createLoraAdapter, rowNorms } from './lora-adapter.ts';
import { randomLlamaWeights } from './random-llama.ts';
import {
  frozenPlan,
  type GradientPlan,
  type LinearMode,
  MATRIX_NAMES,
  type TrainingBatch,
  TrainingGraph,
} from './training-graph.ts';

const tiny = (over: Partial<LlamaConfig> = {}): LlamaConfig => ({
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
  ...over,
});

// Two sequences (6 and 4 positions) with some targets masked out, stacked as the trainer does.
const batch: TrainingBatch = {
  inputs: Int32Array.from([1, 5, 9, 3, 7, 2, 1, 30, 4, 11]),
  targets: Int32Array.from([5, 9, 3, 7, 2, 8, 30, 4, 11, 6]),
  mask: Uint8Array.from([0, 1, 1, 1, 1, 1, 0, 0, 1, 1]),
  lengths: [6, 4],
};

const backend = createReferenceBackend();

function lossOf(config: LlamaConfig, weights: LlamaWeights): number {
  return new TrainingGraph(config, weights, frozenPlan(config), backend).run(batch, { backward: false }).loss;
}

/** Central finite difference of `loss` with respect to `tensor[i]`, using the float32-rounded step actually taken. */
function finiteDifference(tensor: Float32Array, i: number, loss: () => number, h = 1e-2): number {
  const original = tensor[i]!;
  tensor[i] = original + h;
  const plus = tensor[i]!;
  const lossPlus = loss();
  tensor[i] = original - h;
  const minus = tensor[i]!;
  const lossMinus = loss();
  tensor[i] = original;
  return (lossPlus - lossMinus) / (plus - minus);
}

/** Compares analytic and numeric gradients at sampled entries (plus the largest), returns the worst mismatch. */
function checkTensor(name: string, tensor: Float32Array, grad: Float32Array, loss: () => number, seed: number) {
  const rng = mulberry32(seed);
  let largest = 0;
  for (let i = 1; i < grad.length; i++) if (Math.abs(grad[i]!) > Math.abs(grad[largest]!)) largest = i;
  const picks = new Set([largest, ...Array.from({ length: 10 }, () => Math.floor(rng() * grad.length))]);
  let analyticNorm = 0;
  let diffNorm = 0;
  for (const i of picks) {
    const numeric = finiteDifference(tensor, i, loss);
    const analytic = grad[i]!;
    expect(Math.abs(numeric - analytic), `${name}[${i}]: analytic ${analytic}, numeric ${numeric}`).toBeLessThan(
      3e-4 + 2e-2 * Math.abs(analytic),
    );
    analyticNorm += analytic * analytic;
    diffNorm += (numeric - analytic) ** 2;
  }
  // Guard against a check that passes only because everything is zero.
  expect(Math.sqrt(analyticNorm), `${name} gradient is all zero at the sampled entries`).toBeGreaterThan(1e-4);
  expect(Math.sqrt(diffNorm / analyticNorm), name).toBeLessThan(2e-2);
}

function densePlan(config: LlamaConfig, weights: LlamaWeights): GradientPlan {
  const embedding = new Float32Array(weights.tokenEmbedding.length);
  return {
    tokenEmbedding: embedding,
    classifier: config.sharedClassifier ? embedding : new Float32Array(weights.classifier.length),
    finalNorm: new Float32Array(config.dim),
    layers: weights.layers.map((layer) => ({
      attnNorm: new Float32Array(config.dim),
      ffnNorm: new Float32Array(config.dim),
      matrices: Object.fromEntries(
        MATRIX_NAMES.map((name) => [name, { kind: 'dense', grad: new Float32Array(layer[name].length) }]),
      ) as Record<(typeof MATRIX_NAMES)[number], LinearMode>,
    })),
  };
}

describe('TrainingGraph backward against finite differences', () => {
  for (const shared of [true, false]) {
    it(`matches every weight's gradient (${shared ? 'shared classifier, interleaved' : 'separate classifier, rotate-half'} RoPE)`, () => {
      const config = tiny({ sharedClassifier: shared, ropeLayout: shared ? 'interleaved' : 'rotate-half' });
      const weights = randomLlamaWeights(config, { seed: 3, std: 0.3, normJitter: 0.3 });
      const plan = densePlan(config, weights);
      const { loss, count } = new TrainingGraph(config, weights, plan, backend).run(batch);
      expect(count).toBe(7);
      expect(loss).toBeCloseTo(lossOf(config, weights), 6);
      const f = () => lossOf(config, weights);
      let seed = 10;
      checkTensor('tokenEmbedding', weights.tokenEmbedding, plan.tokenEmbedding!, f, seed++);
      if (!shared) checkTensor('classifier', weights.classifier, plan.classifier!, f, seed++);
      checkTensor('finalNorm', weights.finalNorm, plan.finalNorm!, f, seed++);
      weights.layers.forEach((layer, l) => {
        const lp = plan.layers[l]!;
        checkTensor(`layers.${l}.attnNorm`, layer.attnNorm, lp.attnNorm!, f, seed++);
        checkTensor(`layers.${l}.ffnNorm`, layer.ffnNorm, lp.ffnNorm!, f, seed++);
        for (const name of MATRIX_NAMES) {
          const mode = lp.matrices[name] as { grad: Float32Array };
          checkTensor(`layers.${l}.${name}`, layer[name], mode.grad, f, seed++);
        }
      });
    });
  }

  it('computes the same loss as the inference runtime', () => {
    const config = tiny();
    const weights = randomLlamaWeights(config, { seed: 5, std: 0.3 });
    const tokenizer = { vocabSize: 32, bosId: 1, eosId: 2 } as never;
    const model = new LlamaModel({ config, weights, tokenizer, inference: 'backend' });
    const logits = model.forward(batch.inputs.subarray(0, 6), 0);
    const one: TrainingBatch = {
      inputs: batch.inputs.subarray(0, 6),
      targets: batch.targets.subarray(0, 6),
      mask: new Uint8Array(6).fill(1),
      lengths: [6],
    };
    const expected = backend.crossEntropy(logits, one.targets, 6, 32).loss;
    const graph = new TrainingGraph(config, weights, frozenPlan(config), backend);
    expect(graph.run(one, { backward: false }).loss).toBe(expected);
  });

  for (const dora of [false, true]) {
    it(`matches ${dora ? 'DoRA' : 'LoRA'} adapter gradients (A, B${dora ? ', magnitude' : ''})`, () => {
      const config = tiny();
      const weights = randomLlamaWeights(config, { seed: 4, std: 0.3 });
      const rng = mulberry32(9);
      const plan = frozenPlan(config);
      const adapters = (['wq', 'wv', 'w2'] as const).map((name) => {
        const [outDim, inDim] = name === 'w2' ? [16, 24] : name === 'wv' ? [8, 16] : [16, 16];
        const adapter = createLoraAdapter(weights.layers[1]![name], outDim, inDim, { rank: 2, alpha: 4, dora, rng });
        // A non-zero B (and moved magnitudes) so every gradient path is exercised.
        for (let i = 0; i < adapter.b.length; i++) adapter.b[i] = 0.3 * (2 * rng() - 1);
        if (adapter.magnitude) for (let i = 0; i < outDim; i++) adapter.magnitude[i] = adapter.magnitude[i]! * 1.2;
        const mode = {
          kind: 'adapter' as const,
          adapter,
          gradA: new Float32Array(adapter.a.length),
          gradB: new Float32Array(adapter.b.length),
          ...(dora ? { gradMagnitude: new Float32Array(outDim) } : {}),
        };
        plan.layers[1]!.matrices[name] = mode;
        return { name, mode };
      });
      new TrainingGraph(config, weights, plan, backend).run(batch);
      const f = () => new TrainingGraph(config, weights, plan, backend).run(batch, { backward: false }).loss;
      let seed = 40;
      for (const { name, mode } of adapters) {
        const { adapter } = mode;
        // DoRA's backward treats ‖W0 + s·BA‖ as a constant (PEFT's detach): the matching numeric derivative keeps
        // every row factor m/‖·‖ at its unperturbed value by rescaling the magnitudes along with the perturbation.
        const w0 = weights.layers[1]![name];
        const norms = () => rowNorms(adaptedWeight(backend, w0, adapter), adapter.outDim, adapter.inDim);
        const n0 = dora ? norms() : undefined;
        const detached = () => {
          if (!n0) return f();
          const m = adapter.magnitude!.slice();
          const n = norms();
          for (let i = 0; i < m.length; i++) adapter.magnitude![i] = (m[i]! * n[i]!) / n0[i]!;
          const loss = f();
          adapter.magnitude!.set(m);
          return loss;
        };
        checkTensor(`${name}.A`, adapter.a, mode.gradA, detached, seed++);
        checkTensor(`${name}.B`, adapter.b, mode.gradB, detached, seed++);
        if (dora) checkTensor(`${name}.magnitude`, adapter.magnitude!, mode.gradMagnitude!, f, seed++);
      }
    });
  }

  it('computes block-sparse gradients equal to the dense gradient on the selected blocks, ragged edges included', () => {
    // hiddenDim 20 with block size 8 leaves a ragged 4-wide edge block in w1/w3 rows and w2 columns.
    const config = tiny({ hiddenDim: 20 });
    const weights = randomLlamaWeights(config, { seed: 6, std: 0.3 });
    const dense = densePlan(config, weights);
    new TrainingGraph(config, weights, dense, backend).run(batch);
    const blocks = {
      wq: [
        { rowBlock: 1, colBlock: 0 },
        { rowBlock: 0, colBlock: 1 },
      ],
      wv: [{ rowBlock: 0, colBlock: 1 }],
      w2: [
        { rowBlock: 1, colBlock: 2 },
        { rowBlock: 0, colBlock: 0 },
      ],
      w1: [{ rowBlock: 2, colBlock: 1 }],
    } as const;
    const sparse = frozenPlan(config);
    for (const [name, list] of Object.entries(blocks)) {
      sparse.layers[1]!.matrices[name as keyof typeof blocks] = {
        kind: 'blocks',
        blocks: list,
        blockSize: 8,
        grad: new Float32Array(list.length * 64),
      };
    }
    const run = new TrainingGraph(config, weights, sparse, backend).run(batch);
    for (const [name, list] of Object.entries(blocks) as [
      keyof typeof blocks,
      readonly { rowBlock: number; colBlock: number }[],
    ][]) {
      const [rows, cols] = name === 'w2' ? [16, 20] : name === 'w1' ? [20, 16] : name === 'wv' ? [8, 16] : [16, 16];
      const full = (dense.layers[1]!.matrices[name] as { grad: Float32Array }).grad;
      const packed = (sparse.layers[1]!.matrices[name] as { grad: Float32Array }).grad;
      list.forEach(({ rowBlock, colBlock }, k) => {
        for (let i = 0; i < 8; i++) {
          for (let j = 0; j < 8; j++) {
            const r = rowBlock * 8 + i;
            const c = colBlock * 8 + j;
            const expected = r < rows && c < cols ? full[r * cols + c]! : 0;
            expect(packed[k * 64 + i * 8 + j], `${name} block ${k} (${i}, ${j})`).toBe(expected);
          }
        }
      });
    }
    // Only the used column slices are kept for the sparse matrices, so the tape is smaller than full training's.
    const fullRun = new TrainingGraph(config, weights, densePlan(config, weights), backend).run(batch);
    expect(run.activationBytes).toBeLessThan(fullRun.activationBytes / 2);
  });

  it('runs no backward kernel below the lowest layer with a trainable tensor', () => {
    const config = tiny({ nLayers: 3 });
    const weights = randomLlamaWeights(config, { seed: 7, std: 0.3 });
    const calls: Record<string, number> = {};
    const counting = new Proxy(backend, {
      get(target, key: keyof KernelBackend) {
        const value = target[key];
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls[key] = (calls[key] ?? 0) + 1;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const plan = frozenPlan(config);
    plan.layers[1]!.matrices.wk = {
      kind: 'blocks',
      blocks: [{ rowBlock: 0, colBlock: 1 }],
      blockSize: 4,
      grad: new Float32Array(16),
    };
    const graph = new TrainingGraph(config, weights, plan, counting);
    expect(graph.stopLayer).toBe(1);
    graph.run(batch);
    // Two sequences: attention backward for layers 2 and 1 only; the lowest layer needs no input gradient, so
    // its attention-norm backward is skipped too (2 rmsnorm backwards in layer 2, 1 in layer 1, 1 final).
    expect(calls.attentionBackward).toBe(2 * 2);
    expect(calls.swigluBackward).toBe(2);
    expect(calls.rmsnormBackward).toBe(4);
    expect(calls.blockSparseWeightGrad).toBe(1);
  });
});

/** Every gradient buffer of a plan, by name, in a fixed order (a shared classifier appears once). */
function planGradients(plan: GradientPlan): [string, Float32Array][] {
  const out: [string, Float32Array][] = [];
  if (plan.tokenEmbedding) out.push(['tokenEmbedding', plan.tokenEmbedding]);
  if (plan.classifier && plan.classifier !== plan.tokenEmbedding) out.push(['classifier', plan.classifier]);
  if (plan.finalNorm) out.push(['finalNorm', plan.finalNorm]);
  plan.layers.forEach((layer, l) => {
    if (layer.attnNorm) out.push([`layers.${l}.attnNorm`, layer.attnNorm]);
    if (layer.ffnNorm) out.push([`layers.${l}.ffnNorm`, layer.ffnNorm]);
    for (const name of MATRIX_NAMES) {
      const mode = layer.matrices[name];
      if (mode.kind === 'dense' || mode.kind === 'blocks') out.push([`layers.${l}.${name}`, mode.grad]);
      if (mode.kind === 'adapter') {
        out.push([`layers.${l}.${name}.A`, mode.gradA], [`layers.${l}.${name}.B`, mode.gradB]);
        if (mode.gradMagnitude) out.push([`layers.${l}.${name}.magnitude`, mode.gradMagnitude]);
      }
    }
  });
  return out;
}

describe('per-layer gradient checkpointing', () => {
  const config = tiny({ nLayers: 3 });
  const weights = randomLlamaWeights(config, { seed: 12, std: 0.3, normJitter: 0.3 });
  const adapterPlan = (dora: boolean) => {
    const rng = mulberry32(21);
    const plan = frozenPlan(config);
    weights.layers.forEach((layer, l) => {
      for (const name of ['wq', 'wk', 'wv'] as const) {
        const outDim = name === 'wq' ? 16 : 8;
        const adapter = createLoraAdapter(layer[name], outDim, 16, { rank: 2, alpha: 4, dora, rng });
        for (let i = 0; i < adapter.b.length; i++) adapter.b[i] = 0.3 * (2 * rng() - 1);
        plan.layers[l]!.matrices[name] = {
          kind: 'adapter',
          adapter,
          gradA: new Float32Array(adapter.a.length),
          gradB: new Float32Array(adapter.b.length),
          ...(dora ? { gradMagnitude: new Float32Array(outDim) } : {}),
        };
      }
    });
    return plan;
  };
  const blocksPlan = () => {
    const plan = frozenPlan(config);
    plan.layers[1]!.matrices.wv = {
      kind: 'blocks',
      blocks: [
        { rowBlock: 1, colBlock: 0 },
        { rowBlock: 0, colBlock: 3 },
      ],
      blockSize: 4,
      grad: new Float32Array(2 * 16),
    };
    plan.layers[2]!.matrices.wq = {
      kind: 'blocks',
      blocks: [{ rowBlock: 2, colBlock: 1 }],
      blockSize: 4,
      grad: new Float32Array(16),
    };
    return plan;
  };
  const plans: [string, () => GradientPlan][] = [
    ['full', () => densePlan(config, weights)],
    ['lora', () => adapterPlan(false)],
    ['dora', () => adapterPlan(true)],
    ['smt blocks', blocksPlan],
  ];
  for (const [name, make] of plans) {
    it(`${name}: gives the same loss and gradients bit for bit, holding fewer activation bytes`, () => {
      const plain = make();
      const checkpointed = make();
      const a = new TrainingGraph(config, weights, plain, backend).run(batch);
      const b = new TrainingGraph(config, weights, checkpointed, backend, { checkpointing: 'layer' }).run(batch);
      expect(b.loss).toBe(a.loss);
      const left = planGradients(plain);
      const right = planGradients(checkpointed);
      expect(right.map(([n]) => n)).toEqual(left.map(([n]) => n));
      let nonZero = 0;
      left.forEach(([tensor, grad], i) => {
        const other = right[i]![1];
        for (let j = 0; j < grad.length; j++) {
          if (grad[j] !== 0) nonZero++;
          if (other[j] !== grad[j]) {
            throw new Error(`${tensor}[${j}]: checkpointed ${other[j]}, plain ${grad[j]}; expected identical values`);
          }
        }
      });
      expect(nonZero, 'the plan produced no non-zero gradient').toBeGreaterThan(0);
      expect(a.activationParts.recomputedLayer).toBe(0);
      expect(b.activationParts.recomputedLayer).toBeGreaterThan(0);
      expect(b.activationParts.head).toBe(a.activationParts.head);
      expect(b.activationParts.stored).toBeLessThan(a.activationParts.stored);
      expect(b.activationBytes).toBeLessThan(a.activationBytes);
    });
  }

  it('passes the finite-difference check on every weight', () => {
    const w = randomLlamaWeights(config, { seed: 13, std: 0.3, normJitter: 0.3 });
    const plan = densePlan(config, w);
    new TrainingGraph(config, w, plan, backend, { checkpointing: 'layer' }).run(batch);
    const f = () => lossOf(config, w);
    let seed = 70;
    checkTensor('tokenEmbedding', w.tokenEmbedding, plan.tokenEmbedding!, f, seed++);
    checkTensor('finalNorm', w.finalNorm, plan.finalNorm!, f, seed++);
    w.layers.forEach((layer, l) => {
      const lp = plan.layers[l]!;
      checkTensor(`layers.${l}.attnNorm`, layer.attnNorm, lp.attnNorm!, f, seed++);
      checkTensor(`layers.${l}.ffnNorm`, layer.ffnNorm, lp.ffnNorm!, f, seed++);
      for (const name of MATRIX_NAMES) {
        checkTensor(`layers.${l}.${name}`, layer[name], (lp.matrices[name] as { grad: Float32Array }).grad, f, seed++);
      }
    });
  });

  it('accounts the stored layer inputs, one recomputed tape and the head exactly', () => {
    const N = batch.inputs.length;
    const { dim, vocabSize, nLayers } = config;
    const plain = new TrainingGraph(config, weights, densePlan(config, weights), backend).run(batch);
    const samples: number[] = [];
    let calls = 0;
    const run = new TrainingGraph(config, weights, densePlan(config, weights), backend, {
      checkpointing: 'layer',
    }).run(batch, { sample: () => samples.push(++calls) });
    // Head: logits and their gradient, the final norm's input, its 1/rms and its output (the classifier trains).
    const head = 4 * (2 * N * vocabSize + N * dim + N + N * dim);
    expect(run.activationParts.head).toBe(head);
    expect(plain.activationParts.head).toBe(head);
    // Full training keeps every layer's input: the checkpoints are exactly nLayers · N · dim floats.
    expect(run.activationParts.stored).toBe(4 * nLayers * N * dim);
    // Every layer's tape has the same size under a dense plan and includes the layer input once.
    expect(run.activationParts.recomputedLayer).toBe(plain.activationParts.stored / nLayers - 4 * N * dim);
    expect(plain.activationBytes).toBe(plain.activationParts.stored + head);
    // Peak: at the loss, or in the top layer's backward with every input still stored plus that layer's tape.
    expect(run.activationBytes).toBe(
      Math.max(run.activationParts.stored + head, run.activationParts.stored + run.activationParts.recomputedLayer),
    );
    // One sample at the loss and one per back-propagated layer.
    expect(samples).toEqual([1, 2, 3, 4]);
  });

  it('stores no input below the lowest layer with a trainable tensor and recomputes only the layers above', () => {
    const calls: Record<string, number> = {};
    const counting = new Proxy(backend, {
      get(target, key: keyof KernelBackend) {
        const value = target[key];
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls[key] = (calls[key] ?? 0) + 1;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const plan = blocksPlan();
    const run = new TrainingGraph(config, weights, plan, counting, { checkpointing: 'layer' }).run(batch);
    // Layers 1 and 2 run backward: their inputs are stored; layer 0's is not.
    expect(run.activationParts.stored).toBe(2 * 4 * batch.inputs.length * config.dim);
    // Two sequences: 3 layers forward + 2 recomputed layers = 5 attention forwards per sequence.
    expect(calls.attentionForward).toBe(2 * 5);
    expect(calls.attentionBackward).toBe(2 * 2);
  });

  it('rejects an unknown checkpointing mode, naming what it expected', () => {
    expect(
      () => new TrainingGraph(config, weights, frozenPlan(config), backend, { checkpointing: 'block' as never }),
    ).toThrow(/checkpointing must be 'none' or 'layer', got 'block'/);
  });
});
