import { describe, expect, it } from 'vitest';
import type { LMMessage } from '../lm/spec.ts';
import { isLanguageModel } from '../lm/spec.ts';
import { CapturingLM } from './capturing-lm.ts';
import { DummyLM } from './dummy-lm.ts';
import { ScriptedLM } from './scripted-lm.ts';

const ask = (content: string): { messages: LMMessage[] } => ({ messages: [{ role: 'user', content }] });

describe('DummyLM', () => {
  it('implements LanguageModelV1 with model dummy and zero usage', async () => {
    const lm = new DummyLM([{ answer: 'red' }]);
    expect(isLanguageModel(lm)).toBe(true);
    expect(lm.modelId).toBe('dummy');
    const response = await lm.generate(ask('q'));
    expect(response).toEqual({
      choices: [{ text: '[[ ## answer ## ]]\nred', finishReason: 'stop' }],
      usage: { inputTokens: 0, outputTokens: 0 },
      modelId: 'dummy',
    });
  });

  it('list mode: every call and every choice consumes the next answer, then "No more responses"', async () => {
    const lm = new DummyLM([{ answer: 'red' }, { answer: 'blue', score: 0.5 }, { answer: ['x', 'y'] }]);
    const first = await lm.generate({ ...ask('q'), n: 2 });
    expect(first.choices.map((c) => c.text)).toEqual([
      '[[ ## answer ## ]]\nred',
      '[[ ## answer ## ]]\nblue\n\n[[ ## score ## ]]\n0.5',
    ]);
    expect((await lm.generate(ask('q'))).choices[0]?.text).toBe('[[ ## answer ## ]]\n["x", "y"]');
    expect((await lm.generate(ask('q'))).choices[0]?.text).toBe('[[ ## answer ## ]]\nNo more responses');
  });

  it('dict mode: the first key contained in the last message wins, otherwise raw "No more responses"', async () => {
    const lm = new DummyLM({ 'What is 1+1?': { answer: '2' }, 'What is': { answer: 'generic' } });
    expect((await lm.generate(ask('Q: What is 1+1? Please.'))).choices[0]?.text).toBe('[[ ## answer ## ]]\n2');
    expect((await lm.generate(ask('What is love?'))).choices[0]?.text).toBe('[[ ## answer ## ]]\ngeneric');
    expect((await lm.generate(ask('Unrelated'))).choices[0]?.text).toBe('No more responses');
  });

  it('json format renders indent-2 JSON with Python separators', async () => {
    const lm = new DummyLM([{ answer: 'red', tags: ['a', 'b'] }], { adapter: 'json' });
    expect((await lm.generate(ask('q'))).choices[0]?.text).toBe(
      '{\n  "answer": "red",\n  "tags": [\n    "a",\n    "b"\n  ]\n}',
    );
  });

  it('followExamples answers with the matching demo', async () => {
    const messages: LMMessage[] = [
      { role: 'system', content: 'Your input fields are: ...' },
      { role: 'user', content: '[[ ## question ## ]]\nWhat color is the sky?' },
      { role: 'assistant', content: '[[ ## answer ## ]]\nblue\n\n[[ ## completed ## ]]\n' },
      { role: 'user', content: '[[ ## question ## ]]\nWhat color is grass?' },
      { role: 'assistant', content: '[[ ## answer ## ]]\ngreen\n\n[[ ## completed ## ]]\n' },
      {
        role: 'user',
        content: '[[ ## question ## ]]\nWhat color is the sky?\n\nRespond with the corresponding output fields...',
      },
    ];
    const lm = new DummyLM([{ answer: 'ignored' }], { followExamples: true, reasoning: true });
    const response = await lm.generate({ messages });
    expect(response.choices[0]).toEqual({
      text: '[[ ## answer ## ]]\nblue\n\n[[ ## completed ## ]]\n',
      reasoning: 'Some reasoning',
      finishReason: 'stop',
    });
    const noMatch = await lm.generate({
      messages: [...messages.slice(0, -1), { role: 'user', content: '[[ ## question ## ]]\nOther?' }],
    });
    expect(noMatch.choices[0]?.text).toBe('');
  });

  it('records its calls for getConvo', async () => {
    const lm = new DummyLM([{ answer: 'a' }]);
    await lm.generate(ask('hello'));
    const [messages, outputs] = lm.getConvo(0);
    expect(messages).toEqual([{ role: 'user', content: 'hello' }]);
    expect(outputs).toEqual(['[[ ## answer ## ]]\na']);
    expect(() => lm.getConvo(3)).toThrow(/no call 3/);
  });
});

describe('CapturingLM and ScriptedLM', () => {
  it('CapturingLM records requests and replays replies in order, then empty text', async () => {
    const lm = new CapturingLM(['one', ['two a', 'two b']]);
    expect((await lm.generate({ ...ask('1'), n: 2 })).choices.map((c) => c.text)).toEqual(['one', 'one']);
    expect((await lm.generate({ ...ask('2'), n: 2 })).choices.map((c) => c.text)).toEqual(['two a', 'two b']);
    expect((await lm.generate(ask('3'))).choices[0]?.text).toBe('');
    expect(lm.requests.map((r) => r.messages[0]?.content)).toEqual(['1', '2', '3']);
    expect(lm.modelId).toBe('capturing');
  });

  it('ScriptedLM honours abort signals and reports cache hits without usage', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    const lm = new ScriptedLM(() => 'x', { cacheHit: true, usage: { inputTokens: 5 } });
    await expect(lm.generate({ ...ask('q'), signal: controller.signal })).rejects.toThrow('stop');
    const response = await lm.generate(ask('q'));
    expect(response.cacheHit).toBe(true);
    expect(response.usage).toEqual({});
  });
});
