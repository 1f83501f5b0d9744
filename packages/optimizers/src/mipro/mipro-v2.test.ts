import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configure, DspyError, type LMRequest, Predict } from '@dspy-ts/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CountingLM, currentField, exactAnswer, qaExamples, text } from '../../test/helpers.ts';
import { AUTO_RUN_SETTINGS, fullEvalCount, numTrialsFromNumCandidates } from './auto-run-settings.ts';
import { MIPROv2 } from './mipro-v2.ts';
import { stripPrefix } from './proposal-text.ts';
import { TIPS } from './proposer-signatures.ts';

const GOOD = 'Echo the answer.';

/** The task LM: right (`q3 → a3`) only under the good instruction, or always when `always` is set. */
function taskLM(always = false): CountingLM {
  return new CountingLM((request) => {
    const question = currentField(request, 'question');
    const right = always || text(request.messages[0]).includes(GOOD);
    return `[[ ## answer ## ]]\n${right ? question.replace('q', 'a') : 'no'}`;
  });
}

/** The prompt model: answers each proposer signature; proposals come from `instructions`, in turn. */
function promptLM(instructions: string[] = [GOOD]): CountingLM {
  let proposals = 0;
  return new CountingLM((request: LMRequest) => {
    const system = text(request.messages[0]);
    if (system.includes('I will also provide you with a few observations')) return '[[ ## observations ## ]]\nCOMPLETE';
    if (system.includes('Given several examples from a dataset')) {
      return '[[ ## observations ## ]]\nQuestions are short codes.';
    }
    if (system.includes('summarize them into a brief')) return '[[ ## summary ## ]]\nSummary: Short QA pairs.';
    if (system.includes('Please describe what type of task')) {
      return '[[ ## program_description ## ]]\nIt answers coded questions.';
    }
    if (system.includes('describe the purpose of one of the specified module')) {
      return '[[ ## module_description ## ]]\nThe only module.';
    }
    const instruction = instructions[proposals++ % instructions.length];
    return `[[ ## proposed_instruction ## ]]\nPROPOSED INSTRUCTION: "${instruction}"`;
  });
}

function generateRequests(lm: CountingLM): LMRequest[] {
  return lm.requests.filter((r) => text(r.messages[0]).includes('generate a new instruction'));
}

beforeEach(() => {
  // Zero-shot candidates fail to parse some replies; Evaluate logs those errors.
  vi.spyOn(console, 'error').mockImplementation(() => {});
  vi.spyOn(console, 'warn').mockImplementation(() => {});
});
afterEach(() => {
  configure({ lm: undefined });
  vi.restoreAllMocks();
});

describe('MIPROv2 settings', () => {
  it("computes DSPy's trial counts", () => {
    expect(numTrialsFromNumCandidates(1, false, AUTO_RUN_SETTINGS.light.n)).toBe(10);
    expect(numTrialsFromNumCandidates(1, false, AUTO_RUN_SETTINGS.medium.n)).toBe(18);
    expect(numTrialsFromNumCandidates(1, true, AUTO_RUN_SETTINGS.light.n)).toBe(9);
    expect(numTrialsFromNumCandidates(3, false, AUTO_RUN_SETTINGS.heavy.n)).toBe(50);
    expect([fullEvalCount(10, 5), fullEvalCount(7, 5), fullEvalCount(6, 2)]).toEqual([2, 2, 3]);
  });

  it('validates auto, numCandidates and numTrials as DSPy does', async () => {
    configure({ lm: taskLM() });
    const student = new Predict('question -> answer');
    const trainset = qaExamples(6);
    expect(() => new MIPROv2({ metric: exactAnswer, auto: 'huge' as 'light' })).toThrow(/Invalid value for auto/);
    await expect(
      new MIPROv2({ metric: exactAnswer, auto: null, numCandidates: 6 }).compile(student, { trainset }),
    ).rejects.toThrow(/numTrials must also be provided.*~10/);
    await expect(new MIPROv2({ metric: exactAnswer, auto: null }).compile(student, { trainset })).rejects.toThrow(
      /numCandidates must also be provided/,
    );
    await expect(new MIPROv2({ metric: exactAnswer }).compile(student, { trainset, numTrials: 3 })).rejects.toThrow(
      /cannot be set/,
    );
    await expect(
      new MIPROv2({ metric: exactAnswer, auto: null, numCandidates: 2 }).compile(student, {
        trainset: qaExamples(1),
        numTrials: 1,
      }),
    ).rejects.toThrow('Trainset must have at least 2 examples if no valset specified.');
    await expect(
      new MIPROv2({ metric: exactAnswer, auto: null, numCandidates: 2 }).compile(student, {
        trainset,
        valset: qaExamples(4),
        numTrials: 1,
        minibatchSize: 5,
      }),
    ).rejects.toThrow('Minibatch size cannot exceed the size of the valset. Valset size: 4.');
  });
});

