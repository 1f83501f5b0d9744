import { LMError } from '@dspy-ts/core';
import { MockEmbeddingModelV4 } from 'ai/test';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localProvider } from '../test/local-lm.ts';
import { type OpenAIServer, startOpenAIServer } from '../test/openai-server.ts';
import { embedder } from './embedder.ts';

let server: OpenAIServer;
beforeEach(async () => {
  server = await startOpenAIServer();
});
afterEach(async () => {
  await server.close();
});

describe('embedder', () => {
  it('embeds in batches over HTTP, keeping the input order', async () => {
    const embed = embedder(localProvider(server).embeddingModel('embed-model'), { batchSize: 2, maxParallelCalls: 2 });
    const texts = ['a', 'bb', 'ccc', 'dddd', 'eeeee'];
    const vectors = await embed.embed(texts);
    expect(server.requests.map((r) => (r.body.input as string[]).length)).toEqual([2, 2, 1]);
    // The server's vector is [text length, index in batch, 1].
    expect(vectors.map((v) => v[0])).toEqual([1, 2, 3, 4, 5]);
    expect(vectors[0]).toBeInstanceOf(Float32Array);
    expect(embed.dimensions).toBe(3);
  });

  it('runs at most maxParallelCalls batches at once', async () => {
    let active = 0;
    let peak = 0;
    const model = new MockEmbeddingModelV4({
      maxEmbeddingsPerCall: 100,
      doEmbed: async ({ values }) => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((resolve) => setTimeout(resolve, 10));
        active--;
        return { embeddings: values.map(() => [1, 2]), warnings: [] };
      },
    });
    await embedder(model, { batchSize: 1, maxParallelCalls: 3 }).embed(Array.from({ length: 9 }, (_, i) => `t${i}`));
    expect(peak).toBe(3);
  });

  it('retries a rate-limited batch and maps final failures to LMError', async () => {
    server.enqueue({ type: 'status', status: 429, retryAfter: '0' });
    const embed = embedder(localProvider(server).embeddingModel('embed-model'), { retry: { initialDelayMs: 1 } });
    expect(await embed.embed(['x'])).toHaveLength(1);
    expect(server.requests).toHaveLength(2);

    server.enqueue({ type: 'status', status: 401 });
    await expect(embed.embed(['y'])).rejects.toSatisfy((e: unknown) => LMError.isInstance(e) && e.kind === 'auth');
  });
});
