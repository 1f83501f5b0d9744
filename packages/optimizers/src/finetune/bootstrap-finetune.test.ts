import {
  type ChatFinetuneRecord,
  configure,
  Example,
  type FinetuneOptions,
  type Finetuner,
  type LanguageModelV1,
} from '@dspy-ts/core';
import { ScriptedLM } from '@dspy-ts/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { CountingLM, exactAnswer, qaExamples, TwoStep, twoStepReply } from '../../test/helpers.ts';
import { OptimizerError } from '../optimizer-error.ts';
import { BootstrapFinetune, type FinetuneJobProgressEvent } from './bootstrap-finetune.ts';

/** Records every job it receives and answers with a new scripted LM that always says "tuned". */
class RecordingFinetuner implements Finetuner {
  readonly jobs: { records: ChatFinetuneRecord[]; options: FinetuneOptions | undefined; lm: ScriptedLM }[] = [];

  async finetune(records: readonly ChatFinetuneRecord[], options?: FinetuneOptions): Promise<LanguageModelV1> {
    options?.onProgress?.({ phase: 'train', completed: 1, total: 1, metrics: { loss: 0.5 } });
    const lm = new ScriptedLM(
      (request) =>
        String(request.messages.at(-1)?.content).includes('draft ## ]]`')
          ? '[[ ## draft ## ]]\ntuned'
          : '[[ ## answer ## ]]\ntuned',
      { modelId: `ft:${options?.baseLM?.modelId}:${this.jobs.length}` },
    );
    this.jobs.push({ records: [...records], options, lm });
    return lm;
  }
}

// q1 is answered wrong: its trace fails the metric.
const answers = { q0: 'a0', q1: 'wrong', q2: 'a2' };
const trainset = qaExamples(3);

function student(lm: LanguageModelV1, second: LanguageModelV1 = lm): TwoStep {
  const program = new TwoStep();
  program.first.lm = lm;
  program.second.lm = second;
  return program;
}

afterEach(() => configure({ lm: undefined }));