describe('MIPROv2', () => {
  it("runs DSPy's trial count at auto 'light' for one predictor, within its estimate", async () => {
    const task = taskLM();
    const prompt = promptLM(['Be vague.', GOOD]);
    configure({ lm: task });
    const mipro = new MIPROv2({ metric: exactAnswer, promptModel: prompt, numThreads: 2 });
    const student = new Predict('question -> answer');
    const trainset = qaExamples(10);
    const estimate = mipro.estimate(student, { trainset });
    const compiled = await mipro.compile(student, { trainset });

    // 10 examples → 8 held out for validation (≤ 50: no minibatches), so the 10 trials and the baseline are full.
    const logs = Object.keys(compiled.trialLogs).map(Number);
    expect(logs).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    expect(Object.values(compiled.trialLogs).every((log) => log.fullEvalScore !== undefined)).toBe(true);
    expect(compiled.mbCandidatePrograms).toEqual([]);
    expect(compiled.candidatePrograms).toHaveLength(11);
    // Light: 6 demo sets, 3 instruction candidates (the original first).
    expect(compiled.demoCandidates?.[0]).toHaveLength(6);
    expect(compiled.instructionCandidates[0]).toEqual([student.signature.instructions, 'Be vague.', GOOD]);
    expect(estimate.steps.find((s) => s.step.startsWith('10 trial(s) on 8'))).toBeDefined();
    const { lmCalls } = compiled.compileReport.stats;
    expect(lmCalls).toBe(task.answered + prompt.answered);
    expect(lmCalls).toBeGreaterThanOrEqual(estimate.minLmCalls);
    expect(lmCalls).toBeLessThanOrEqual(estimate.maxLmCalls);
    // Evaluation calls are exact: 11 full evaluations of 8 examples, on top of bootstrapping.
    const evalCalls = task.requests.filter((r) => /q[2-9]/.test(currentField(r, 'question'))).length;
    expect(evalCalls).toBeGreaterThanOrEqual(88);
    expect(compiled.signature.instructions).toBe(GOOD);
    expect(compiled.score).toBe(100);
  });

  it('returns the best fully evaluated candidate, with minibatch trials and periodic full evaluations', async () => {
    const task = taskLM();
    configure({ lm: task });
    const mipro = new MIPROv2({ metric: exactAnswer, promptModel: promptLM([GOOD]), auto: null, numCandidates: 3 });
    const student = new Predict('question -> answer');
    const compiled = await mipro.compile(student, {
      trainset: qaExamples(4),
      valset: qaExamples(10).slice(4),
      numTrials: 6,
      minibatchSize: 3,
      minibatchFullEvalSteps: 2,
    });
    // DSPy's numbering: the baseline is trial 1; a full evaluation follows every 2 minibatch trials and the last.
    const logs = compiled.trialLogs;
    expect(Object.keys(logs).map(Number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(
      [2, 3, 5, 6, 8, 9].every((n) => logs[n]?.mbScore !== undefined && logs[n]?.fullEvalScore === undefined),
    ).toBe(true);
    expect([1, 4, 7, 10].every((n) => logs[n]?.fullEvalScore !== undefined)).toBe(true);
    expect(logs[1]?.fullEvalScore).toBe(0);
    // Full evaluations only: the baseline plus three, best first; the result is the best of them.
    const candidates = compiled.candidatePrograms ?? [];
    expect(candidates).toHaveLength(4);
    expect(candidates.map((c) => c.score)).toEqual([...candidates.map((c) => c.score)].sort((a, b) => b - a));
    expect(compiled.score).toBe(candidates[0]?.score);
    expect(compiled.compileReport.score).toBe(100);
    expect(compiled.signature.instructions).toBe(GOOD);
    expect(compiled.mbCandidatePrograms).toHaveLength(6);
    expect(student.signature.instructions).not.toBe(GOOD);
  });

  it('grounds its proposals in the dataset summary, the program, demos and a random tip', async () => {
    const task = taskLM(true);
    const prompt = promptLM(['First.', 'Second.', 'Third.']);
    configure({ lm: task });
    const mipro = new MIPROv2({ metric: exactAnswer, promptModel: prompt, auto: null, numCandidates: 4, seed: 3 });
    const compiled = await mipro.compile(new Predict('question -> answer'), {
      trainset: qaExamples(20),
      valset: qaExamples(2),
      numTrials: 1,
      minibatch: false,
    });
    expect(compiled.instructionCandidates[0]?.slice(1)).toEqual(['First.', 'Second.', 'Third.']);
    // Dataset summary: one call per batch of 10 (the second said COMPLETE), then the summary.
    const observe = prompt.requests.filter((r) => text(r.messages[0]).includes('Given several examples'));
    expect(observe).toHaveLength(2);
    expect(text(observe[0]?.messages.at(-1))).toContain(
      "[Example({'question': 'q0', 'answer': 'a0'}) (input_keys={'question'}), ",
    );
    const generated = generateRequests(prompt);
    expect(generated).toHaveLength(3);
    const tips = new Set<string>(Object.values(TIPS).filter((tip) => tip !== ''));
    let withTip = 0;
    for (const request of generated) {
      const user = text(request.messages.at(-1));
      expect(user).toContain('[[ ## dataset_description ## ]]\nShort QA pairs.');
      expect(user).toContain('[[ ## program_description ## ]]\nIt answers coded questions.');
      expect(user).toContain('[[ ## module ## ]]\nPredict(question) -> answer');
      expect(user).toContain('self = Predict("question -> answer")');
      expect(user).toContain(
        '[[ ## basic_instruction ## ]]\nGiven the fields `question`, produce the fields `answer`.',
      );
      // Up to three bootstrapped demos, rendered with field prefixes.
      const demos = /\[\[ ## task_demos ## \]\]\n([\s\S]*?)\n\n\[\[ ## basic_instruction/.exec(user)?.[1] ?? '';
      expect(demos).toMatch(/^Question: q\d+\nAnswer: a\d+/);
      expect(demos.match(/Question:/g)?.length).toBeLessThanOrEqual(3);
      const tip = /\[\[ ## tip ## \]\]\n([^\n]*)/.exec(user)?.[1];
      if (tip !== undefined) {
        withTip++;
        expect(tips.has(tip)).toBe(true);
      }
    }
    expect(withTip).toBeGreaterThan(0);
    // Every proposal used a fresh rollout of the prompt model at the initial temperature.
    const rollouts = prompt.derived.filter((d) => d.rolloutId !== undefined);
    expect(rollouts).toHaveLength(3);
    expect(rollouts.every((d) => d.temperature === 1)).toBe(true);
    expect(new Set(rollouts.map((d) => d.rolloutId)).size).toBe(3);
    expect(stripPrefix('PROPOSED INSTRUCTION: "Be brief."')).toBe('Be brief.');
  });

  it('holds out the last 80% of the trainset as the valset when none is given', async () => {
    const task = taskLM();
    const prompt = promptLM();
    configure({ lm: task });
    const mipro = new MIPROv2({ metric: exactAnswer, promptModel: prompt, auto: null, numCandidates: 2 });
    const options = { trainset: qaExamples(10), numTrials: 1, minibatch: false };
    expect(mipro.estimate(new Predict('question -> answer'), options).steps).toContainEqual(
      expect.objectContaining({ step: 'evaluate the baseline on 8 example(s)' }),
    );
    await mipro.compile(new Predict('question -> answer'), options);
    // The dataset summary sees only the 2 training examples.
    const observed = text(prompt.requests[0]?.messages.at(-1));
    expect(observed).toContain("'q1'");
    expect(observed).not.toContain("'q2'");
    // No demo set is bootstrapped (zero-shot and labeled only), so the task model only sees the valset.
    const evaluated = new Set(task.requests.map((r) => currentField(r, 'question')));
    expect(evaluated).toEqual(new Set(['q2', 'q3', 'q4', 'q5', 'q6', 'q7', 'q8', 'q9']));
  });
});

describe('MIPROv2 checkpoints', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mipro-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['the search', 'task', 20],
    ['a proposal', 'prompt', 4],
  ] as const)('resumes a compile aborted in %s without spending any LM call twice', async (_, which, before) => {
    const make = () =>
      // One thread: with several, a response that arrives as the abort lands is paid for and then dropped.
      new MIPROv2({ metric: exactAnswer, promptModel: prompt, auto: null, numCandidates: 3, numThreads: 1 });
    const options = {
      trainset: qaExamples(4),
      valset: qaExamples(10).slice(4),
      numTrials: 6,
      minibatchSize: 3,
      minibatchFullEvalSteps: 2,
    };
    let prompt = promptLM();
    const referenceTask = taskLM();
    configure({ lm: referenceTask });
    const reference = await make().compile(new Predict('question -> answer'), options);
    const referencePrompt = prompt.answered;

    prompt = promptLM();
    const task = taskLM();
    configure({ lm: task });
    const controller = new AbortController();
    // The search: 20 task calls before the end. A proposal: the prompt model's 5th call, inside the first proposal.
    const aborting = which === 'task' ? task : prompt;
    aborting.abortAfter = { calls: which === 'task' ? referenceTask.answered - before : before, controller };
    const path = join(dir, 'mipro.json');
    const first = make().compile(new Predict('question -> answer'), {
      ...options,
      checkpoint: path,
      signal: controller.signal,
    });
    await expect(first).rejects.toSatisfy((e) => DspyError.isInstance(e) && e.code === 'aborted');
    const spentFirst = task.answered + prompt.answered;
    expect(spentFirst).toBeLessThan(referenceTask.answered + referencePrompt);
    aborting.abortAfter = undefined;

    const resumed = await make().compile(new Predict('question -> answer'), { ...options, checkpoint: path });
    expect(task.answered).toBe(referenceTask.answered);
    expect(prompt.answered).toBe(referencePrompt);
    expect(resumed.compileReport.resumedUnits).toBeGreaterThan(0);
    expect(resumed.compileReport.stats.lmCalls).toBe(referenceTask.answered + referencePrompt - spentFirst);
    expect(resumed.compileReport.totalStats.lmCalls).toBe(referenceTask.answered + referencePrompt);
    expect(resumed.score).toBe(reference.score);
    expect(Object.keys(resumed.trialLogs)).toEqual(Object.keys(reference.trialLogs));
    expect(resumed.dumpState()).toEqual(reference.dumpState());
  });
});
