import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configure, DspyError, type Example, type LMRequest, Predict } from '@dspy-ts/core';
import { ScriptedLM } from '@dspy-ts/core/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CountingLM, currentField, qaExamples, TwoStep, text } from '../../test/helpers.ts';
import { GEPA, type GEPAMetric } from './gepa.ts';

const REFLECTION = 'I provided an assistant with the following instructions to perform a task for me:';

/** The task LM answers right (q3 → a3) only when its instructions contain "Echo the answer.". */
function taskReply(request: LMRequest): string {
  const question = currentField(request, 'question');
  return `[[ ## answer ## ]]\n${text(request.messages[0]).includes('Echo the answer.') ? question.replace('q', 'a') : 'no'}`;
}

const feedbackMetric: GEPAMetric = (example, prediction) => {
  const right = example.answer === prediction.answer;
  return { score: right ? 1 : 0, feedback: right ? 'Correct.' : `Wrong: expected ${example.answer as string}.` };
};

function reflectionLM(instruction: string): ScriptedLM {
  return new ScriptedLM(() => `Here is a better instruction:\n\`\`\`\n${instruction}\n\`\`\``, {
    modelId: 'reflection',
  });
}

afterEach(() => {
  configure({ lm: undefined });
  vi.restoreAllMocks();
});

