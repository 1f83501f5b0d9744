import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Module } from '../modules/module.ts';
import { Predict } from '../modules/predict.ts';
import type { Prediction } from '../primitives/prediction.ts';
import { Signature } from '../signature/signature.ts';
import { DummyLM } from '../testing/dummy-lm.ts';

const FIXTURE = join(import.meta.dirname, '__fixtures__', 'dspy-3.3.1-chain-of-thought.json');

/** Shaped like DSPy's ChainOfThought: one `predict` whose signature has `reasoning` prepended to the outputs. */
class ChainOfThoughtLike extends Module<Record<string, unknown>, Prediction> {
  predict = new Predict(Signature.from('question -> answer').prepend('reasoning', { kind: 'output' }));
  override forward(inputs: Record<string, unknown>) {
    return this.predict.call(inputs);
  }
}

describe('DSPy 3.3.1 saved programs', () => {
  it('loads a DSPy ChainOfThought save and writes it back byte for byte', async () => {
    const program = await new ChainOfThoughtLike().load(FIXTURE);
    const dir = await mkdtemp(join(tmpdir(), 'dspy-ts-compat-'));
    const out = join(dir, 'resaved.json');
    await program.save(out);
    expect(await readFile(out)).toEqual(await readFile(FIXTURE));
  });

  it('applies the saved instructions, prefixes, descriptions and demos', async () => {
    const program = await new ChainOfThoughtLike().load(FIXTURE);
    const { signature, demos } = program.predict;
    expect(signature.instructions).toBe(
      'Answer questions about films and people with a short factual answer.\n\nBe concise.',
    );
    expect(signature.fields.map((f) => [f.name, f.prefix, f.desc])).toEqual([
      ['question', 'Question:', '${question}'],
      ['reasoning', "Reasoning: Let's think step by step in order to", '${reasoning}'],
      ['answer', 'Answer:', 'often between 1 and 5 words'],
    ]);
    expect(demos).toHaveLength(2);
    expect(demos[0]).toMatchObject({ augmented: true, answer: 'Walt Disney Productions' });
    expect(demos[1]).toMatchObject({ dspy_split: 'train', dspy_uuid: '15118a69-274d-4eea-b3eb-204d05e24012' });
  });

  it('uses the loaded demos and instructions when called', async () => {
    const program = await new ChainOfThoughtLike().load(FIXTURE);
    const lm = new DummyLM([{ reasoning: 'Paris is the capital.', answer: 'Paris' }]);
    const prediction = await program.predict.call({ question: 'Capital of France?' }, { lm });
    expect(prediction.get('answer')).toBe('Paris');
    const messages = lm.lastRequest?.messages ?? [];
    expect(messages[0]?.content).toContain('Be concise.');
    expect(messages.some((m) => typeof m.content === 'string' && m.content.includes('Walt Disney Productions'))).toBe(
      true,
    );
  });
});
