import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { Signature } from '../signature/signature.ts';
import { DummyLM } from '../testing/dummy-lm.ts';
import { ChainOfThought } from './chain-of-thought.ts';

const FIXTURE = join(import.meta.dirname, '..', 'state', '__fixtures__', 'dspy-3.3.1-chain-of-thought.json');

describe('ChainOfThought', () => {
  it('prepends the reasoning output field with DSPy’s prefix and description', () => {
    const cot = new ChainOfThought('question -> answer');
    expect(cot.signature.toString()).toBe('question -> reasoning, answer');
    const reasoning = cot.signature.field('reasoning');
    expect(reasoning).toMatchObject({
      kind: 'output',
      type: { kind: 'str' },
      desc: '${reasoning}',
      prefix: "Reasoning: Let's think step by step in order to",
    });
    expect(cot.signature.instructions).toBe('Given the fields `question`, produce the fields `answer`.');
    expect(cot.namedPredictors().map(([name]) => name)).toEqual(['predict']);
  });

  it('returns the reasoning with the outputs and passes options down', async () => {
    const lm = new DummyLM([{ reasoning: '6 times 7 is 42.', answer: '42' }]);
    const cot = new ChainOfThought(Signature.parse('question: str -> answer: int'), { temperature: 0.3 });
    const pred = await cot.call({ question: 'What is 6 * 7?' }, { lm });
    expectTypeOf(pred.reasoning).toEqualTypeOf<string>();
    expectTypeOf(pred.answer).toEqualTypeOf<number>();
    expect([pred.reasoning, pred.answer]).toEqual(['6 times 7 is 42.', 42]);
    expect(lm.lastRequest?.temperature).toBe(0.3);
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(cot.call({ question: 'q' }, { lm, signal: controller.signal })).rejects.toThrow(/aborted/);
  });

  it('accepts a custom rationale field', () => {
    const cot = new ChainOfThought('question -> answer', {
      rationaleField: { desc: 'think first', prefix: 'Thoughts:' },
    });
    expect(cot.signature.field('reasoning')).toMatchObject({ desc: 'think first', prefix: 'Thoughts:' });
  });

  it('loads a DSPy 3.3.1 ChainOfThought save and writes it back byte for byte', async () => {
    const cot = await new ChainOfThought('question -> answer').load(FIXTURE);
    expect(cot.predict.demos).toHaveLength(2);
    expect(cot.signature.field('answer')?.desc).toBe('often between 1 and 5 words');
    const out = join(await mkdtemp(join(tmpdir(), 'dspy-ts-cot-')), 'cot.json');
    await cot.save(out);
    expect(await readFile(out)).toEqual(await readFile(FIXTURE));
  });
});
