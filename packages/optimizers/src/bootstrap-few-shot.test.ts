import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configure, Example, Predict, type TraceEntry } from '@dspy-ts/core';
import { DummyLM } from '@dspy-ts/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CountingLM, exactAnswer, qaExamples, TwoStep, text, twoStepReply } from '../test/helpers.ts';
import { BootstrapFewShot } from './bootstrap-few-shot.ts';

afterEach(() => configure({ lm: undefined }));

describe('BootstrapFewShot', () => {
  it('yields exactly one augmented demo after one LM call for one example and a matching metric', async () => {
    const lm = new DummyLM([{ answer: 'blue' }]);
    configure({ lm });
    const student = new Predict('question -> answer');
    const trainset = [
      new Example({ question: 'What is the color of the sky?', answer: 'blue' }).withInputs('question'),
    ];
    const traces: unknown[] = [];
    const metric = (example: Example, prediction: { answer?: unknown }, trace?: unknown) => {
      traces.push(trace);
      return example.answer === prediction.answer;
    };
    const compiled = await new BootstrapFewShot({ metric, maxBootstrappedDemos: 1 }).compile(student, { trainset });
    expect(lm.calls).toHaveLength(1);
    expect(compiled.demos).toHaveLength(1);
    expect((compiled.demos[0] as Example).toDict()).toEqual({
      augmented: true,
      question: 'What is the color of the sky?',
      answer: 'blue',
    });
    // The metric saw the trace of the teacher run.
    expect((traces[0] as TraceEntry[])[0]?.inputs).toEqual({ question: 'What is the color of the sky?' });
    expect(compiled.compiled).toBe(true);
    expect(student.demos).toEqual([]);
    expect(compiled.compileReport.stats.lmCalls).toBe(1);
  });

  it('propagates a teacher error once maxErrors is reached', async () => {
    const lm = new CountingLM(() => '[[ ## answer ## ]]\nx');
    lm.failAt = 1;
    configure({ lm });
    const optimizer = new BootstrapFewShot({ metric: exactAnswer, maxErrors: 1 });
    await expect(optimizer.compile(new Predict('question -> answer'), { trainset: qaExamples(2) })).rejects.toThrow(
      'provider exploded',
    );
  });

  it('skips failing examples below maxErrors and fills with labeled demos', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const lm = new CountingLM(
      (request) => `[[ ## answer ## ]]\n${text(request.messages.at(-1)).includes('q1') ? 'a1' : 'x'}`,
    );
    lm.failAt = 1;
    configure({ lm });
    const compiled = await new BootstrapFewShot({ metric: exactAnswer, maxErrors: 5, maxLabeledDemos: 3 }).compile(
      new Predict('question -> answer'),
      { trainset: qaExamples(3) },
    );
    const demos = compiled.demos.map((d) => (d as Example).toDict());
    expect(demos[0]).toEqual({ augmented: true, question: 'q1', answer: 'a1' });
    // The two examples that were not bootstrapped fill the remaining labeled slots (order is seeded, not DSPy's).
    expect(
      demos
        .slice(1)
        .map((d) => d.question)
        .sort(),
    ).toEqual(['q0', 'q2']);
    expect(error).toHaveBeenCalledOnce();
    error.mockRestore();
  });

  it('hides the example itself from the teacher and uses fresh rollouts at temperature 1 after round one', async () => {
    const lm = new CountingLM(() => '[[ ## answer ## ]]\nwrong');
    configure({ lm });
    const trainset = qaExamples(2);
    await new BootstrapFewShot({ metric: exactAnswer, maxRounds: 3 }).compile(new Predict('question -> answer'), {
      trainset,
    });
    expect(lm.answered).toBe(6);
    const first = lm.requests[0]?.messages.map(text).join('\n') ?? '';
    // The labeled teacher sees q1 as a demo but not q0, the example it is answering.
    expect(first).toContain('a1');
    expect(first).not.toContain('a0');
    expect(lm.derived).toEqual([
      { rolloutId: 1, temperature: 1 },
      { rolloutId: 2, temperature: 1 },
      { rolloutId: 1, temperature: 1 },
      { rolloutId: 2, temperature: 1 },
    ]);
    expect(lm.requests.map((r) => r.rolloutId)).toEqual([undefined, 1, 2, undefined, 1, 2]);
  });

  it('bootstraps one augmented demo per predictor of a multi-predictor program and saves in DSPy layout', async () => {
    const lm = new CountingLM(twoStepReply({ q0: 'a0', q1: 'a1', q2: 'a2' }));
    configure({ lm });
    const student = new TwoStep();
    const compiled = await new BootstrapFewShot({
      metric: exactAnswer,
      maxBootstrappedDemos: 2,
      maxLabeledDemos: 2,
    }).compile(student, { trainset: qaExamples(3) });
    expect(lm.answered).toBe(4);
    expect(compiled.compileReport.stats).toMatchObject({ lmCalls: 4, inputTokens: 40, outputTokens: 8 });
    expect(compiled.compileReport.stats.costUsd).toBeCloseTo(0.004);
    expect((compiled.first.demos[0] as Example).toDict()).toEqual({ augmented: true, question: 'q0', draft: 'q0' });
    expect((compiled.second.demos[1] as Example).toDict()).toEqual({ augmented: true, draft: 'q1', answer: 'a1' });
    expect(student.first.demos).toEqual([]);

    const dir = await mkdtemp(join(tmpdir(), 'bfs-'));
    try {
      const path = join(dir, 'program.json');
      await compiled.save(path);
      const saved = JSON.parse(await readFile(path, 'utf8'));
      expect(Object.keys(saved)).toEqual(['first', 'second', 'metadata']);
      expect(saved.second.demos[0]).toEqual({ augmented: true, draft: 'q0', answer: 'a0' });
      const loaded = await new TwoStep().load(path);
      expect(loaded.dumpState()).toEqual(compiled.dumpState());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('estimates a call range that contains the real count', async () => {
    const lm = new CountingLM(twoStepReply({ q0: 'a0', q2: 'a2' }));
    configure({ lm });
    const optimizer = new BootstrapFewShot({ metric: exactAnswer, maxBootstrappedDemos: 2 });
    const estimate = optimizer.estimate(new TwoStep(), { trainset: qaExamples(4) });
    expect(estimate).toMatchObject({ minLmCalls: 4, maxLmCalls: 8 });
    const compiled = await optimizer.compile(new TwoStep(), { trainset: qaExamples(4) });
    expect(lm.answered).toBe(6);
    expect(compiled.compileReport.stats.lmCalls).toBe(6);
  });
});