describe('GEPA', () => {
  it('accepts a child whose minibatch sum strictly improves, then scores it on the valset', async () => {
    const task = new ScriptedLM(taskReply, { modelId: 'task' });
    configure({ lm: task });
    const reflection = reflectionLM('Echo the answer.');
    const gepa = new GEPA({ metric: feedbackMetric, reflectionLM: reflection, maxMetricCalls: 8, trackStats: true });
    const student = new Predict('question -> answer');
    const compiled = await gepa.compile(student, { trainset: qaExamples(3), valset: qaExamples(2) });

    expect(compiled.signature.instructions).toBe('Echo the answer.');
    expect(student.signature.instructions).toBe('Given the fields `question`, produce the fields `answer`.');
    expect(compiled.compileReport.score).toBe(100);
    // Seed on the valset (2), the parent's traced minibatch (3), the child on it (3), the child on the valset (2).
    expect(task.calls).toHaveLength(10);
    expect(reflection.calls).toHaveLength(1);
    const details = compiled.detailedResults!;
    expect(details.parents).toEqual([[null], [0]]);
    expect(details.valAggregateScores).toEqual([0, 1]);
    expect(details.totalMetricCalls).toBe(10);
    expect(details.numFullValEvals).toBe(2);
    expect(details.discoveryEvalCounts).toEqual([0, 8]);
    expect(details.bestIdx).toBe(1);

    // The reflective prompt: GEPA's template with one record per minibatch example.
    const prompt = text(reflection.calls[0]?.request.messages[0]);
    expect(reflection.calls[0]?.request.messages).toHaveLength(1);
    expect(
      prompt.startsWith(`${REFLECTION}\n\`\`\`\nGiven the fields \`question\`, produce the fields \`answer\`.\n\`\`\``),
    ).toBe(true);
    expect(prompt.match(/# Example \d/g)).toHaveLength(3);
    expect(prompt).toMatch(
      /## Inputs\n### question\nq\d\n\n## Generated Outputs\n### answer\nno\n\n## Feedback\nWrong: expected a\d\.\n\n/,
    );
  });

  it('rejects a child that only ties on the minibatch and never scores it on the valset', async () => {
    const task = new ScriptedLM(taskReply, { modelId: 'task' });
    configure({ lm: task });
    const reflection = reflectionLM('Still not the right instruction.');
    const gepa = new GEPA({ metric: feedbackMetric, reflectionLM: reflection, maxMetricCalls: 8, trackStats: true });
    const compiled = await gepa.compile(new Predict('question -> answer'), {
      trainset: qaExamples(3),
      valset: qaExamples(2),
    });
    expect(compiled.signature.instructions).toBe('Given the fields `question`, produce the fields `answer`.');
    expect(reflection.calls).toHaveLength(1);
    // No valset evaluation of the child: 2 + 3 + 3.
    expect(task.calls).toHaveLength(8);
    expect(compiled.detailedResults?.instructions).toHaveLength(1);
    expect(compiled.compileReport.score).toBe(0);
  });

  it('uses the default feedback for plain scores and skips minibatches that are already perfect', async () => {
    const task = new ScriptedLM(taskReply, { modelId: 'task' });
    configure({ lm: task });
    const reflection = reflectionLM('Echo the answer.');
    const metric = (example: Example, prediction: { answer?: unknown }) =>
      example.answer === prediction.answer ? 1 : 0.25;
    const gepa = new GEPA({ metric, reflectionLM: reflection, maxMetricCalls: 14, reflectionMinibatchSize: 2 });
    const compiled = await gepa.compile(new Predict('question -> answer'), {
      trainset: qaExamples(4),
      valset: qaExamples(2),
    });
    expect(compiled.signature.instructions).toBe('Echo the answer.');
    expect(text(reflection.calls[0]?.request.messages[0])).toContain(
      '## Feedback\nThis trajectory got a score of 0.25.',
    );
    // After the child is accepted (2 + 2 + 2 + 2 = 8 calls), later minibatches are all perfect: no more reflection.
    expect(reflection.calls).toHaveLength(1);
    expect(compiled.compileReport.stats.byModel.reflection?.lmCalls).toBe(1);
    expect(task.calls.length).toBeGreaterThanOrEqual(14);
  });

  it('turns unparseable replies into format feedback only with addFormatFailureAsFeedback', async () => {
    // Failed examples are logged by the evaluation; keep the test output quiet.
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const task = new ScriptedLM((request) =>
      text(request.messages[0]).includes('Echo the answer.') ? taskReply(request) : 'I refuse to use your format.',
    );
    configure({ lm: task });
    const run = async (addFormatFailureAsFeedback: boolean) => {
      const reflection = reflectionLM('Echo the answer.');
      const gepa = new GEPA({
        metric: feedbackMetric,
        reflectionLM: reflection,
        maxMetricCalls: 8,
        addFormatFailureAsFeedback,
      });
      const compiled = await gepa.compile(new Predict('question -> answer'), {
        trainset: qaExamples(3),
        valset: qaExamples(2),
      });
      return { compiled, reflection };
    };
    const without = await run(false);
    expect(without.reflection.calls).toHaveLength(0);
    expect(without.compiled.signature.instructions).not.toBe('Echo the answer.');

    const withFeedback = await run(true);
    const prompt = text(withFeedback.reflection.calls[0]?.request.messages[0]);
    expect(prompt).toContain(
      "## Generated Outputs\nCouldn't parse the output as per the expected output format. The model's raw response was:\n```\nI refuse to use your format.\n```",
    );
    expect(prompt).toContain(
      '## Feedback\nYour output failed to parse. Follow this structure:\nsystem: Your input fields are:\n1. `question` (str):',
    );
    expect(withFeedback.compiled.signature.instructions).toBe('Echo the answer.');
  });

  /**
   * `first` drafts the question only under "Draft well." (but botches q0, which the seed instruction drafts right);
   * `second` prefixes "A:" only under "Answer well." (but not to the seed's "worse" draft of q5). The metric gives
   * half a point for the right draft and half for the prefix, so each lineage is best on some example.
   */
  async function twoLineages(useMerge: boolean) {
    const task = new ScriptedLM((request) => {
      const system = text(request.messages[0]);
      const question = currentField(request, 'question');
      if (question) {
        if (system.includes('Draft well.')) return `[[ ## draft ## ]]\n${question === 'q0' ? 'bad' : question}`;
        return `[[ ## draft ## ]]\n${question === 'q0' ? 'q0' : question === 'q5' ? 'worse' : 'bad'}`;
      }
      const draft = currentField(request, 'draft');
      const prefixed = system.includes('Answer well.') && draft !== 'worse';
      return `[[ ## answer ## ]]\n${prefixed ? `A:${draft}` : draft}`;
    });
    configure({ lm: task });
    const metric: GEPAMetric = (example, prediction) => {
      const answer = String(prediction.answer);
      return (answer.replace('A:', '') === example.question ? 0.5 : 0) + (answer.startsWith('A:') ? 0.5 : 0);
    };
    // Rewrites of `second` only help on the seed's drafts; on good drafts the reflection proposes a useless text.
    const reflection = new ScriptedLM((request) => {
      const prompt = text(request.messages[0]);
      if (prompt.includes('### question')) return '```\nDraft well.\n```';
      return /### draft\nq[1-5]\n/.test(prompt) ? '```\nAnswer poorly.\n```' : '```\nAnswer well.\n```';
    });
    const gepa = new GEPA({ metric, reflectionLM: reflection, maxMetricCalls: 120, trackStats: true, useMerge });
    const compiled = await gepa.compile(new TwoStep(), { trainset: qaExamples(6) });
    return { compiled, details: compiled.detailedResults! };
  }

  it('merges two lineages that each improved a different predictor', async () => {
    const { compiled, details } = await twoLineages(true);
    const merged = details.parents.findIndex((from) => from.length === 2);
    expect(merged).toBeGreaterThan(0);
    const [id1, id2] = details.parents[merged] as [number, number];
    expect(details.parents[id1]).toEqual([0]);
    expect(details.parents[id2]).toEqual([0]);
    // The merge combines the rewritten `first` of one lineage with the rewritten `second` of the other.
    expect(details.instructions[merged]).toEqual({ first: 'Draft well.', second: 'Answer well.' });
    expect(details.valAggregateScores[merged]).toBeGreaterThan(
      Math.max(details.valAggregateScores[id1] as number, details.valAggregateScores[id2] as number),
    );
    expect(compiled.first.signature.instructions).toBe('Draft well.');
    expect(compiled.second.signature.instructions).toBe('Answer well.');
    expect(details.bestIdx).toBe(merged);
  });

  it('does not merge with useMerge: false', async () => {
    const { details } = await twoLineages(false);
    expect(details.parents.length).toBeGreaterThan(2);
    expect(details.parents.every((from) => from.length === 1)).toBe(true);
  });
});

describe('resumable GEPA', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gepa-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** One LM answering both the task and the reflection prompts, counting every answered call. */
  function lm(): CountingLM {
    return new CountingLM((request) =>
      text(request.messages[0]).startsWith(REFLECTION) ? '```\nEcho the answer.\n```' : taskReply(request),
    );
  }
  const optimizer = (reflection: CountingLM) =>
    new GEPA({ metric: feedbackMetric, reflectionLM: reflection, maxMetricCalls: 16, trackStats: true, numThreads: 1 });
  const data = { trainset: qaExamples(4), valset: qaExamples(3) };

  it('resumes after an abort without spending any LM call twice', async () => {
    const reference = lm();
    configure({ lm: reference });
    const expected = await optimizer(reference).compile(new Predict('question -> answer'), data);
    const total = reference.answered;
    expect(total).toBeGreaterThan(10);

    const path = join(dir, 'gepa.json');
    for (const abortAt of [4, 6, 7]) {
      // 4: inside the traced minibatch; 6: the reflection call; 7: the child's minibatch.
      const counting = lm();
      configure({ lm: counting });
      const controller = new AbortController();
      counting.abortAfter = { calls: abortAt, controller };
      const first = optimizer(counting).compile(new Predict('question -> answer'), {
        ...data,
        checkpoint: join(dir, `gepa-${abortAt}.json`),
        signal: controller.signal,
      });
      await expect(first).rejects.toSatisfy((e) => DspyError.isInstance(e) && e.code === 'aborted');
      expect(counting.answered).toBe(abortAt);
      counting.abortAfter = undefined;
      const resumed = await optimizer(counting).compile(new Predict('question -> answer'), {
        ...data,
        checkpoint: join(dir, `gepa-${abortAt}.json`),
      });
      expect(counting.answered).toBe(total);
      expect(resumed.compileReport.resumedUnits).toBeGreaterThan(0);
      expect(resumed.compileReport.totalStats.lmCalls).toBe(total);
      expect(resumed.dumpState()).toEqual(expected.dumpState());
      expect(resumed.detailedResults?.valSubscores).toEqual(expected.detailedResults?.valSubscores);
    }

    // A finished checkpoint answers a re-run for free.
    const counting = lm();
    configure({ lm: counting });
    await optimizer(counting).compile(new Predict('question -> answer'), { ...data, checkpoint: path });
    const again = await optimizer(counting).compile(new Predict('question -> answer'), { ...data, checkpoint: path });
    expect(again.compileReport.stats.lmCalls).toBe(0);
    expect(again.dumpState()).toEqual(expected.dumpState());
  });

  it('projects its LM calls from the budget', () => {
    const reflection = lm();
    const estimate = optimizer(reflection).estimate(new Predict('question -> answer'), data);
    expect(estimate.minLmCalls).toBe(16);
    // 16 + (max(6, 5) + 3 − 1) program runs, plus ceil((16 − 3) / 3) = 5 reflections.
    expect(estimate.maxLmCalls).toBe(24 + 5);
  });
});
