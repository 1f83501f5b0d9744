import { isLanguageModel, LMError } from '@dspy-ts/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalLM, renderChatTemplate } from './local-lm.ts';
import { loadLlama2c } from './model/load-llama2c.ts';

const modelDir = new URL('../../../../shared/models/stories260K/', import.meta.url);
let lm: LocalLM;

beforeAll(async () => {
  const model = await loadLlama2c({
    checkpoint: new URL('stories260K.bin', modelDir),
    tokenizer: new URL('tok512.bin', modelDir),
  });
  lm = new LocalLM(model);
});

const messages = [{ role: 'user' as const, content: 'Once upon a time, there was a little girl named Lily.' }];

describe('renderChatTemplate', () => {
  it('renders role markers, text, tool turns and the generation prompt', () => {
    expect(
      renderChatTemplate([
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'a' },
            { type: 'text', text: 'b' },
          ],
        },
        { role: 'assistant', content: 'ok', toolCalls: [{ id: '1', name: 'f', args: { x: 1 } }] },
        { role: 'tool', toolCallId: '1', toolName: 'f', content: '2' },
      ]),
    ).toBe(
      '<|system|>\nBe brief.\n<|user|>\na\nb\n<|assistant|>\nok\n{"tool_calls":[{"id":"1","name":"f","args":{"x":1}}]}\n' +
        '<|tool|>\nf: 2\n<|assistant|>\n',
    );
    expect(renderChatTemplate([{ role: 'assistant', content: 'done' }], { addGenerationPrompt: false })).toBe(
      '<|assistant|>\ndone\n',
    );
  });
});

describe('LocalLM over stories260K', () => {
  it('implements the LM spec and reports model id and token usage', async () => {
    expect(isLanguageModel(lm)).toBe(true);
    expect(lm.modelId).toBe('local/stories260K');
    const response = await lm.generate({ messages, maxTokens: 20 });
    expect(response.modelId).toBe('local/stories260K');
    expect(response.choices).toHaveLength(1);
    const prompt = renderChatTemplate(messages);
    expect(response.usage.inputTokens).toBe(lm.model.tokenizer.encode(prompt).length);
    expect(response.usage.outputTokens).toBeGreaterThan(0);
    expect(response.usage.outputTokens).toBeLessThanOrEqual(20);
    const choice = response.choices[0]!;
    expect(choice.text.length).toBeGreaterThan(0);
    if (response.usage.outputTokens === 20) expect(choice.finishReason).toBe('length');
    // Greedy decoding is deterministic.
    expect((await lm.generate({ messages, maxTokens: 20 })).choices[0]!.text).toBe(choice.text);
  });

  it('honours stop sequences', async () => {
    const full = (await lm.generate({ messages, maxTokens: 30 })).choices[0]!.text;
    const word = full.split(' ').filter((w) => w.length > 2)[1]!;
    const stopped = await lm.generate({ messages, maxTokens: 30, stop: [word] });
    expect(stopped.choices[0]!.text).toBe(full.slice(0, full.indexOf(word)));
    expect(stopped.choices[0]!.finishReason).toBe('stop');
  });

  it('samples n choices with seeds seed + i', async () => {
    const response = await lm.generate({ messages, maxTokens: 12, temperature: 1, n: 3, seed: 5 });
    expect(response.choices).toHaveLength(3);
    expect(new Set(response.choices.map((c) => c.text)).size).toBeGreaterThan(1);
    const second = await lm.generate({ messages, maxTokens: 12, temperature: 1, seed: 6 });
    expect(second.choices[0]!.text).toBe(response.choices[1]!.text);
    // Every choice that ran to the limit contributed exactly maxTokens tokens.
    const full = response.choices.filter((c) => c.finishReason === 'length').length;
    expect(response.usage.outputTokens).toBeGreaterThanOrEqual(12 * full);
    expect(response.usage.outputTokens).toBeLessThanOrEqual(36);
    expect(response.usage.inputTokens).toBe(lm.model.tokenizer.encode(renderChatTemplate(messages)).length);
  });

  it('applies defaults, and exposes them in dumpState', async () => {
    const tuned = lm.withDefaults({ maxTokens: 5, temperature: 0.7, seed: 3 });
    expect((await tuned.generate({ messages })).usage.outputTokens).toBeLessThanOrEqual(5);
    expect(tuned.dumpState()).toEqual({
      model: 'local/stories260K',
      model_type: 'chat',
      chat_template: 'dspy-ts-local-v1',
      temperature: 0.7,
      max_tokens: 5,
      seed: 3,
    });
  });

  it('rejects images, aborts and over-long prompts with LMError kinds', async () => {
    const image = lm.generate({
      messages: [{ role: 'user', content: [{ type: 'image', url: 'data:image/png;base64,' }] }],
    });
    await expect(image).rejects.toMatchObject({ kind: 'invalid_request' });
    const controller = new AbortController();
    controller.abort();
    const aborted = lm.generate({ messages, signal: controller.signal });
    await expect(aborted).rejects.toSatisfy((e: unknown) => LMError.isInstance(e) && e.kind === 'aborted');
    const long = lm.generate({ messages: [{ role: 'user', content: 'a b '.repeat(400) }] });
    await expect(long).rejects.toMatchObject({ kind: 'context_window_exceeded' });
  });
});
