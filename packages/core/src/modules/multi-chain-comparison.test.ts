import { describe, expect, it } from 'vitest';
import { Prediction } from '../primitives/prediction.ts';
import { DummyLM } from '../testing/dummy-lm.ts';
import { MultiChainComparison } from './multi-chain-comparison.ts';

const attempts = [
  new Prediction({ reasoning: 'add the numbers\nthen check', answer: '4' }),
  { rationale: '  double two  ', answer: ' 4 \nsure' },
  { reasoning: 'guess', answer: 5 },
];

describe('MultiChainComparison', () => {
  it('builds DSPy’s comparison signature', () => {
    const mcc = new MultiChainComparison('question -> answer');
    expect(mcc.predict.signature.toString()).toBe(
      'question, reasoning_attempt_1, reasoning_attempt_2, reasoning_attempt_3 -> rationale, answer',
    );
    expect(mcc.predict.signature.dumpState().fields.slice(1, 2)).toEqual([
      { prefix: 'Student Attempt #1:', description: '${reasoning attempt}' },
    ]);
    expect(mcc.predict.signature.field('rationale')).toMatchObject({
      prefix: "Accurate Reasoning: Thank you everyone. Let's now holistically",
      desc: '${corrected reasoning}',
    });
    expect(mcc.predict.config).toEqual({ temperature: 0.7 });
    expect(mcc.namedPredictors().map(([name]) => name)).toEqual(['predict']);
  });

  it('formats each attempt from the first lines of its rationale and answer', async () => {
    const lm = new DummyLM([{ rationale: 'Two plus two is four.', answer: '4' }]);
    const mcc = new MultiChainComparison('question -> answer');
    const pred = await mcc.call({ question: 'What is 2+2?', completions: attempts }, { lm });
    expect(pred.answer).toBe('4');
    const user = lm.lastRequest?.messages.at(-1)?.content as string;
    expect(user).toContain(
      "[[ ## reasoning_attempt_1 ## ]]\n«I'm trying to add the numbers I'm not sure but my prediction is 4»\n\n" +
        "[[ ## reasoning_attempt_2 ## ]]\n«I'm trying to double two I'm not sure but my prediction is 4»\n\n" +
        "[[ ## reasoning_attempt_3 ## ]]\n«I'm trying to guess I'm not sure but my prediction is 5»",
    );
    expect(lm.lastRequest?.temperature).toBe(0.7);
  });

  it('requires exactly M completions, with DSPy’s message', async () => {
    const mcc = new MultiChainComparison('question -> answer', { M: 2 });
    await expect(mcc.call({ question: 'q', completions: attempts }, { lm: new DummyLM([]) })).rejects.toThrow(
      "The number of attempts (3) doesn't match the expected number M (2). Please set the correct value for M when initializing MultiChainComparison.",
    );
  });
});
