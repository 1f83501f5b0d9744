import type {
  LanguageModelV4CallOptions,
  LanguageModelV4Content,
  LanguageModelV4GenerateResult,
  LanguageModelV4StreamPart,
} from '@ai-sdk/provider';
import type { LMStreamPart } from '@dspy-ts/core';
import { convertArrayToReadableStream, MockLanguageModelV3, MockLanguageModelV4 } from 'ai/test';
import { describe, expect, it, vi } from 'vitest';
import { fromAISDK } from './from-ai-sdk.ts';
import { LMCache } from './lm-cache.ts';

function result(
  content: LanguageModelV4Content[],
  options: {
    finish?: 'stop' | 'tool-calls' | 'length';
    cached?: number;
    reasoningTokens?: number;
    modelId?: string;
  } = {},
): LanguageModelV4GenerateResult {
  return {
    content,
    finishReason: { unified: options.finish ?? 'stop', raw: options.finish ?? 'stop' },
    usage: {
      inputTokens: {
        total: 100,
        noCache: 100 - (options.cached ?? 0),
        cacheRead: options.cached,
        cacheWrite: undefined,
      },
      outputTokens: { total: 20, text: 20 - (options.reasoningTokens ?? 0), reasoning: options.reasoningTokens },
    },
    warnings: [],
    ...(options.modelId ? { response: { modelId: options.modelId } } : {}),
  };
}

const text = (value: string): LanguageModelV4Content => ({ type: 'text', text: value });

