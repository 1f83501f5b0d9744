import type {
  LanguageModelV4CallOptions,
  LanguageModelV4Content,
  LanguageModelV4GenerateResult,
  LanguageModelV4StreamPart,
} from '@ai-sdk/provider';
import { LMError, type LMStreamPart } from '@dspy-ts/core';
import { APICallError } from 'ai';
import { convertArrayToReadableStream, MockLanguageModelV3, MockLanguageModelV4 } from 'ai/test';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IMAGES_ORIGIN, type ImageServer, PNG_BYTES, startImageServer } from '../test/image-server.ts';
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

function mock(
  reply: (
    options: LanguageModelV4CallOptions,
    index: number,
  ) => LanguageModelV4GenerateResult | Promise<LanguageModelV4GenerateResult>,
) {
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

async function failure(promise: Promise<unknown>): Promise<LMError> {
  try {
    await promise;
  } catch (error) {
    if (LMError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail, it succeeded');
}

const finishStop = { unified: 'stop', raw: 'stop' } as const;
const streamUsage = {
  inputTokens: { total: 5, noCache: 5, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 2, text: 2, reasoning: undefined },
};

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
    const userParts = (prompt[1]?.content ?? []) as { type: string; mediaType?: string; data?: unknown }[];
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

  it('passes sampling settings and an abort signal, and strips the rollout id and dspy options', async () => {
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
    expect(call.abortSignal).toBeInstanceOf(AbortSignal);
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

  it('reads JSON delivered out of band when a response format was requested, but not beside tool calls', async () => {
    const structured = { ...result([text('Let me think. {"draft": 1}')]), structuredOutputText: '{"answer": 42}' };
    const model = mock(() => structured);
    const lm = fromAISDK(model, { cache: false });
    const messages = [{ role: 'user' as const, content: 'q' }];
    const json = await lm.generate({ messages, responseFormat: { type: 'json' } });
    expect(json.choices[0]?.text).toBe('{"answer": 42}');
    expect(model.doGenerateCalls[0]?.responseFormat).toEqual({ type: 'json' });
    // Without a JSON response format the text parts are the answer.
    expect((await lm.generate({ messages })).choices[0]?.text).toBe('Let me think. {"draft": 1}');
    expect(model.doGenerateCalls[1]?.responseFormat).toBeUndefined();

    const toolStop = mock(() => ({
      ...result([text('calling'), { type: 'tool-call', toolCallId: 't', toolName: 'f', input: '{}' }], {
        finish: 'tool-calls',
      }),
      structuredOutputText: '{"answer": 42}',
    }));
    const withTools = await fromAISDK(toolStop, { cache: false }).generate({
      messages,
      responseFormat: { type: 'json' },
      tools: [{ name: 'f', parameters: { type: 'object' } }],
    });
    expect(withTools.choices[0]?.text).toBe('calling');
  });

  it('parses tool-call arguments: empty input is {}, input that is not JSON object text comes back as { value }', async () => {
    const model = mock(() =>
      result(
        [
          { type: 'tool-call', toolCallId: 'a', toolName: 'f', input: '' },
          { type: 'tool-call', toolCallId: 'b', toolName: 'f', input: '{"x": ' },
          { type: 'tool-call', toolCallId: 'c', toolName: 'f', input: '[1, 2]' },
        ],
        { finish: 'tool-calls' },
      ),
    );
    const response = await fromAISDK(model, { cache: false }).generate({
      messages: [{ role: 'user', content: 'go' }],
      tools: [{ name: 'f', parameters: { type: 'object' } }],
    });
    expect(response.choices[0]?.toolCalls).toEqual([
      { id: 'a', name: 'f', args: {} },
      { id: 'b', name: 'f', args: { value: '{"x": ' } },
      { id: 'c', name: 'f', args: { value: [1, 2] } },
    ]);
  });

  it('sends tool choice auto with tools, none without, and each explicit choice as the spec names it', async () => {
    const call = { type: 'tool-call', toolCallId: 't', toolName: 'f', input: '{}' } as const;
    const model = mock((options) =>
      options.toolChoice?.type === 'required' ? result([call], { finish: 'tool-calls' }) : result([text('x')]),
    );
    const lm = fromAISDK(model, { cache: false });
    const messages = [{ role: 'user' as const, content: 'q' }];
    const tools = [{ name: 'f', parameters: { type: 'object', properties: {} } }];
    await lm.generate({ messages });
    await lm.generate({ messages, tools });
    await lm.generate({ messages, tools, toolChoice: 'none' });
    await lm.generate({ messages, tools, toolChoice: 'required' });
    const calls = model.doGenerateCalls;
    expect(calls[0]).not.toHaveProperty('tools');
    expect(calls[0]).not.toHaveProperty('toolChoice');
    expect(calls[1]?.tools).toEqual([{ type: 'function', name: 'f', inputSchema: tools[0]?.parameters }]);
    expect(calls.slice(1).map((call) => call.toolChoice)).toEqual([
      { type: 'auto' },
      { type: 'none' },
      { type: 'required' },
    ]);
  });

  it('fails a response that ignored the tool choice, naming what was expected and found, without retrying', async () => {
    const toolCall = (name: string) => ({ type: 'tool-call', toolCallId: name, toolName: name, input: '{}' }) as const;
    const messages = [{ role: 'user' as const, content: 'q' }];
    const tools = [
      { name: 'f', parameters: { type: 'object' } },
      { name: 'g', parameters: { type: 'object' } },
    ];
    const textOnly = mock(() => result([text('no tools for you')]));
    const required = await failure(
      fromAISDK(textOnly, { cache: false }).generate({ messages, tools, toolChoice: 'required' }),
    );
    expect(required).toMatchObject({ kind: 'unknown', isRetryable: false });
    expect(required.message).toBe(
      'mockprov/mock-1 did not follow the tool choice: expected a tool call, got no tool call (finish reason stop).',
    );
    expect(textOnly.doGenerateCalls).toHaveLength(1);

    const callsG = mock(() => result([toolCall('g')], { finish: 'tool-calls' }));
    const named = await failure(
      fromAISDK(callsG, { cache: false }).generate({ messages, tools, toolChoice: { type: 'tool', name: 'f' } }),
    );
    expect(named.message).toContain('expected a call to the tool "f", got calls to "g"');
    const none = await failure(fromAISDK(callsG, { cache: false }).generate({ messages, tools, toolChoice: 'none' }));
    expect(none.message).toContain('expected no tool calls, got calls to "g"');
    // `auto` and a matching call pass.
    await fromAISDK(callsG, { cache: false }).generate({ messages, tools, toolChoice: { type: 'tool', name: 'g' } });
    await fromAISDK(textOnly, { cache: false }).generate({ messages, tools, toolChoice: 'auto' });
  });

  it('rejects invalid maxTokens and seed before calling the model, naming expected and found values', async () => {
    const model = mock(() => result([text('x')]));
    const lm = fromAISDK(model, { cache: false });
    const messages = [{ role: 'user' as const, content: 'q' }];
    const tokens = await failure(lm.generate({ messages, maxTokens: 0 }));
    expect(tokens).toMatchObject({ kind: 'invalid_request', isRetryable: false });
    expect(tokens.message).toBe('`maxTokens` must be an integer >= 1, got 0.');
    expect((await failure(lm.generate({ messages, seed: 1.5 }))).message).toBe('`seed` must be an integer, got 1.5.');
    expect(model.doGenerateCalls).toHaveLength(0);
  });

  it('reports call warnings through the AI SDK warning logger', async () => {
    const warning = { type: 'unsupported', feature: 'topP', details: 'ignored by this model' } as const;
    const model = mock(() => ({ ...result([text('x')]), warnings: [warning] }));
    const logged: unknown[] = [];
    const global = globalThis as { AI_SDK_LOG_WARNINGS?: unknown };
    const previous = global.AI_SDK_LOG_WARNINGS;
    global.AI_SDK_LOG_WARNINGS = (options: unknown) => logged.push(options);
    try {
      await fromAISDK(model, { cache: false }).generate({ messages: [{ role: 'user', content: 'q' }], topP: 0.5 });
    } finally {
      global.AI_SDK_LOG_WARNINGS = previous;
    }
    expect(logged).toEqual([{ warnings: [warning], provider: 'mockprov.chat', model: 'mock-1' }]);
  });

  it('retries provider failures itself (one retry layer) and keeps the provider error as the cause', async () => {
    const serverError = () =>
      new APICallError({
        message: 'overloaded',
        url: 'http://127.0.0.1/v1/chat/completions',
        requestBodyValues: {},
        statusCode: 503,
        isRetryable: true,
      });
    let calls = 0;
    const model = mock(() => {
      calls++;
      if (calls <= 2) throw serverError();
      return result([text('finally')]);
    });
    const lm = fromAISDK(model, { cache: false, retry: { initialDelayMs: 1, maxDelayMs: 2 } });
    expect((await lm.generate({ messages: [{ role: 'user', content: 'q' }] })).choices[0]?.text).toBe('finally');
    expect(model.doGenerateCalls).toHaveLength(3);

    const failing = mock(() => {
      throw serverError();
    });
    const error = await failure(
      fromAISDK(failing, { cache: false, numRetries: 2, retry: { initialDelayMs: 1, maxDelayMs: 2 } }).generate({
        messages: [{ role: 'user', content: 'q' }],
      }),
    );
    expect(error).toMatchObject({ kind: 'server', status: 503 });
    expect(APICallError.isInstance(error.cause)).toBe(true);
    expect(failing.doGenerateCalls).toHaveLength(3);
  });

  it('serves n > 1 with parallel calls, never sending n, each with the provider options', async () => {
    let active = 0;
    let peak = 0;
    let releaseAll: () => void = () => {};
    const allStarted = new Promise<void>((resolve) => {
      releaseAll = resolve;
    });
    const model = mock(async (options) => {
      active++;
      peak = Math.max(peak, active);
      if (active === 3) releaseAll();
      // Each call waits until all three are in flight: sequential calls would never get there.
      await Promise.race([allStarted, new Promise((resolve) => setTimeout(resolve, 2000))]);
      active--;
      return result([text(`seed ${options.seed}`)]);
    });
    const response = await fromAISDK(model, { cache: false }).generate({
      messages: [{ role: 'user', content: 'q' }],
      n: 3,
      seed: 5,
      providerOptions: { mockprov: { logprobs: true } },
    });
    expect(peak).toBe(3);
    expect(response.choices.map((choice) => choice.text).sort()).toEqual(['seed 5', 'seed 6', 'seed 7']);
    for (const call of model.doGenerateCalls) {
      expect(call).not.toHaveProperty('n');
      expect(call.providerOptions).toEqual({ mockprov: { logprobs: true } });
    }
  });

  it('streams tool calls, takes the model id from response metadata and throws a stream error part', async () => {
    const parts: LanguageModelV4StreamPart[] = [
      { type: 'stream-start', warnings: [] },
      { type: 'response-metadata', modelId: 'mock-1-0601' },
      { type: 'tool-call', toolCallId: 'c1', toolName: 'search', input: '{"q":"dspy"}' },
      { type: 'finish', finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage: streamUsage },
    ];
    const model = new MockLanguageModelV4({ doStream: async () => ({ stream: convertArrayToReadableStream(parts) }) });
    const seen: LMStreamPart[] = [];
    for await (const part of fromAISDK(model, { cache: false }).stream({
      messages: [{ role: 'user', content: 'q' }],
    })) {
      seen.push(part);
    }
    const call = { id: 'c1', name: 'search', args: { q: 'dspy' } };
    expect(seen[0]).toEqual({ type: 'tool-call', choiceIndex: 0, toolCall: call });
    expect(seen[1]).toMatchObject({
      type: 'finish',
      response: { modelId: 'mock-1-0601', choices: [{ text: '', toolCalls: [call], finishReason: 'tool-calls' }] },
    });

    const broken = new MockLanguageModelV4({
      doStream: async () => ({
        stream: convertArrayToReadableStream<LanguageModelV4StreamPart>([
          { type: 'text-delta', id: 't', delta: 'par' },
          { type: 'error', error: new Error('upstream went away') },
        ]),
      }),
    });
    const received: LMStreamPart[] = [];
    const error = await failure(
      (async () => {
        for await (const part of fromAISDK(broken, { cache: false }).stream({
          messages: [{ role: 'user', content: 'q' }],
        })) {
          received.push(part);
        }
      })(),
    );
    expect(received).toEqual([{ type: 'text-delta', choiceIndex: 0, delta: 'par' }]);
    expect(error.message).toContain('upstream went away');
    expect(broken.doStreamCalls).toHaveLength(1);
  });
});

describe('V3 models', () => {
  it('get V3 prompts (URL data, tool results) and their V3 results are read like V4 ones', async () => {
    const model = new MockLanguageModelV3({
      provider: 'old.chat',
      modelId: 'v3-model',
      supportedUrls: { 'image/*': [/^https:\/\//] },
      doGenerate: async () => ({
        content: [
          { type: 'reasoning', text: 'hmm' },
          { type: 'text', text: 'from v3' },
          { type: 'tool-call', toolCallId: 'k', toolName: 'f', input: '{"a":1}' },
        ],
        finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
        usage: {
          inputTokens: { total: 12, noCache: 10, cacheRead: 2, cacheWrite: undefined },
          outputTokens: { total: 4, text: 3, reasoning: 1 },
        },
        warnings: [],
      }),
    });
    const lm = fromAISDK(model, { cache: false });
    expect(lm.modelId).toBe('old/v3-model');
    const response = await lm.generate({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'see' },
            { type: 'image', url: 'https://example.com/cat.png', mediaType: 'image/png' },
            { type: 'image', url: 'data:image/png;base64,iVBORw0KGgo=' },
          ],
        },
        { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'f', args: { a: 0 } }] },
        { role: 'tool', toolCallId: 'c1', toolName: 'f', content: 'zero' },
      ],
      tools: [{ name: 'f', parameters: { type: 'object' } }],
    });
    const prompt = model.doGenerateCalls[0]?.prompt ?? [];
    const [, image, inline] = (prompt[0]?.content ?? []) as { type: string; data: unknown; mediaType: string }[];
    // V3 file parts carry the URL or the data itself, not V4's tagged union.
    expect(image?.data).toBeInstanceOf(URL);
    expect(String(image?.data)).toBe('https://example.com/cat.png');
    expect(inline).toMatchObject({ data: 'iVBORw0KGgo=', mediaType: 'image/png' });
    expect(prompt[2]?.content).toEqual([
      expect.objectContaining({ type: 'tool-result', toolCallId: 'c1', output: { type: 'text', value: 'zero' } }),
    ]);
    expect(model.doGenerateCalls[0]?.tools?.[0]).toMatchObject({ type: 'function', name: 'f' });
    expect(response.choices[0]).toEqual({
      text: 'from v3',
      reasoning: 'hmm',
      toolCalls: [{ id: 'k', name: 'f', args: { a: 1 } }],
      finishReason: 'tool-calls',
    });
    expect(response.usage).toMatchObject({
      inputTokens: 12,
      outputTokens: 4,
      cachedInputTokens: 2,
      reasoningTokens: 1,
    });
    expect(response.modelId).toBe('v3-model');
  });

  it('stream through the same adapter', async () => {
    const model = new MockLanguageModelV3({
      supportedUrls: { 'image/*': [/^https:\/\//] },
      doStream: async () => ({
        stream: convertArrayToReadableStream([
          { type: 'text-delta', id: 't', delta: 'v3 ' },
          { type: 'text-delta', id: 't', delta: 'stream' },
          { type: 'finish', finishReason: finishStop, usage: streamUsage },
        ]),
      }),
    });
    const parts: LMStreamPart[] = [];
    const image = { type: 'image' as const, url: 'https://example.com/cat.png', mediaType: 'image/png' };
    for await (const part of fromAISDK(model, { cache: false }).stream({
      messages: [{ role: 'user', content: [{ type: 'text', text: 'q' }, image] }],
    })) {
      parts.push(part);
    }
    expect(parts.map((part) => part.type)).toEqual(['text-delta', 'text-delta', 'finish']);
    expect(parts.at(-1)).toMatchObject({ response: { choices: [{ text: 'v3 stream', finishReason: 'stop' }] } });
    expect(model.doStreamCalls[0]?.prompt).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'q' },
          { type: 'file', mediaType: 'image/png', data: new URL(image.url) },
        ],
      },
    ]);
  });
});

