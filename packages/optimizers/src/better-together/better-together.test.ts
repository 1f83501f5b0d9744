import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ChatFinetuneRecord,
  configure,
  type Example,
  type Finetuner,
  type LanguageModelV1,
  type Module,
} from '@dspy-ts/core';
import { ScriptedLM } from '@dspy-ts/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { CountingLM, exactAnswer, qaExamples, TwoStep, twoStepReply } from '../../test/helpers.ts';
import type { CompileContext } from '../compile-context.ts';
import { BootstrapFinetune } from '../finetune/bootstrap-finetune.ts';
import { LabeledFewShot } from '../labeled-few-shot.ts';
import { OptimizerError } from '../optimizer-error.ts';
import {
  type CompileEstimate,
  type CompileOptions,
  type CompileOutcome,
  makeEstimate,
  Teleprompter,
} from '../teleprompter.ts';
import { BetterTogether, type BetterTogetherCandidate } from './better-together.ts';

/** Base LM: right on q0 and q1 only. */
const baseAnswers = { q0: 'a0', q1: 'a1' };
const allAnswers = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`q${i}`, `a${i}`]));

/** A finetuner whose LMs answer every question right (or that fails). */
class ScriptedFinetuner implements Finetuner {
  readonly received: ChatFinetuneRecord[][] = [];
  readonly lms: ScriptedLM[] = [];
  constructor(private readonly fail = false) {}
  async finetune(records: readonly ChatFinetuneRecord[]): Promise<LanguageModelV1> {
    this.received.push([...records]);
    if (this.fail) throw new Error('GPU on fire');
    const lm = new ScriptedLM(twoStepReply(allAnswers), { modelId: `ft-${this.lms.length}` });
    this.lms.push(lm);
    return lm;
  }
}

/** Records the trainset of every step and returns a copy of its input. */
class RecordingOptimizer extends Teleprompter {
  readonly name = 'Recording';
  readonly trainsets: string[][] = [];
  protected override async run<T extends Module<any, any, any>>(
    student: T,
    options: CompileOptions,
    _ctx: CompileContext,
  ): Promise<CompileOutcome<T>> {
    this.trainsets.push(options.trainset.map((e: Example) => e.question as string));
    return { program: student.deepCopy() };
  }
  override estimate(): CompileEstimate {
    return makeEstimate(this.name, [], []);
  }
}

function student(lm: LanguageModelV1): TwoStep {
  const program = new TwoStep();
  program.setLm(lm);
  return program;
}

afterEach(() => configure({ lm: undefined }));

