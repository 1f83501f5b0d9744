import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createReferenceBackend } from '../kernels/reference/reference-backend.ts';
import { LlamaModel } from './llama-model.ts';
import { loadLlama2c } from './load-llama2c.ts';
import { logSoftmax } from './sampling.ts';

const modelDir = new URL('../../../../../shared/models/stories260K/', import.meta.url);
const golden = JSON.parse(
  readFileSync(new URL('../../test/fixtures/stories260k-greedy.json', import.meta.url), 'utf8'),
) as { tokens: number[]; text: string };

let model: LlamaModel;

beforeAll(async () => {
  model = await loadLlama2c({
    checkpoint: new URL('stories260K.bin', modelDir),
    tokenizer: new URL('tok512.bin', modelDir),
  });
});

describe('stories260K', () => {
  it('reads the documented header', () => {
    expect(model.name).toBe('stories260K');
    expect(model.config).toMatchObject({
      dim: 64,
      hiddenDim: 172,
      nLayers: 5,
      nHeads: 8,
      nKvHeads: 4,
      vocabSize: 512,
      seqLen: 512,
      sharedClassifier: true,
      ropeLayout: 'interleaved',
    });
    expect(model.weights.classifier).toBe(model.weights.tokenEmbedding);
  });

  it("greedy generation from BOS reproduces llama2.c's 256 tokens and text", () => {
    const result = model.generate('', { maxNewTokens: 256, temperature: 0 });
    expect(golden.tokens.length).toBeGreaterThanOrEqual(200);
    expect(result.promptTokens).toEqual([1]);
    expect(result.tokens).toEqual(golden.tokens);
    expect(result.text).toBe(golden.text);
    expect(result.text.startsWith('Once upon a time, there was a little girl named Lily.')).toBe(true);
    expect(result.finishReason).toBe('length');
  });

  it('batched prompt processing equals token-by-token decoding with the KV cache', () => {
    const tokens = golden.tokens.slice(0, 12);
    const batched = model.forward([1, ...tokens], 0, { cache: model.createCache() });
    const cache = model.createCache();
    const V = model.config.vocabSize;
    [1, ...tokens].forEach((token, pos) => {
      const step = model.forward([token], pos, { cache });
      for (let i = 0; i < V; i++) expect(step[i]).toBeCloseTo(batched[pos * V + i]!, 4);
    });
  });

  it('stops at a stop sequence and excludes it from the text', () => {
    const result = model.generate('', { maxNewTokens: 100, stop: ['Lily'] });
    expect(result.text).toBe('Once upon a time, there was a little girl named ');
    expect(result.finishReason).toBe('stop');
  });

  it('finds a stop sequence that spans several tokens, at its first occurrence', () => {
    const full = model.generate('', { maxNewTokens: 100 }).text;
    // ". She loved" is split over several tokens; the text must end right before its first occurrence.
    const stop = '. She lov';
    const result = model.generate('', { maxNewTokens: 100, stop: ['zzz', stop] });
    expect(result.text).toBe(full.slice(0, full.indexOf(stop)));
    expect(result.finishReason).toBe('stop');
  });

  it('seeded sampling is reproducible per seed and differs across seeds', () => {
    const options = { maxNewTokens: 40, temperature: 1, topP: 0.9 };
    const a = model.generate('Once upon a time', { ...options, seed: 1 });
    const b = model.generate('Once upon a time', { ...options, seed: 1 });
    const c = model.generate('Once upon a time', { ...options, seed: 2 });
    expect(a.tokens).toEqual(b.tokens);
    expect(a.tokens).not.toEqual(c.tokens);
  });

  it('score sums continuation log-probabilities and prefers the likely continuation', () => {
    const prompt = 'Once upon a time, there was a little girl named';
    const [lily, xylophone] = model.score(prompt, [' Lily', ' xylophone']);
    expect(lily).toBeGreaterThan(xylophone!);
    // Independent check: one full forward over prompt + continuation.
    const promptTokens = model.tokenizer.encode(prompt);
    const joint = model.tokenizer.encode(`${prompt} Lily`);
    const logits = model.forward(joint, 0, { cache: model.createCache() });
    const V = model.config.vocabSize;
    let expected = 0;
    for (let i = promptTokens.length; i < joint.length; i++) {
      expected += logSoftmax(logits.subarray((i - 1) * V, i * V))[joint[i]!]!;
    }
    expect(lily).toBeCloseTo(expected, 4);
    expect(lily).toBeLessThan(0);
  });
});

describe('stories260K on a backend chosen by preference', () => {
  it("'auto' loads the wasm kernels, reproduces the golden text and scores close to the reference", async () => {
    const wasmModel = await loadLlama2c({
      checkpoint: new URL('stories260K.bin', modelDir),
      tokenizer: new URL('tok512.bin', modelDir),
      backend: 'auto',
      backendOptions: { wasm: { threads: 1 } },
    });
    try {
      expect(wasmModel.backend.name).toBe('wasm');
      expect(wasmModel.generate('', { maxNewTokens: 256 }).tokens).toEqual(golden.tokens);
      // Multi-token prompts run on the wasm kernels (float32 SIMD), so scores agree closely but not bit for bit.
      const prompt = 'Once upon a time, there was a little girl named';
      const [lily, tom] = wasmModel.score(prompt, [' Lily', ' Tom']);
      const [refLily, refTom] = model.score(prompt, [' Lily', ' Tom']);
      expect(lily).toBeCloseTo(refLily!, 3);
      expect(tom).toBeCloseTo(refTom!, 3);
    } finally {
      await wasmModel.dispose();
    }
    // The model created the backend from a name, so disposing the model released it.
    expect(() => wasmModel.backend.matmul(new Float32Array(1), new Float32Array(1), 1, 1, 1)).toThrow(/disposed/);
  });

  it('leaves a backend instance it was given to its owner', async () => {
    let disposed = false;
    const backend = {
      ...createReferenceBackend(),
      dispose: () => {
        disposed = true;
      },
    };
    const shared = await LlamaModel.create({
      config: model.config,
      weights: model.weights,
      tokenizer: model.tokenizer,
      backend,
    });
    expect(shared.backend).toBe(backend);
    await shared.dispose();
    expect(disposed).toBe(false);
  });
});
