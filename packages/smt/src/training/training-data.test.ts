import { describe, expect, it } from 'vitest';
import { renderChatTemplate } from '../local-lm.ts';
import { loadLlama2c } from '../model/load-llama2c.ts';
import { learningRate } from './lr-schedule.ts';
import { batchIndices, chatRecordToExample, prepareExamples, stackBatch } from './training-data.ts';

const modelDir = new URL('../../../../../shared/models/stories260K/', import.meta.url);

describe('chatRecordToExample', () => {
  it('masks in only the assistant answer (and EOS), prompting exactly as LocalLM does', async () => {
    const { tokenizer } = await loadLlama2c({
      checkpoint: new URL('stories260K.bin', modelDir),
      tokenizer: new URL('tok512.bin', modelDir),
    });
    const messages = [
      { role: 'system' as const, content: 'Answer with a name.' },
      { role: 'user' as const, content: 'Tim gave the ball to Sue. Who has the ball now?' },
      { role: 'assistant' as const, content: 'Sue' },
    ];
    const example = chatRecordToExample({ messages }, tokenizer);
    const prompt = tokenizer.encode(renderChatTemplate(messages.slice(0, 2)), { bos: true });
    const answer = tokenizer.encode('Sue', { bos: false, dummyPrefix: false });
    expect(example.tokens).toEqual([...prompt, ...answer, tokenizer.eosId]);
    expect(example.lossMask).toEqual([...prompt.map(() => 0), ...answer.map(() => 1), 1]);
    expect(tokenizer.decode(Array.from(example.tokens).filter((_, i) => example.lossMask![i]))).toContain('Sue');
    expect(() => chatRecordToExample({ messages: messages.slice(0, 2) }, tokenizer)).toThrow(/assistant/);
  });
});

describe('batching', () => {
  it('shifts targets by one, carries the mask and stacks sequences', () => {
    const [a, b] = prepareExamples([{ tokens: [1, 5, 6, 7], lossMask: [0, 0, 1, 1] }, { tokens: [1, 9] }], 16, 8);
    expect([...a!.inputs]).toEqual([1, 5, 6]);
    expect([...a!.targets]).toEqual([5, 6, 7]);
    expect([...a!.mask]).toEqual([0, 1, 1]);
    const batch = stackBatch([a!, b!]);
    expect(batch.lengths).toEqual([3, 1]);
    expect([...batch.mask]).toEqual([0, 1, 1, 1]);
    expect(() => prepareExamples([{ tokens: new Array(10).fill(1) }], 16, 8)).toThrow(/context is 8/);
  });

  it('visits every example once per epoch in a seeded order', () => {
    const epoch = [0, 1, 2].flatMap((step) => batchIndices(6, 2, step, 3));
    expect([...epoch].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(epoch).not.toEqual([0, 1, 2, 3, 4, 5]);
    expect(batchIndices(6, 2, 1, 3)).toEqual(epoch.slice(2, 4));
    expect(batchIndices(3, 2, 0, 0, false)).toEqual([0, 1]);
    expect(batchIndices(3, 2, 1, 0, false)).toEqual([2, 0]);
  });
});

describe('learningRate', () => {
  it('warms up linearly from 0, then decays linearly to minLr', () => {
    const s = { lr: 1, warmupSteps: 2, minLr: 0.1 };
    expect([0, 1, 2, 6, 10].map((step) => learningRate(step, 10, s))).toEqual([0, 0.5, 1, 0.1 + 0.9 * 0.5, 0.1]);
    expect(learningRate(5, 10, { lr: 1, decay: 'constant' })).toBe(1);
  });
});