describe('BetterTogether', () => {
  it('runs p -> w -> p, scores every program on the held-out valset and returns the best', async () => {
    const base = new CountingLM(twoStepReply(baseAnswers));
    const finetuner = new ScriptedFinetuner();
    const optimizer = new BetterTogether({
      metric: exactAnswer,
      p: new LabeledFewShot({ k: 2 }),
      w: new BootstrapFinetune({ metric: exactAnswer, finetuner }),
    });
    const trainset = qaExamples(10);
    const { valset } = optimizer.split({ trainset, valsetRatio: 0.2, seed: 2 });
    expect(valset).toHaveLength(2);
    const compiled = await optimizer.compile(student(base), { trainset, valsetRatio: 0.2, seed: 2 });

    expect(compiled.candidatePrograms?.map((c) => (c as BetterTogetherCandidate<TwoStep>).strategy)).toEqual([
      'p -> w',
      'p -> w -> p',
      '',
      'p',
    ]);
    expect(compiled.compileReport.score).toBe(100);
    expect(compiled.flagCompilationErrorOccurred).toBe(false);
    // The fine-tuned LM survives the second prompt step, and the result uses it.
    expect(compiled.first.lm).toBe(finetuner.lms[0]);
    expect(compiled.candidatePrograms?.[1]?.program.first.lm).toBe(finetuner.lms[0]);
    // Only the 8 training examples reach the weight step; q0 and q1 pass the metric, two steps each.
    expect(valset.map((e) => e.question).sort()).toEqual(['q2', 'q4']);
    expect(finetuner.received[0]).toHaveLength(4);
    const prediction = await compiled.call({ question: 'q7' });
    expect(prediction.answer).toBe('a7');
  });

  it('shuffles the trainset before each step unless told not to', async () => {
    const base = new CountingLM(twoStepReply(baseAnswers));
    const p = new RecordingOptimizer();
    const w = new RecordingOptimizer();
    const trainset = qaExamples(10);
    const valset = qaExamples(2);
    await new BetterTogether({ metric: exactAnswer, p, w }).compile(student(base), { trainset, valset, seed: 3 });
    const order = trainset.map((e) => e.question as string);
    expect(p.trainsets).toHaveLength(2);
    expect(new Set(p.trainsets[0])).toEqual(new Set(order));
    expect([p.trainsets[0], w.trainsets[0], p.trainsets[1]].some((t) => t?.join() !== order.join())).toBe(true);
    expect(p.trainsets[0]?.join()).not.toBe(p.trainsets[1]?.join());

    const p2 = new RecordingOptimizer();
    const w2 = new RecordingOptimizer();
    await new BetterTogether({ metric: exactAnswer, p: p2, w: w2 }).compile(student(base), {
      trainset,
      valset,
      strategy: 'w -> p',
      shuffleTrainsetBetweenSteps: false,
    });
    expect(w2.trainsets).toEqual([order]);
    expect(p2.trainsets).toEqual([order]);
  });

  it('flags a failed step and returns the best program so far', async () => {
    const base = new CountingLM(twoStepReply(baseAnswers));
    const finetuner = new ScriptedFinetuner(true);
    const optimizer = new BetterTogether({
      metric: exactAnswer,
      p: new LabeledFewShot({ k: 2 }),
      w: new BootstrapFinetune({ metric: exactAnswer, finetuner }),
    });
    const program = student(base);
    const compiled = await optimizer.compile(program, { trainset: qaExamples(6), valset: qaExamples(4) });
    expect(compiled.flagCompilationErrorOccurred).toBe(true);
    expect(finetuner.received).toHaveLength(1);
    expect(compiled.candidatePrograms?.map((c) => (c as BetterTogetherCandidate<TwoStep>).strategy)).toEqual(['', 'p']);
    expect(compiled.compileReport.score).toBe(50);
    expect(compiled.first.lm).toBe(base);
  });

  it('rejects unknown steps, and resumes from its checkpoints without repeating LM calls', async () => {
    const optimizer = new BetterTogether({ metric: exactAnswer, p: new LabeledFewShot({ k: 1 }) });
    expect(() => optimizer.parseStrategy('p -> x')).toThrow(OptimizerError);
    await expect(optimizer.compile(new TwoStep(), { trainset: qaExamples(4), strategy: 'p -> q' })).rejects.toThrow(
      /unknown: \[q\]/,
    );

    const dir = await mkdtemp(join(tmpdir(), 'bt-'));
    try {
      const base = new CountingLM(twoStepReply(baseAnswers));
      const make = () =>
        new BetterTogether({
          metric: exactAnswer,
          p: new LabeledFewShot({ k: 2 }),
          w: new BootstrapFinetune({ metric: exactAnswer, finetuner: new ScriptedFinetuner(), numThreads: 1 }),
        });
      const checkpoint = join(dir, 'bt.json');
      const options = { trainset: qaExamples(6), valset: qaExamples(3), strategy: 'p -> w', checkpoint };
      const controller = new AbortController();
      base.abortAfter = { calls: 9, controller };
      await expect(make().compile(student(base), { ...options, signal: controller.signal })).rejects.toThrow(/aborted/);
      expect(base.answered).toBe(9);
      base.abortAfter = undefined;
      const resumed = await make().compile(student(base), options);
      // 3 × 2 (student on the valset) + 3 × 2 (p) + 6 × 2 (teacher runs of w); the tuned LM is not `base`.
      expect(base.answered).toBe(24);
      expect(resumed.compileReport.resumedUnits).toBeGreaterThan(0);
      expect(resumed.compileReport.score).toBe(100);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
