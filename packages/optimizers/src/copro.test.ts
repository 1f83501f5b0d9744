import { configure, Predict } from '@dspy-ts/core';
import { DummyLM } from '@dspy-ts/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { CountingLM, exactAnswer, qaExamples, text } from '../test/helpers.ts';
import { COPRO } from './copro.ts';
import { OptimizerError } from './optimizer-error.ts';

afterEach(() => configure({ lm: undefined }));

describe('COPRO', () => {
  it('rejects breadth <= 1', () => {
    expect(() => new COPRO({ metric: exactAnswer, breadth: 1 })).toThrow('Breadth must be greater than 1');
    expect(() => new COPRO({ metric: exactAnswer, breadth: 0 })).toThrow(OptimizerError);
  });

  it('finds the instruction that makes the task LM right, and reports its candidates', async () => {
    // The task LM answers right only under the instruction "Echo the answer.".
    const task = new CountingLM((request) => {
      const system = text(request.messages[0]);
      const question = /\[\[ ## question ## \]\]\n(\w+)/.exec(text(request.messages.at(-1)))?.[1] ?? '';
      return `[[ ## answer ## ]]\n${system.includes('Echo the answer.') ? question.replace('q', 'a') : 'no'}`;
    });
    configure({ lm: task });
    const promptModel = new DummyLM([
      { proposed_instruction: 'Be terse.', proposed_prefix_for_output_field: 'Answer:' },
      { proposed_instruction: '"Echo the answer."', proposed_prefix_for_output_field: 'Answer:' },
      { proposed_instruction: 'Be loud.', proposed_prefix_for_output_field: 'Answer:' },
    ]);
    const student = new Predict('question -> answer');
    const copro = new COPRO({ metric: exactAnswer, promptModel, breadth: 2, depth: 2 });
    const estimate = copro.estimate(student, { trainset: qaExamples(2) });
    const compiled = await copro.compile(student, { trainset: qaExamples(2) });

    expect(compiled.signature.instructions).toBe('Echo the answer.');
    expect(student.signature.instructions).toBe('Given the fields `question`, produce the fields `answer`.');
    expect(compiled.compileReport.totalCalls).toBe(4);
    expect(compiled.compileReport.score).toBe(100);
    expect(compiled.candidatePrograms?.[0]?.instruction).toBe('Echo the answer.');
    // Proposals: one n=1 call from the original instruction, one n=2 call given the scored attempts.
    expect(promptModel.calls).toHaveLength(2);
    expect(promptModel.calls[1]?.request.n).toBe(2);
    const attempts = text(promptModel.calls[1]?.request.messages.at(-1));
    expect(attempts).toContain('Instruction #1: Given the fields');
    expect(attempts).toContain('[4] «Instruction #2: Be terse.»');
    expect(attempts).toContain('[6] «Resulting Score #2: 0.0»');
    expect(task.answered).toBe(compiled.compileReport.stats.byModel.counting?.lmCalls);
    expect(estimate.maxLmCalls).toBe(2 + 4 * 2);
    expect(compiled.compileReport.stats.lmCalls).toBe(estimate.maxLmCalls);
  });
});
