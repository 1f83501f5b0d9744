import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configure, DspyError, type Example, type LMRequest, Predict, Prediction } from '@dspy-ts/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CountingLM, currentField, qaExamples, text } from '../../test/helpers.ts';
import { OptimizerError } from '../optimizer-error.ts';
import { percentile, SIMBA } from './simba.ts';
import { appendADemo, appendARule, inspectModules, type SimbaRun } from './simba-strategies.ts';

const ADVICE = 'Always echo the code with an a.';

/** Right under the advice; otherwise right only for even rollout ids (so the sampled runs disagree). */
function taskLM(): CountingLM {
  return new CountingLM((request) => {
    const question = currentField(request, 'question');
    const right =
      text(request.messages[0]).includes(ADVICE) ||
      (typeof request.rolloutId === 'number' && request.rolloutId % 2 === 0);
    return `[[ ## answer ## ]]\n${right ? question.replace('q', 'a') : 'no'}`;
  });
}

function promptLM(): CountingLM {
  return new CountingLM(
    () => `[[ ## discussion ## ]]\nThe worse run guessed.\n\n[[ ## module_advice ## ]]\n{"self": "${ADVICE}"}`,
  );
}

const feedbackMetric = (example: Example, prediction: { answer?: unknown } | null) => {
  const right = prediction?.answer === example.answer;
  return { score: right ? 1 : 0, feedback: right ? 'right' : `expected ${example.answer}` };
};

beforeEach(() => {
  vi.spyOn(console, 'warn').mockImplementation(() => {});
});
afterEach(() => {
  configure({ lm: undefined });
  vi.restoreAllMocks();
});

