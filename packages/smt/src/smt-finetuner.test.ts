import { type ChatFinetuneRecord, DspyError, type LMMessage, type ProgressEvent } from '@dspy-ts/core';
import { ScriptedLM } from '@dspy-ts/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalLM } from './local-lm.ts';
import type { LlamaModel } from './model/llama-model.ts';
import { loadLlama2c } from './model/load-llama2c.ts';
import { FinetunedLocalLM, SMTFinetuner } from './smt-finetuner.ts';
import { cloneWeights, weightEntries } from './training/finetune.ts';
import { MATRIX_NAMES } from './training/training-graph.ts';

const modelDir = new URL('../../../../shared/models/stories260K/', import.meta.url);
let model: LlamaModel;
let original: ReturnType<typeof cloneWeights>;

beforeAll(async () => {
  model = await loadLlama2c({
    checkpoint: new URL('stories260K.bin', modelDir),
    tokenizer: new URL('tok512.bin', modelDir),
    backend: 'auto',
  });
  original = cloneWeights(model.config, model.weights);
});
afterAll(async () => {
  await model.dispose();
});

const STORIES: [string, string, string][] = [
  ['Tim', 'Sue', 'ball'],
  ['Lily', 'Ben', 'kite'],
  ['Max', 'Mia', 'doll'],
  ['Tom', 'Sam', 'hat'],
];

/** Records as BootstrapFinetune hands them over: a system turn, the question, the answer to learn. */
const records: ChatFinetuneRecord[] = STORIES.map(([a, b, object]) => ({
  messages: [
    { role: 'system', content: 'Answer with a name.' },
    { role: 'user', content: `${a} had a ${object}. ${a} gave the ${object} to ${b}. Who has the ${object}?` },
    { role: 'assistant', content: `Answer: ${b}` },
  ],
}));

const smtOptions = {
  steps: 5,
  batchSize: 2,
  lr: 1e-2,
  smt: {
    warmup: 'gradient-only' as const,
    warmupSteps: 2,
    groups: [{ matrices: ['wq', 'wk', 'wv'] as const, blocks: 6 }],
  },
};

/** Whether (row, col) of a `cols`-wide matrix lies in one of the blocks. */
function inBlocks(blocks: { rowBlock: number; colBlock: number }[], blockSize: number, row: number, col: number) {
  return blocks.some((b) => Math.floor(row / blockSize) === b.rowBlock && Math.floor(col / blockSize) === b.colBlock);
}