describe('image URLs the model does not accept', () => {
  let images: ImageServer;
  beforeEach(async () => {
    images = await startImageServer();
    vi.stubGlobal('fetch', images.fetch);
  });
  afterEach(async () => {
    vi.unstubAllGlobals();
    await images.close();
  });

  it('are downloaded with fetch and sent as bytes; accepted ones stay URLs', async () => {
    const plain = new MockLanguageModelV4({ doGenerate: async () => result([text('ok')]) });
    const messages = [
      {
        role: 'user' as const,
        content: [
          { type: 'text' as const, text: 'What is this?' },
          { type: 'image' as const, url: `${IMAGES_ORIGIN}/cat.png` },
        ],
      },
    ];
    await fromAISDK(plain, { cache: false }).generate({ messages });
    expect(images.requests).toEqual(['/cat.png']);
    const file = plain.doGenerateCalls[0]?.prompt[0]?.content[1];
    expect(file).toEqual({ type: 'file', mediaType: 'image/png', data: { type: 'data', data: PNG_BYTES } });

    const fetchesUrls = new MockLanguageModelV4({
      supportedUrls: { 'image/*': [/^http:\/\/images\.test\//] },
      doGenerate: async () => result([text('ok')]),
    });
    await fromAISDK(fetchesUrls, { cache: false }).generate({ messages });
    expect(images.requests).toHaveLength(1);
    expect(fetchesUrls.doGenerateCalls[0]?.prompt[0]?.content[1]).toMatchObject({ data: { type: 'url' } });
  });

  it('fail with an error naming the URL, without calling the model or retrying a 404', async () => {
    const model = new MockLanguageModelV4({ modelId: 'vision', doGenerate: async () => result([text('ok')]) });
    const error = await failure(
      fromAISDK(model, { cache: false }).generate({
        messages: [{ role: 'user', content: [{ type: 'image', url: `${IMAGES_ORIGIN}/gone.png` }] }],
      }),
    );
    expect(error).toMatchObject({ kind: 'invalid_request', isRetryable: false });
    expect(error.message).toContain(`${IMAGES_ORIGIN}/gone.png`);
    expect(error.message).toContain('got 404');
    expect(images.requests).toEqual(['/gone.png']);
    expect(model.doGenerateCalls).toHaveLength(0);
  });

  it('are not fetched from loopback or private addresses', async () => {
    const model = new MockLanguageModelV4({ doGenerate: async () => result([text('ok')]) });
    const error = await failure(
      fromAISDK(model, { cache: false }).generate({
        messages: [{ role: 'user', content: [{ type: 'image', url: `${images.origin}/cat.png` }] }],
      }),
    );
    expect(error).toMatchObject({ kind: 'invalid_request' });
    expect(error.message).toContain('is not allowed');
    expect(images.requests).toEqual([]);
    expect(model.doGenerateCalls).toHaveLength(0);
  });
});
