import { configure, type Example, Predict } from '@dspy-ts/core';
import { DummyLM } from '@dspy-ts/core/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CountingLM, exactAnswer, qaExamples, TwoStep, twoStepReply } from '../test/helpers.ts';
import { BootstrapFewShotWithRandomSearch } from './bootstrap-few-shot-with-random-search.ts';
import type { OptimizerProgressEvent } from './progress.ts';

// Zero-shot candidates get unparseable replies from the example-following LM; their errors are logged.
beforeEach(() => {
  vi.spyOn(console, 'error').mockImplementation(() => {});
});
afterEach(() => {
  configure({ lm: undefined });
  vi.restoreAllMocks();
});

describe('BootstrapFewShotWithRandomSearch', () => {
  it('keeps the strictly best candidate: the first of several equal scores', async () => {
    // The LM only answers right when the question is among its demos, so zero-shot scores 0 and the labeled-only
    // candidate (seed -2, every example as a demo) is the first to reach 100; later equal scores do not replace it.
    configure({ lm: new DummyLM([], { followExamples: true }) });
    const trainset = qaExamples(3);
    const optimizer = new BootstrapFewShotWithRandomSearch({ metric: exactAnswer, numCandidatePrograms: 2 });
    const events: OptimizerProgressEvent[] = [];
    const best = await optimizer.compile(new Predict('question -> answer'), {
      trainset,
      onProgress: (e) => events.push(e),
    });
    const candidates = best.candidatePrograms ?? [];
    expect(candidates.map((c) => c.seed).sort((a = 0, b = 0) => a - b)).toEqual([-3, -2, -1, 0, 1]);
    expect(candidates.find((c) => c.seed === -3)?.score).toBe(0);
    expect(candidates.find((c) => c.seed === -2)?.score).toBe(100);
    expect(candidates[0]?.seed).toBe(-2);
    expect(candidates.map((c) => c.score)).toEqual([...candidates.map((c) => c.score)].sort((a, b) => b - a));
    expect(best).toBe(candidates[0]?.program);
    expect(best.compileReport.score).toBe(100);
    expect(best.demos.every((d) => !(d as Example).augmented)).toBe(true);
    const top = events.filter((e) => e.phase === 'candidate');
    expect(top.map((e) => e.completed)).toEqual([1, 2, 3, 4, 5]);
    expect(top.at(-1)).toMatchObject({ total: 5, unit: 'candidates', bestScore: 100 });
  });

  it('stops at stopAtScore', async () => {
    configure({ lm: new DummyLM([], { followExamples: true }) });
    const best = await new BootstrapFewShotWithRandomSearch({
      metric: exactAnswer,
      numCandidatePrograms: 4,
      stopAtScore: 100,
    }).compile(new Predict('question -> answer'), { trainset: qaExamples(2) });
    expect(best.candidatePrograms?.map((c) => c.seed)).toEqual([-2, -3]);
  });

  it('evaluates on the valset with exactly the estimated number of evaluation calls', async () => {
    const lm = new CountingLM(twoStepReply({ q0: 'a0', q1: 'a1', q2: 'a2', q3: 'a3' }));
    configure({ lm });
    const optimizer = new BootstrapFewShotWithRandomSearch({ metric: exactAnswer, numCandidatePrograms: 1 });
    const options = { trainset: qaExamples(3), valset: qaExamples(4).slice(3) };
    const estimate = optimizer.estimate(new TwoStep(), options);
    const best = await optimizer.compile(new TwoStep(), options);
    const evaluationCalls = estimate.steps
      .filter((s) => s.step.includes('evaluate'))
      .reduce((n, s) => n + s.maxLmCalls, 0);
    expect(evaluationCalls).toBe(4 * 2);
    expect(best.compileReport.stats.lmCalls).toBeGreaterThanOrEqual(estimate.minLmCalls);
    expect(best.compileReport.stats.lmCalls).toBeLessThanOrEqual(estimate.maxLmCalls);
    expect(best.compileReport.stats.lmCalls).toBe(lm.answered);
  });

  it('writes JSON progress lines when asked to on a non-terminal stream', async () => {
    configure({ lm: new DummyLM([], { followExamples: true }) });
    const lines: string[] = [];
    await new BootstrapFewShotWithRandomSearch({ metric: exactAnswer, numCandidatePrograms: 0 }).compile(
      new Predict('question -> answer'),
      { trainset: qaExamples(1), displayProgress: true, progressStream: { write: (t: string) => lines.push(t) } },
    );
    const parsed = lines.map((l) => JSON.parse(l));
    expect(parsed.at(-1)).toMatchObject({ event: 'optimizer.progress', completed: 3, total: 3 });
  });

  it('requires a metric', () => {
    const spy = vi.fn();
    expect(() => new BootstrapFewShotWithRandomSearch({ metric: undefined as never })).toThrow(/needs a metric/);
    expect(spy).not.toHaveBeenCalled();
  });
});