function mock(reply: (options: LanguageModelV4CallOptions, index: number) => LanguageModelV4GenerateResult) {
  let index = 0;
  return new MockLanguageModelV4({
    provider: 'mockprov.chat',
    modelId: 'mock-1',
    // The model takes image URLs itself, so the SDK passes them through instead of downloading them.
    supportedUrls: { 'image/*': [/^https:\/\//] },
    doGenerate: async (options) => reply(options, index++),
  });
}

const memoryCache = () => new LMCache({ memory: true });

describe('fromAISDK', () => {
  it('converts messages with images, assistant tool calls and tool results', async () => {
    const model = mock(() => result([text('done')]));
    const lm = fromAISDK(model, { cache: false });
    await lm.generate({
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image', url: 'https://example.com/cat.png', mediaType: 'image/png' },
          ],
        },
        { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'lookup', args: { q: 'cat' } }] },
        { role: 'tool', toolCallId: 'c1', toolName: 'lookup', content: 'a cat' },
      ],
    });
    const prompt = model.doGenerateCalls[0]?.prompt ?? [];
    expect(prompt.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool']);
    expect(prompt[0]).toMatchObject({ content: 'Be brief.' });
    const userParts = prompt[1]?.content as { type: string; mediaType?: string; data?: unknown }[];
    expect(userParts[0]).toMatchObject({ type: 'text', text: 'What is this?' });
    expect(userParts[1]).toMatchObject({ type: 'file', mediaType: 'image/png' });
    expect(JSON.stringify(userParts[1]?.data)).toContain('https://example.com/cat.png');
    expect(prompt[2]?.content).toEqual([
      expect.objectContaining({ type: 'tool-call', toolCallId: 'c1', toolName: 'lookup', input: { q: 'cat' } }),
    ]);
    expect(prompt[3]?.content).toEqual([
      expect.objectContaining({ type: 'tool-result', toolCallId: 'c1', output: { type: 'text', value: 'a cat' } }),
    ]);
  });

  it('passes sampling settings, strips the rollout id and dspy options, and disables SDK retries', async () => {
    const model = mock(() => result([text('ok')]));
    const lm = fromAISDK(model, { cache: false, temperature: 0.3 });
    await lm.generate({
      messages: [{ role: 'user', content: 'hi' }],
      maxTokens: 50,
      topP: 0.9,
      stop: ['END'],
      seed: 7,
      rolloutId: 4,
      providerOptions: { dspy: { cache: false }, mockprov: { foo: 'bar' } },
    });
    const call = model.doGenerateCalls[0] as LanguageModelV4CallOptions;
    expect(call).toMatchObject({ temperature: 0.3, maxOutputTokens: 50, topP: 0.9, stopSequences: ['END'], seed: 7 });
    expect(call.providerOptions).toEqual({ mockprov: { foo: 'bar' } });
    expect(JSON.stringify(call)).not.toContain('rollout');
  });

  it('requests structured output for json_schema and returns the raw JSON text', async () => {
    const model = mock(() => result([text('{"answer": "Paris"}')]));
    const lm = fromAISDK(model, { cache: false });
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
    const response = await lm.generate({
      messages: [{ role: 'user', content: 'Capital of France?' }],
      responseFormat: { type: 'json_schema', name: 'Out', schema },
    });
    expect(model.doGenerateCalls[0]?.responseFormat).toMatchObject({ type: 'json', name: 'Out', schema });
    expect(response.choices[0]?.text).toBe('{"answer": "Paris"}');
  });

  it('sends tools and tool choice and returns tool calls, reasoning, finish reason and usage with cost', async () => {
    const model = mock(() =>
      result(
        [
          { type: 'reasoning', text: 'Need the weather tool.' },
          { type: 'tool-call', toolCallId: 't1', toolName: 'weather', input: '{"city":"Paris"}' },
        ],
        { finish: 'tool-calls', cached: 40, reasoningTokens: 8, modelId: 'mock-1-2025' },
      ),
    );
    const lm = fromAISDK(model, {
      cache: false,
      pricing: { 'mock-1': { inputPerMTok: 1, outputPerMTok: 4, cachedInputPerMTok: 0.5 } },
    });
    const response = await lm.generate({
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [
        {
          name: 'weather',
          description: 'Weather by city',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
        },
      ],
      toolChoice: { type: 'tool', name: 'weather' },
    });
    const call = model.doGenerateCalls[0] as LanguageModelV4CallOptions;
    expect(call.tools?.[0]).toMatchObject({ type: 'function', name: 'weather', description: 'Weather by city' });
    expect(call.toolChoice).toEqual({ type: 'tool', toolName: 'weather' });
    expect(response.choices[0]).toEqual({
      text: '',
      reasoning: 'Need the weather tool.',
      toolCalls: [{ id: 't1', name: 'weather', args: { city: 'Paris' } }],
      finishReason: 'tool-calls',
    });
    expect(response.modelId).toBe('mock-1-2025');
    expect(response.usage).toEqual({
      inputTokens: 100,
      outputTokens: 20,
      cachedInputTokens: 40,
      reasoningTokens: 8,
      costUsd: (60 * 1 + 40 * 0.5 + 20 * 4) / 1e6,
    });
  });

  it('accepts V3 models', async () => {
    const model = new MockLanguageModelV3({
      provider: 'old.chat',
      modelId: 'v3-model',
      doGenerate: async () => result([text('from v3')]) as never,
    });
    const lm = fromAISDK(model, { cache: false });
    expect(lm.modelId).toBe('old/v3-model');
    expect((await lm.generate({ messages: [{ role: 'user', content: 'x' }] })).choices[0]?.text).toBe('from v3');
  });

  it('samples n > 1 in parallel with distinct seeds and rollout ids, each cached on its own', async () => {
    const model = mock((options, index) => result([text(`sample ${index} seed ${options.seed}`)]));
    const cache = memoryCache();
    const lm = fromAISDK(model, { cache });
    const request = { messages: [{ role: 'user' as const, content: 'q' }], n: 3, seed: 10, temperature: 1 };
    const first = await lm.generate(request);
    expect(first.choices).toHaveLength(3);
    expect(model.doGenerateCalls.map((c) => c.seed).sort()).toEqual([10, 11, 12]);
    expect(new Set(first.choices.map((c) => c.text)).size).toBe(3);
    expect(first.usage.inputTokens).toBe(300);
    expect(cache.stats().memoryEntries).toBe(3);

    const again = await lm.generate(request);
    expect(model.doGenerateCalls).toHaveLength(3);
    expect(again).toMatchObject({ cacheHit: true, usage: {} });
    expect(again.choices).toEqual(first.choices);

    // Sample 0 of n = 3 is the same entry as the n = 1 request.
    const single = await lm.generate({ ...request, n: 1 });
    expect(single.cacheHit).toBe(true);
    expect(single.choices[0]).toEqual(first.choices[0]);
  });

  it('honours per-LM and per-call cache switches and computes no key when both levels are off', async () => {
    const model = mock(() => result([text('x')]));
    const messages = [{ role: 'user' as const, content: 'same' }];
    const cached = fromAISDK(model, { cache: memoryCache() });
    await cached.generate({ messages });
    await cached.generate({ messages, providerOptions: { dspy: { cache: false } } });
    expect(model.doGenerateCalls).toHaveLength(2);
    expect((await cached.generate({ messages })).cacheHit).toBe(true);

    await fromAISDK(model, { cache: false }).generate({ messages });
    expect(model.doGenerateCalls).toHaveLength(3);

    const off = new LMCache({ memory: false, disk: false });
    const keyFor = vi.spyOn(off, 'keyFor');
    await fromAISDK(model, { cache: off }).generate({ messages });
    expect(keyFor).not.toHaveBeenCalled();
    expect(model.doGenerateCalls).toHaveLength(4);
  });

  it('shares cache and limiter with withDefaults copies and dumps state without secrets', async () => {
    const model = mock(() => result([text('x')]));
    const lm = fromAISDK(model, {
      cache: memoryCache(),
      temperature: 0,
      maxTokens: 100,
      rateLimit: { maxConcurrency: 2 },
      providerOptions: { mockprov: { apiKey: 'sk-should-not-leak', reasoningEffort: 'low' } },
    });
    const copy = lm.withDefaults({ rolloutId: 1, temperature: 1, maxTokens: undefined });
    expect(copy.defaults).toMatchObject({ rolloutId: 1, temperature: 1 });
    expect(copy.defaults).not.toHaveProperty('maxTokens');
    expect(copy.limiter).toBe(lm.limiter);
    expect(copy.cache).toBe(lm.cache);
    const state = lm.dumpState();
    expect(state).toMatchObject({
      model: 'mockprov/mock-1',
      temperature: 0,
      max_tokens: 100,
      cache: true,
      num_retries: 3,
    });
    expect(JSON.stringify(state)).not.toContain('sk-should-not-leak');
  });

  it('streams text and reasoning deltas in order and finishes with the full response', async () => {
    const parts: LanguageModelV4StreamPart[] = [
      { type: 'stream-start', warnings: [] },
      { type: 'reasoning-start', id: 'r' },
      { type: 'reasoning-delta', id: 'r', delta: 'think' },
      { type: 'reasoning-end', id: 'r' },
      { type: 'text-start', id: 't' },
      { type: 'text-delta', id: 't', delta: 'Hel' },
      { type: 'text-delta', id: 't', delta: 'lo' },
      { type: 'text-end', id: 't' },
      {
        type: 'finish',
        finishReason: { unified: 'stop', raw: 'stop' },
        usage: {
          inputTokens: { total: 5, noCache: 5, cacheRead: undefined, cacheWrite: undefined },
          outputTokens: { total: 2, text: 2, reasoning: undefined },
        },
      },
    ];
    const model = new MockLanguageModelV4({ doStream: async () => ({ stream: convertArrayToReadableStream(parts) }) });
    const cache = memoryCache();
    const lm = fromAISDK(model, { cache });
    const seen: LMStreamPart[] = [];
    for await (const part of lm.stream({ messages: [{ role: 'user', content: 'hi' }] })) seen.push(part);
    expect(seen.slice(0, 3)).toEqual([
      { type: 'reasoning-delta', choiceIndex: 0, delta: 'think' },
      { type: 'text-delta', choiceIndex: 0, delta: 'Hel' },
      { type: 'text-delta', choiceIndex: 0, delta: 'lo' },
    ]);
    const finish = seen.at(-1);
    expect(finish).toMatchObject({
      type: 'finish',
      response: {
        choices: [{ text: 'Hello', reasoning: 'think', finishReason: 'stop' }],
        usage: { inputTokens: 5, outputTokens: 2 },
      },
    });
    // The streamed response is cached: a repeat yields only `finish`, marked as a hit.
    const repeat: LMStreamPart[] = [];
    for await (const part of lm.stream({ messages: [{ role: 'user', content: 'hi' }] })) repeat.push(part);
    expect(repeat).toEqual([{ type: 'finish', response: expect.objectContaining({ cacheHit: true, usage: {} }) }]);
  });
});