describe('SIMBA', () => {
  it('needs a trainset of at least bsize examples', async () => {
    configure({ lm: taskLM() });
    await expect(
      new SIMBA({ metric: feedbackMetric, bsize: 4 }).compile(new Predict('question -> answer'), {
        trainset: qaExamples(3),
      }),
    ).rejects.toThrow(new OptimizerError('Trainset too small: 3 < 4'));
  });

  it('appends the advice of the prompt model and returns the best winner on the trainset', async () => {
    const task = taskLM();
    const prompt = promptLM();
    configure({ lm: task });
    const simba = new SIMBA({
      metric: feedbackMetric,
      bsize: 4,
      numCandidates: 2,
      maxSteps: 2,
      maxDemos: 0,
      promptModel: prompt,
    });
    const student = new Predict('question -> answer');
    const trainset = qaExamples(6);
    const estimate = simba.estimate(student, { trainset });
    const compiled = await simba.compile(student, { trainset, seed: 1 });

    expect(compiled.signature.instructions).toBe(`${student.signature.instructions}\n\n${ADVICE}`);
    expect(compiled.score).toBe(1);
    expect(compiled.compileReport.score).toBe(1);
    const candidates = compiled.candidatePrograms ?? [];
    expect(candidates[0]?.score).toBe(1);
    // The baseline is always a finalist, and it never answers right without a rollout id.
    expect(candidates.at(-1)?.score).toBe(0);
    expect(Object.keys(compiled.trialLogs)).toEqual(['0', '1']);
    expect(compiled.trialLogs[0]?.strategies[0]).toBe('appendARule');
    expect(compiled.trialLogs[0]?.batchIndices).toHaveLength(4);

    // The advice prompt: DSPy's OfferFeedback, with both trajectories and the metric's feedback.
    const advice = prompt.requests[0] as LMRequest;
    expect(text(advice.messages[0])).toContain("You will be given two trajectories of an LLM-driven program's");
    const user = text(advice.messages.at(-1));
    expect(user).toContain('[[ ## module_names ## ]]\n[\n  "self"\n]');
    expect(user).toContain('[[ ## program_code ## ]]\nself = Predict("question -> answer")');
    expect(user).toMatch(/\[\[ ## worse_reward_info ## \]\]\n\{\n {2}"feedback": "expected a\d"\n\}/);
    expect(user).toContain('[[ ## better_reward_value ## ]]\n1');
    expect(user).toContain('"module_name": "self"');
    expect(user).toContain('Module self');

    // Sampling used rollout copies at temperature 1.
    expect(task.derived).toContainEqual({ rolloutId: 0, temperature: 1 });
    expect(task.derived).toContainEqual({ rolloutId: 1, temperature: 1 });
    const { lmCalls } = compiled.compileReport.stats;
    expect(lmCalls).toBe(task.answered + prompt.answered);
    expect(lmCalls).toBeGreaterThanOrEqual(estimate.minLmCalls);
    expect(lmCalls).toBeLessThanOrEqual(estimate.maxLmCalls);
  });

  it('appends the best run as a demo unless it scored at or below the batch 10th percentile', () => {
    const program = new Predict('question -> answer');
    const run = (score: number): SimbaRun => ({
      exampleIndex: 0,
      prediction: { answer: 'a0' },
      trace: [{ moduleName: 'self', inputs: { question: 'q0'.repeat(10) }, outputs: { answer: 'a0' } }],
      score,
      outputMetadata: {},
    });
    expect(appendADemo([run(0.2), run(0)], program, { batch10pScore: 0.2 }).applied).toBe(false);
    expect(program.demos).toHaveLength(0);
    const outcome = appendADemo([run(1), run(0)], program, { batch10pScore: 0.2 }, 6);
    expect(outcome.applied).toBe(true);
    expect(program.demos).toHaveLength(1);
    const demo = program.demos[0] as Example;
    expect(demo.augmented).toBe(true);
    expect(demo.answer).toBe('a0');
    expect(demo.question).toBe('q0q0q0\n\t\t... <TRUNCATED FOR BREVITY>');
  });

  it('skips a rule when the worst run is at the 90th percentile, and shows N/A when runs tie high', async () => {
    const program = new Predict('question -> answer');
    const example = qaExamples(1)[0] as Example;
    const run = (score: number): SimbaRun => ({
      exampleIndex: 0,
      prediction: { answer: 'x' },
      trace: [],
      score,
      outputMetadata: {},
    });
    const calls: Record<string, string>[] = [];
    const offerFeedback = async (inputs: Record<string, string>) => {
      calls.push(inputs);
      return { self: 'Be careful.' };
    };
    const skipped = await appendARule([run(1), run(1)], program, {
      example,
      batch10pScore: 0,
      batch90pScore: 1,
      offerFeedback,
    });
    expect(skipped.applied).toBe(false);
    expect(calls).toHaveLength(0);
    const tie = await appendARule([run(0.9), run(0.9)], program, {
      example,
      batch10pScore: 0,
      batch90pScore: 0.95,
      offerFeedback,
    });
    expect(tie.applied).toBe(true);
    expect(calls[0]?.better_reward_value).toBe('N/A');
    expect(calls[0]?.better_program_outputs).toBe('{\n  "N/A": "Prediction not available"\n}');
    expect(calls[0]?.program_inputs).toBe('{\n  "question": "q0"\n}');
    expect(program.signature.instructions.endsWith('\n\nBe careful.')).toBe(true);
    expect(inspectModules(program)).toContain('\tOriginal Instructions: \n\t\tGiven the fields');
    expect(percentile([0, 1, 2, 3, 4], 10)).toBeCloseTo(0.4);
  });

  it('resumes an aborted compile without spending any LM call twice', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'simba-'));
    try {
      let prompt = promptLM();
      const make = () =>
        new SIMBA({
          // A metric returning a Prediction with a score, as DSPy allows.
          metric: (example, prediction) =>
            new Prediction({ score: prediction?.answer === example.answer ? 1 : 0, feedback: 'ok' }),
          bsize: 4,
          numCandidates: 2,
          maxSteps: 2,
          maxDemos: 0,
          numThreads: 1,
          promptModel: prompt,
        });
      const reference = taskLM();
      configure({ lm: reference });
      const expected = await make().compile(new Predict('question -> answer'), { trainset: qaExamples(6) });
      const referencePrompt = prompt.answered;

      prompt = promptLM();
      const task = taskLM();
      configure({ lm: task });
      const controller = new AbortController();
      task.abortAfter = { calls: 13, controller };
      const path = join(dir, 'simba.json');
      await expect(
        make().compile(new Predict('question -> answer'), {
          trainset: qaExamples(6),
          checkpoint: path,
          signal: controller.signal,
        }),
      ).rejects.toSatisfy((e) => DspyError.isInstance(e) && e.code === 'aborted');
      expect(task.answered).toBe(13);
      task.abortAfter = undefined;
      const resumed = await make().compile(new Predict('question -> answer'), {
        trainset: qaExamples(6),
        checkpoint: path,
      });
      expect(task.answered).toBe(reference.answered);
      expect(prompt.answered).toBe(referencePrompt);
      expect(resumed.compileReport.totalStats.lmCalls).toBe(reference.answered + referencePrompt);
      expect(resumed.dumpState()).toEqual(expected.dumpState());
      expect(resumed.score).toBe(expected.score);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
