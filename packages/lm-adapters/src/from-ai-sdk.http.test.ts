import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LMError, type LMStreamPart } from '@dspy-ts/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localLM, TEST_API_KEY } from '../test/local-lm.ts';
import { type OpenAIServer, startOpenAIServer } from '../test/openai-server.ts';
import { sampleRolloutId } from './from-ai-sdk.ts';
import { LMCache } from './lm-cache.ts';

let server: OpenAIServer;
let dir: string;
const messages = [{ role: 'user' as const, content: 'What is 2+2?' }];

beforeEach(async () => {
  server = await startOpenAIServer();
  dir = mkdtempSync(join(tmpdir(), 'lm-http-'));
});
afterEach(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<LMError> {
  try {
    await promise;
  } catch (error) {
    if (LMError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('retries over HTTP', () => {
  it('retries a 429 after the Retry-After the server asked for, then succeeds', async () => {
    server.enqueue(
      { type: 'status', status: 429, retryAfter: '0.05' },
      { type: 'status', status: 429, retryAfter: '0.05' },
    );
    const delays: number[] = [];
    const lm = localLM(server, { onRetry: (_error, _attempt, delay) => delays.push(delay) });
    const response = await lm.generate({ messages });
    expect(response.choices[0]?.text).toBe('echo: What is 2+2?');
    expect(server.requests).toHaveLength(3);
    expect(delays).toEqual([50, 50]);
  });

  it('stops after numRetries + 1 attempts on persistent 5xx and reports a server error', async () => {
    server.enqueue(...Array.from({ length: 10 }, () => ({ type: 'status' as const, status: 500 })));
    const error = await failure(localLM(server).generate({ messages }));
    expect(error).toMatchObject({ kind: 'server', status: 500, isRetryable: true });
    expect(server.requests).toHaveLength(4);
  });

  it.each([
    [400, 'invalid_request'],
    [401, 'auth'],
  ] as const)('does not retry HTTP %i (%s) and keeps the key and prompt out of the message', async (status, kind) => {
    server.enqueue({ type: 'status', status, message: `rejected key ${TEST_API_KEY}` });
    const error = await failure(localLM(server).generate({ messages }));
    expect(error).toMatchObject({ kind, status, isRetryable: false });
    expect(server.requests).toHaveLength(1);
    expect(error.message).not.toContain(TEST_API_KEY);
    expect(error.message).not.toContain('What is 2+2?');
    expect(error.cause).toBeDefined();
  });

  it('maps a context-length 400 to context_window_exceeded', async () => {
    server.enqueue({ type: 'status', status: 400, message: "This model's maximum context length is 8192 tokens." });
    expect((await failure(localLM(server).generate({ messages }))).kind).toBe('context_window_exceeded');
  });

  it('retries malformed JSON and connection resets', async () => {
    server.enqueue({ type: 'malformed-json' }, { type: 'reset' });
    const response = await localLM(server).generate({ messages });
    expect(response.choices[0]?.text).toBe('echo: What is 2+2?');
    expect(server.requests).toHaveLength(3);
  });

  it('times out slow attempts, closing their connections, and retries them', async () => {
    server.enqueue({ type: 'delay', ms: 3000 }, { type: 'delay', ms: 3000 });
    const error = await failure(localLM(server, { timeoutMs: 100, numRetries: 1 }).generate({ messages }));
    expect(error).toMatchObject({ kind: 'timeout', isRetryable: true });
    expect(server.requests).toHaveLength(2);
    await server.waitForAborted(2);
  });
});

describe('abort', () => {
  it('cancels the HTTP request: the server sees the socket close', async () => {
    server.setLatency(3000);
    const controller = new AbortController();
    const pending = localLM(server).generate({ messages, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const error = await failure(pending);
    expect(error).toMatchObject({ kind: 'aborted', isRetryable: false });
    await server.waitForAborted(1);
    expect(server.requests).toHaveLength(1);
  });
});

describe('cache over HTTP', () => {
  it('serves a repeated request without an HTTP request, from memory and from disk', async () => {
    const path = join(dir, 'cache.sqlite');
    const cache = new LMCache({ disk: path });
    const lm = localLM(server, { cache });
    const first = await lm.generate({ messages, temperature: 0 });
    const second = await lm.generate({ messages, temperature: 0 });
    expect(server.requests).toHaveLength(1);
    expect(first.cacheHit).toBeUndefined();
    expect(second).toMatchObject({ cacheHit: true, usage: {}, choices: first.choices });

    // A fresh cache on the same file (a new process, in effect) hits the disk level.
    cache.close();
    const reopened = new LMCache({ disk: path });
    const third = await localLM(server, { cache: reopened }).generate({ messages, temperature: 0 });
    reopened.close();
    expect(third.cacheHit).toBe(true);
    expect(server.requests).toHaveLength(1);

    // A different rollout id is a different entry.
    await lm.generate({ messages, temperature: 0, rolloutId: 1 });
    expect(server.requests).toHaveLength(2);
  });
});

describe('rate limits over HTTP', () => {
  it('holds requests per window across concurrent callers and withDefaults copies', async () => {
    const windowMs = 300;
    const lm = localLM(server, { rateLimit: { requestsPerMinute: 3, windowMs } });
    const copy = lm.withDefaults({ temperature: 1 });
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        (i % 2 ? copy : lm).generate({ messages: [{ role: 'user', content: `q${i}` }] }),
      ),
    );
    expect(server.requests).toHaveLength(7);
    // Seven requests at three per window span three windows.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2 * windowMs - 10);
  });
});

describe('streaming over HTTP', () => {
  it('delivers text chunks in order and finishes with usage', async () => {
    const lm = localLM(server);
    const parts: LMStreamPart[] = [];
    for await (const part of lm.stream({ messages: [{ role: 'user', content: 'stream these words please' }] })) {
      parts.push(part);
    }
    const deltas = parts.filter((p) => p.type === 'text-delta').map((p) => (p as { delta: string }).delta);
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join('')).toBe('echo: stream these words please');
    const finish = parts.at(-1);
    expect(finish?.type).toBe('finish');
    expect(finish).toMatchObject({
      response: {
        choices: [{ text: 'echo: stream these words please', finishReason: 'stop' }],
        usage: { inputTokens: 10, outputTokens: 5 },
      },
    });
  });

  it('retries a stream that breaks before its first part, but not one that already delivered text', async () => {
    server.enqueue({ type: 'truncate-stream', afterChunks: 1 });
    const lm = localLM(server);
    let text = '';
    for await (const part of lm.stream({ messages })) if (part.type === 'text-delta') text += part.delta;
    expect(text).toBe('echo: What is 2+2?');
    expect(server.requests).toHaveLength(2);

    server.enqueue({ type: 'truncate-stream', afterChunks: 3 });
    const received: string[] = [];
    const error = await failure(
      (async () => {
        for await (const part of lm.stream({ messages })) if (part.type === 'text-delta') received.push(part.delta);
      })(),
    );
    expect(received.length).toBeGreaterThan(0);
    expect(error.kind).toBe('network');
    expect(server.requests).toHaveLength(3);
  });

  it('stops the HTTP request when the consumer stops reading', async () => {
    server.setReply(() => ({ text: 'x'.repeat(4000) }));
    const lm = localLM(server);
    for await (const part of lm.stream({ messages })) {
      if (part.type === 'text-delta') break;
    }
    await server.waitForAborted(1);
  });
});

describe('samples, usage and cost over HTTP', () => {
  it('n = 3 makes three requests with distinct seeds and rollout ids', async () => {
    server.setReply((body, index) => ({ text: `answer ${index} (seed ${body.seed})` }));
    const cache = new LMCache();
    const lm = localLM(server, { cache });
    const response = await lm.generate({ messages, n: 3, temperature: 1, seed: 1 });
    expect(response.choices).toHaveLength(3);
    expect(new Set(response.choices.map((c) => c.text)).size).toBe(3);
    expect(server.requests.map((r) => r.body.seed).sort()).toEqual([1, 2, 3]);
    expect(server.requests.every((r) => !('rolloutId' in r.body) && !('rollout_id' in r.body))).toBe(true);
    // Each sample is its own cache entry under its own rollout id.
    for (const index of [1, 2]) {
      const sample = await lm.generate({
        messages,
        temperature: 1,
        seed: 1 + index,
        rolloutId: sampleRolloutId(undefined, index),
      });
      expect(sample.cacheHit).toBe(true);
      expect(sample.choices[0]).toEqual(response.choices[index]);
    }
    expect(server.requests).toHaveLength(3);
  });

  it('reports input, output, cached and reasoning tokens and the cost', async () => {
    server.setReply(() => ({
      text: 'ok',
      reasoning: 'thinking…',
      usage: {
        prompt_tokens: 1000,
        completion_tokens: 200,
        prompt_tokens_details: { cached_tokens: 400 },
        completion_tokens_details: { reasoning_tokens: 50 },
      },
    }));
    const lm = localLM(server, {
      pricing: { 'test-model': { inputPerMTok: 1, outputPerMTok: 10, cachedInputPerMTok: 0.1 } },
    });
    const response = await lm.generate({ messages });
    expect(response.choices[0]).toMatchObject({ text: 'ok', reasoning: 'thinking…' });
    expect(response.usage).toEqual({
      inputTokens: 1000,
      outputTokens: 200,
      cachedInputTokens: 400,
      reasoningTokens: 50,
      costUsd: (600 * 1 + 400 * 0.1 + 200 * 10) / 1e6,
    });
    expect(response.modelId).toBe('test-model');
  });

  it('returns tool calls from the wire format', async () => {
    server.setReply(() => ({ toolCalls: [{ id: 'call_1', name: 'search', arguments: '{"query":"dspy"}' }] }));
    const response = await localLM(server).generate({
      messages,
      tools: [{ name: 'search', parameters: { type: 'object', properties: { query: { type: 'string' } } } }],
      toolChoice: 'required',
    });
    expect(server.requests[0]?.body.tool_choice).toBe('required');
    expect(response.choices[0]).toMatchObject({
      finishReason: 'tool-calls',
      toolCalls: [{ id: 'call_1', name: 'search', args: { query: 'dspy' } }],
    });
  });
});