describe('SMTFinetuner', () => {
  it('turns chat records into a LocalLM whose weights differ from the base only in the selected blocks', async () => {
    const finetuner = new SMTFinetuner({
      ...smtOptions,
      smt: { ...smtOptions.smt, groups: smtOptions.smt.groups.map((g) => ({ ...g, matrices: [...g.matrices] })) },
    });
    const base = new LocalLM(model, { defaults: { maxTokens: 6 } });
    const events: ProgressEvent[] = [];
    const lm = await finetuner.finetune(records, { baseLM: base, onProgress: (e) => events.push(e) });

    expect(lm).toBeInstanceOf(FinetunedLocalLM);
    expect(lm).toBeInstanceOf(LocalLM);
    expect(lm.modelId).toBe('local/stories260K+smt');
    expect(lm.defaults.maxTokens).toBe(6);
    expect(lm.model).not.toBe(model);

    // Progress: one event per step, the warm-up first.
    expect(events.map((e) => [e.phase, e.completed, e.total])).toEqual([
      ['warmup', 1, 5],
      ['warmup', 2, 5],
      ['train', 3, 5],
      ['train', 4, 5],
      ['train', 5, 5],
    ]);
    expect(events.every((e) => Number.isFinite(e.metrics?.loss))).toBe(true);

    // The report: selection per matrix type and layer, memory accounting, data statistics.
    const { report } = lm;
    expect(report.method).toBe('smt');
    expect(report.records).toBe(4);
    expect(report.steps).toBe(5);
    expect(report.losses).toHaveLength(5);
    expect(report.backend).toBe(model.backend.name);
    expect(report.targetTokens).toBeGreaterThan(4 * 3);
    expect(report.targetTokens).toBeLessThan(report.tokens / 2);
    const smt = report.smt;
    expect(smt?.selectedBlocks).toBe(6);
    const perMatrix = Object.values(smt?.blocksPerMatrix ?? {}).flat();
    expect(perMatrix.reduce((s, n) => s + n, 0)).toBe(6);
    expect(report.trainableParameters).toBe(6 * 64);
    expect(report.totalParameters).toBe(260_032);
    expect(report.memory.accounted.optimizerState).toBe(6 * 64 * 8);
    expect(report.memory.accounted.gradients).toBe(6 * 64 * 4);
    expect(report.memory.warmup?.gradients).toBeGreaterThan(report.memory.accounted.gradients);
    expect(report.memory.accounted.total).toBeGreaterThan(report.memory.accounted.weights);

    // Weights: the base is untouched; the tuned model moved inside the selected blocks and nowhere else.
    const baseEntries = weightEntries(model.config, original);
    for (const [i, [name, tensor]] of weightEntries(model.config, model.weights).entries()) {
      expect(
        Buffer.from(tensor.buffer).equals(Buffer.from((baseEntries[i] as [string, Float32Array])[1].buffer)),
        name,
      ).toBe(true);
    }
    const selected = new Map((smt?.selection ?? []).map((s) => [`layers.${s.layer}.${s.matrix}`, s.blocks]));
    let changedInBlocks = 0;
    for (const [i, [name, tensor]] of weightEntries(model.config, lm.model.weights).entries()) {
      const before = (baseEntries[i] as [string, Float32Array])[1];
      const matrix = name.split('.')[2] as (typeof MATRIX_NAMES)[number];
      const blocks = selected.get(name);
      const cols = MATRIX_NAMES.includes(matrix) ? model.config.dim : 1;
      const width = matrix === 'w2' ? model.config.hiddenDim : cols;
      for (let j = 0; j < tensor.length; j++) {
        const inside = blocks !== undefined && inBlocks(blocks, smt?.blockSize ?? 8, Math.floor(j / width), j % width);
        if (inside) {
          if (tensor[j] !== before[j]) changedInBlocks++;
        } else if (tensor[j] !== before[j]) {
          throw new Error(`${name}[${j}] changed outside the selected blocks`);
        }
      }
    }
    expect(changedInBlocks).toBeGreaterThan(6 * 64 * 0.9);

    // The new LM generates through the chat template, and remembers how it was made.
    const response = await lm.generate({ messages: records[0]?.messages.slice(0, -1) as LMMessage[] });
    expect(response.modelId).toBe('local/stories260K+smt');
    expect(response.usage.outputTokens).toBeGreaterThan(0);
    expect(lm.dumpState()).toMatchObject({ model: 'local/stories260K+smt', finetune_method: 'smt' });
    expect(lm.withDefaults({ temperature: 0.5 }).report).toBe(report);
  });

  it('lets trainKwargs pick the method and loads the base model from modelDir', async () => {
    const finetuner = new SMTFinetuner({ modelDir, steps: 5, batchSize: 2 });
    // A non-local base LM: the weights come from modelDir instead.
    const lm = await finetuner.finetune(records, {
      baseLM: new ScriptedLM(() => 'x', { modelId: 'big-teacher' }),
      trainKwargs: { method: 'full', steps: 1, lr: 1e-4, checkpointing: 'layer' },
    });
    expect(lm.report.method).toBe('full');
    // Layer checkpointing reaches the trainer: only layer inputs are stored, one layer is recomputed at a time.
    expect(lm.report.memory.checkpointing).toBe('layer');
    expect(lm.report.steps).toBe(1);
    expect(lm.report.smt).toBeUndefined();
    expect(lm.report.trainableParameters).toBe(260_032);
    expect(lm.modelId).toBe('big-teacher+full');
    expect(lm.model.name).toBe('stories260K');
    // Full fine-tuning keeps weights, gradients and both Adam moments of every parameter.
    expect(lm.report.memory.accounted.optimizerState).toBe(260_032 * 8);
    await finetuner.dispose();
  });

  it('rejects bad input before training and honours the abort signal', async () => {
    const finetuner = new SMTFinetuner({ model, ...smtOptions, smt: { warmup: 'gradient-only', warmupSteps: 1 } });
    await expect(finetuner.finetune([])).rejects.toThrow(/no training records/);
    await expect(finetuner.finetune(records, { trainKwargs: { learning_rate: 1 } })).rejects.toThrow(
      /unknown train kwarg 'learning_rate'/,
    );
    expect(() => new SMTFinetuner({ steps: 1, stepz: 2 } as never)).toThrow(/unknown option 'stepz'/);
    await expect(new SMTFinetuner().finetune(records)).rejects.toThrow(/has no base model/);
    await expect(new SMTFinetuner({ modelDir: new URL('../../', modelDir) }).finetune(records)).rejects.toThrow(
      /model directory/,
    );

    const controller = new AbortController();
    const seen: number[] = [];
    const run = finetuner.finetune(records, {
      signal: controller.signal,
      onProgress: (e) => {
        seen.push(e.completed);
        if (e.completed === 3) controller.abort(new Error('stop'));
      },
    });
    const error = await run.catch((e: unknown) => e);
    expect(DspyError.isInstance(error) && error.code).toBe('aborted');
    expect(seen).toEqual([1, 2, 3]);

    const aborted = AbortSignal.abort();
    await expect(finetuner.finetune(records, { signal: aborted })).rejects.toThrow(/aborted/);
  });
});
