import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configure, DspyError, EXECUTION_CANCELLED_MESSAGE } from '@dspy-ts/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CountingLM, exactAnswer, qaExamples, TwoStep, twoStepReply } from '../test/helpers.ts';
import { BootstrapFewShotWithRandomSearch } from './bootstrap-few-shot-with-random-search.ts';
import { OptimizerError } from './optimizer-error.ts';

const answers = { q0: 'a0', q1: 'wrong', q2: 'a2', q3: 'a3', q4: 'wrong' };
const trainset = qaExamples(5);
const optimizer = () =>
  new BootstrapFewShotWithRandomSearch({
    metric: exactAnswer,
    numCandidatePrograms: 2,
    maxBootstrappedDemos: 2,
    numThreads: 2,
  });

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ckpt-'));
});
afterEach(async () => {
  configure({ lm: undefined });
  await rm(dir, { recursive: true, force: true });
});

async function uninterrupted() {
  const lm = new CountingLM(twoStepReply(answers));
  configure({ lm });
  const program = await optimizer().compile(new TwoStep(), { trainset });
  return { calls: lm.answered, program };
}

describe('resumable compiles', () => {
  it('resumes after an abort without spending any LM call twice', async () => {
    const reference = await uninterrupted();
    const path = join(dir, 'rs.json');
    const lm = new CountingLM(twoStepReply(answers));
    configure({ lm });
    const controller = new AbortController();
    // Abort after an odd number of calls: in the middle of a two-call program run.
    lm.abortAfter = { calls: 13, controller };
    const first = optimizer().compile(new TwoStep(), { trainset, checkpoint: path, signal: controller.signal });
    await expect(first).rejects.toSatisfy((e) => DspyError.isInstance(e) && e.code === 'aborted');
    const afterFirst = lm.answered;
    expect(afterFirst).toBe(13);
    lm.abortAfter = undefined;

    const resumed = await optimizer().compile(new TwoStep(), { trainset, checkpoint: path });
    expect(lm.answered).toBe(reference.calls);
    expect(resumed.compileReport.resumedUnits).toBeGreaterThan(0);
    expect(resumed.compileReport.stats.lmCalls).toBe(reference.calls - afterFirst);
    expect(resumed.compileReport.totalStats.lmCalls).toBe(reference.calls);
    expect(resumed.compileReport.score).toBe(reference.program.compileReport.score);
    expect(resumed.dumpState()).toEqual(reference.program.dumpState());
  });

  it('resumes after the LM throws, replaying the half-finished program run from the journal', async () => {
    const reference = await uninterrupted();
    const path = join(dir, 'rs.json');
    const lm = new CountingLM(twoStepReply(answers));
    configure({ lm });
    lm.failAt = 10; // the second call of the fifth program run
    const crashing = new BootstrapFewShotWithRandomSearch({
      metric: exactAnswer,
      numCandidatePrograms: 2,
      maxBootstrappedDemos: 2,
      numThreads: 1,
      maxErrors: 1,
    });
    const error = await crashing.compile(new TwoStep(), { trainset, checkpoint: path }).catch((e: unknown) => e);
    // The failure happens while scoring the zero-shot candidate: DSPy's Evaluate cancels with its own message.
    expect((error as Error).message).toBe(EXECUTION_CANCELLED_MESSAGE);
    expect(((error as Error).cause as Error).message).toBe('provider exploded');
    expect(lm.answered).toBe(9);
    const file = JSON.parse(await readFile(path, 'utf8'));
    expect(Object.values(file.journal).flat()).toHaveLength(1);
    expect(file.spent.lmCalls).toBe(9);

    const resumed = await crashing.compile(new TwoStep(), { trainset, checkpoint: path });
    expect(lm.answered).toBe(reference.calls);
    expect(resumed.compileReport.stats.replayedCalls).toBe(1);
    expect(resumed.dumpState()).toEqual(reference.program.dumpState());

    // A finished checkpoint answers a re-run for free.
    const again = await crashing.compile(new TwoStep(), { trainset, checkpoint: path });
    expect(again.compileReport.stats.lmCalls).toBe(0);
    expect(lm.answered).toBe(reference.calls);
    expect(again.dumpState()).toEqual(reference.program.dumpState());
  });

  it('rejects a checkpoint written for other data or settings, naming what differs', async () => {
    const path = join(dir, 'rs.json');
    configure({ lm: new CountingLM(twoStepReply(answers)) });
    await optimizer().compile(new TwoStep(), { trainset, checkpoint: path });
    await expect(optimizer().compile(new TwoStep(), { trainset: trainset.slice(1), checkpoint: path })).rejects.toThrow(
      /its trainset differ/,
    );
    const other = new BootstrapFewShotWithRandomSearch({ metric: exactAnswer, numCandidatePrograms: 3 });
    const error = await other.compile(new TwoStep(), { trainset, checkpoint: path }).catch((e: unknown) => e);
    expect(OptimizerError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/config differ/);
  });
});
