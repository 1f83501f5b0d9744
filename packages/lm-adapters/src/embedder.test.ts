import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LMError } from '@dspy-ts/core';
import { MockEmbeddingModelV4 } from 'ai/test';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { localProvider } from '../test/local-lm.ts';
import { type OpenAIServer, startOpenAIServer } from '../test/openai-server.ts';
import { embedder } from './embedder.ts';
import { LMCache } from './lm-cache.ts';

let server: OpenAIServer;
beforeEach(async () => {
  server = await startOpenAIServer();
});
afterEach(async () => {
  await server.close();
});

describe('embedder', () => {
  it('embeds in batches over HTTP, keeping the input order', async () => {
    const embed = embedder(localProvider(server).embeddingModel('embed-model'), {
      batchSize: 2,
      maxParallelCalls: 2,
      cache: false,
    });
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
    await embedder(model, { batchSize: 1, maxParallelCalls: 3, cache: false }).embed(
      Array.from({ length: 9 }, (_, i) => `t${i}`),
    );
    expect(peak).toBe(3);
  });

  it('retries a rate-limited batch and maps final failures to LMError', async () => {
    server.enqueue({ type: 'status', status: 429, retryAfter: '0' });
    const embed = embedder(localProvider(server).embeddingModel('embed-model'), {
      retry: { initialDelayMs: 1 },
      cache: false,
    });
    expect(await embed.embed(['x'])).toHaveLength(1);
    expect(server.requests).toHaveLength(2);

    server.enqueue({ type: 'status', status: 401 });
    await expect(embed.embed(['y'])).rejects.toSatisfy((e: unknown) => LMError.isInstance(e) && e.kind === 'auth');
  });
});

describe('embedder cache', () => {
  const inputs = () => server.requests.map((request) => request.body.input as string[]);

  it('serves cached texts from memory and sends only new ones, each distinct text once', async () => {
    const cache = new LMCache();
    const embed = embedder(localProvider(server).embeddingModel('embed-model'), { cache });
    const first = await embed.embed(['a', 'bb', 'a']);
    expect(inputs()).toEqual([['a', 'bb']]);
    expect(first[2]).toEqual(first[0]);
    expect(first[2]).not.toBe(first[0]);

    const second = await embed.embed(['bb', 'ccc', 'a']);
    expect(inputs()).toEqual([['a', 'bb'], ['ccc']]);
    // The server's vector is [text length, index in batch, 1]: cached vectors keep the index of their first batch.
    expect(second.map((vector) => Array.from(vector))).toEqual([
      [2, 1, 1],
      [3, 0, 1],
      [1, 0, 1],
    ]);
    expect(embed.dimensions).toBe(3);

    // Callers get copies: changing one does not change the cache.
    (second[0] as Float32Array)[0] = 99;
    expect(Array.from((await embed.embed(['bb']))[0] as Float32Array)).toEqual([2, 1, 1]);
    expect(server.requests).toHaveLength(2);
  });

  it('keeps exact vectors on disk for other processes and separates models and provider options', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'embed-cache-'));
    try {
      const path = join(dir, 'cache.sqlite');
      const fractional = new MockEmbeddingModelV4({
        provider: 'mock.embedding',
        modelId: 'frac',
        maxEmbeddingsPerCall: 10,
        doEmbed: async ({ values }) => ({ embeddings: values.map((v) => [1 / 3, v.length / 7, -0.1]), warnings: [] }),
      });
      const writer = new LMCache({ disk: path });
      const stored = await embedder(fractional, { cache: writer }).embed(['hello']);
      writer.close();

      const reader = new LMCache({ disk: path });
      const again = await embedder(fractional, { cache: reader }).embed(['hello']);
      expect(fractional.doEmbedCalls).toHaveLength(1);
      expect(again[0]).toEqual(stored[0]);

      // Another model id or other provider options are other entries; a key or endpoint option is not.
      const other = new MockEmbeddingModelV4({
        provider: 'mock.embedding',
        modelId: 'other',
        doEmbed: async ({ values }) => ({ embeddings: values.map(() => [0, 0, 0]), warnings: [] }),
      });
      await embedder(other, { cache: reader }).embed(['hello']);
      expect(other.doEmbedCalls).toHaveLength(1);
      await embedder(fractional, { cache: reader, providerOptions: { mock: { dimensions: 3 } } }).embed(['hello']);
      expect(fractional.doEmbedCalls).toHaveLength(2);
      await embedder(fractional, {
        cache: reader,
        providerOptions: { mock: { dimensions: 3, apiKey: 'sk-other-key-123456' } },
      }).embed(['hello']);
      expect(fractional.doEmbedCalls).toHaveLength(2);
      reader.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with cache: false or both levels off, sends every text and computes no key', async () => {
    const model = localProvider(server).embeddingModel('embed-model');
    const uncached = embedder(model, { cache: false });
    await uncached.embed(['a']);
    await uncached.embed(['a']);
    expect(inputs()).toEqual([['a'], ['a']]);

    const off = new LMCache({ memory: false, disk: false });
    const keyFor = vi.spyOn(off, 'keyForEmbedding');
    await embedder(model, { cache: off }).embed(['a']);
    expect(keyFor).not.toHaveBeenCalled();
    expect(server.requests).toHaveLength(3);
  });

  it('rejects a provider answer with the wrong number of vectors instead of caching it', async () => {
    const short = new MockEmbeddingModelV4({
      maxEmbeddingsPerCall: 10,
      doEmbed: async () => ({ embeddings: [[1, 2]], warnings: [] }),
    });
    const cache = new LMCache();
    const error = await embedder(short, { cache, numRetries: 0 })
      .embed(['a', 'b'])
      .catch((e: unknown) => e);
    expect(LMError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ kind: 'server' });
    expect(cache.stats().memoryEntries).toBe(0);
  });
});