describe('BootstrapFinetune', () => {
  it('fine-tunes on exactly the successful traces, in the chat format, one multitask job per LM', async () => {
    const base = new CountingLM(twoStepReply(answers));
    const finetuner = new RecordingFinetuner();
    const progress: FinetuneJobProgressEvent[] = [];
    const optimizer = new BootstrapFinetune({ metric: exactAnswer, finetuner, trainKwargs: { epochs: 2 } });
    const program = student(base);
    const compiled = await optimizer.compile(program, { trainset, onFinetuneProgress: (e) => progress.push(e) });

    expect(base.answered).toBe(6); // 3 examples × 2 predictors
    expect(finetuner.jobs).toHaveLength(1);
    const job = finetuner.jobs[0]!;
    expect(job.options?.baseLM).toBe(base);
    expect(job.options?.trainKwargs).toEqual({ epochs: 2 });
    // q0 and q2 passed, two steps each; q1 is left out.
    expect(job.records).toHaveLength(4);
    const users = job.records.map((r) => r.messages[1]?.content ?? '');
    expect(users.filter((u) => u.includes('q1'))).toHaveLength(0);
    const firstQ0 = job.records.find((r) => r.messages[1]?.content.startsWith('[[ ## question ## ]]\nq0'));
    expect(firstQ0?.messages).toEqual([
      {
        role: 'system',
        content:
          'Your input fields are:\n1. `question` (str):\nYour output fields are:\n1. `draft` (str):\nAll interactions ' +
          'will be structured in the following way, with the appropriate values filled in.\n\n[[ ## question ## ]]\n' +
          '{question}\n\n[[ ## draft ## ]]\n{draft}\n\n[[ ## completed ## ]]\nIn adhering to this structure, your ' +
          'objective is: \n        Given the fields `question`, produce the fields `draft`.',
      },
      {
        role: 'user',
        content:
          '[[ ## question ## ]]\nq0\n\nRespond with the corresponding output fields, starting with the field ' +
          '`[[ ## draft ## ]]`, and then ending with the marker for `[[ ## completed ## ]]`.',
      },
      { role: 'assistant', content: '[[ ## draft ## ]]\nq0\n\n[[ ## completed ## ]]\n' },
    ]);
    const answerQ2 = job.records.find((r) => r.messages[1]?.content.startsWith('[[ ## draft ## ]]\nq2'));
    expect(answerQ2?.messages.at(-1)).toEqual({
      role: 'assistant',
      content: '[[ ## answer ## ]]\na2\n\n[[ ## completed ## ]]\n',
    });
    expect(progress).toEqual([{ phase: 'train', completed: 1, total: 1, metrics: { loss: 0.5 }, job: 'counting' }]);

    // The result uses the fine-tuned LM; the student keeps its own.
    expect(compiled.first.lm).toBe(job.lm);
    expect(compiled.second.lm).toBe(job.lm);
    expect(program.first.lm).toBe(base);
    const prediction = await compiled.call({ question: 'q9' });
    expect(prediction.answer).toBe('tuned');
    expect(job.lm.calls).toHaveLength(2);
    expect(base.answered).toBe(6);
  });

  it('runs one job per predictor without multitask, each on its own steps', async () => {
    const base = new CountingLM(twoStepReply(answers));
    const finetuner = new RecordingFinetuner();
    const compiled = await new BootstrapFinetune({ metric: exactAnswer, finetuner, multitask: false }).compile(
      student(base),
      { trainset },
    );
    expect(finetuner.jobs).toHaveLength(2);
    const [first, second] = finetuner.jobs as [RecordingFinetuner['jobs'][0], RecordingFinetuner['jobs'][0]];
    expect(first.records.map((r) => r.messages.at(-1)?.content).sort()).toEqual([
      '[[ ## draft ## ]]\nq0\n\n[[ ## completed ## ]]\n',
      '[[ ## draft ## ]]\nq2\n\n[[ ## completed ## ]]\n',
    ]);
    expect(second.records.map((r) => r.messages.at(-1)?.content).sort()).toEqual([
      '[[ ## answer ## ]]\na0\n\n[[ ## completed ## ]]\n',
      '[[ ## answer ## ]]\na2\n\n[[ ## completed ## ]]\n',
    ]);
    expect(compiled.first.lm).toBe(first.lm);
    expect(compiled.second.lm).toBe(second.lm);
  });

  it('groups multitask jobs per LM, keeps or drops demos, and uses per-LM finetuners', async () => {
    const lmA = new CountingLM(twoStepReply(answers));
    const lmB = new ScriptedLM(twoStepReply(answers), { modelId: 'b' });
    const tunerA = new RecordingFinetuner();
    const tunerB = new RecordingFinetuner();
    const program = student(lmA, lmB);
    program.first.demos = [new Example({ question: 'qd', draft: 'qd' })];
    const finetuner = new Map<LanguageModelV1, Finetuner>([
      [lmA, tunerA],
      [lmB, tunerB],
    ]);
    const kept = await new BootstrapFinetune({ metric: exactAnswer, finetuner }).compile(program, { trainset });
    expect(tunerA.jobs).toHaveLength(1);
    expect(tunerB.jobs).toHaveLength(1);
    // The demo is rendered as a user/assistant pair before the input.
    expect(tunerA.jobs[0]?.records[0]?.messages.map((m) => m.role)).toEqual([
      'system',
      'user',
      'assistant',
      'user',
      'assistant',
    ]);
    expect(tunerB.jobs[0]?.records[0]?.messages).toHaveLength(3);
    expect(kept.first.demos).toHaveLength(1);
    expect(kept.second.lm).toBe(tunerB.jobs[0]?.lm);

    const dropped = await new BootstrapFinetune({ metric: exactAnswer, finetuner, excludeDemos: true }).compile(
      program,
      {
        trainset,
      },
    );
    expect(tunerA.jobs[1]?.records[0]?.messages).toHaveLength(3);
    expect(dropped.first.demos).toEqual([]);
  });

  it('collects traces from every teacher of a list', async () => {
    const base = new CountingLM(twoStepReply(answers));
    const teacherLM = new ScriptedLM(twoStepReply({ q0: 'a0', q1: 'a1', q2: 'a2' }), { modelId: 'teacher' });
    const finetuner = new RecordingFinetuner();
    await new BootstrapFinetune({ metric: exactAnswer, finetuner }).compile(student(base), {
      trainset,
      teacher: [student(base), student(teacherLM)],
    });
    // 2 successful runs from the first teacher, 3 from the second, two steps each.
    expect(finetuner.jobs[0]?.records).toHaveLength(10);
    expect(teacherLM.calls).toHaveLength(6);
  });

  it('needs an LM on every predictor and a finetuner for every LM', async () => {
    const noLM = new TwoStep();
    noLM.first.lm = new CountingLM(twoStepReply(answers));
    const optimizer = new BootstrapFinetune({ metric: exactAnswer, finetuner: new RecordingFinetuner() });
    await expect(optimizer.compile(noLM, { trainset })).rejects.toThrow(
      /Predictor "second" does not have an LM assigned/,
    );
    const base = new CountingLM(twoStepReply(answers));
    const error = await new BootstrapFinetune({ metric: exactAnswer })
      .compile(student(base), { trainset })
      .catch((e: unknown) => e);
    expect(OptimizerError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/No finetuner for the LM "counting"/);
    expect(base.answered).toBe(0);
  });
});
