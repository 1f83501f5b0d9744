import { configure, type Embedder, Example, Predict } from '@dspy-ts/core';
import { afterEach, describe, expect, it } from 'vitest';
import { CountingLM, text } from '../test/helpers.ts';
import { KNNFewShot } from './knn-few-shot.ts';

afterEach(() => configure({ lm: undefined }));

/** One dimension per word of a small vocabulary. */
const vocabulary = ['apple', 'banana', 'car', 'truck', 'red', 'yellow'];
const embedder: Embedder = {
  async embed(texts) {
    return texts.map((t) => Float32Array.from(vocabulary.map((w) => (t.includes(w) ? 1 : 0))));
  },
};

describe('KNNFewShot', () => {
  it('bootstraps on the nearest training examples of each call', async () => {
    const trainset = [
      new Example({ question: 'apple red', answer: 'fruit' }).withInputs('question'),
      new Example({ question: 'car truck', answer: 'vehicle' }).withInputs('question'),
      new Example({ question: 'banana yellow', answer: 'fruit' }).withInputs('question'),
    ];
    const lm = new CountingLM((request) => {
      const last = text(request.messages.at(-1));
      return `[[ ## answer ## ]]\n${last.includes('car') || last.includes('truck') ? 'vehicle' : 'fruit'}`;
    });
    configure({ lm });
    const student = new Predict('question -> answer');
    const program = new KNNFewShot(1, trainset, embedder, { maxBootstrappedDemos: 1 }).compile(student);
    expect(program.demos).toEqual([]);
    const prediction = await program.call({ question: 'red truck car' });
    expect(prediction.answer).toBe('vehicle');
    // One bootstrap run on the single neighbour, then the answer with its augmented demo.
    expect(lm.answered).toBe(2);
    const final = lm.requests[1]?.messages.map(text).join('\n') ?? '';
    expect(final).toContain('car truck');
    expect(final).not.toContain('apple red');
    expect(student.demos).toEqual([]);
  });
});
