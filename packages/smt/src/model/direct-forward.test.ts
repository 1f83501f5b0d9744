import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mulberry32, randomTensor } from '../kernels/reference/random.ts';
import { parseLlama2cTokenizer } from '../tokenizer/llama2c-tokenizer.ts';
import { type LlamaConfig, type LlamaLayerWeights, type LlamaWeights, layerShapes } from './llama-config.ts';
import { LlamaModel } from './llama-model.ts';

const tokenizer = parseLlama2cTokenizer(
  new Uint8Array(readFileSync(new URL('../../../../../shared/models/stories260K/tok512.bin', import.meta.url))),
  512,
);

/**
 * Shapes chosen to reach every remainder path of the unrolled loops: head size 6 (not a multiple of 4 or 8),
 * three query heads per kv head, odd hidden and vocabulary sizes, rotate-half RoPE with a large base.
 */
const odd: LlamaConfig = {
  dim: 18,
  hiddenDim: 37,
  nLayers: 2,
  nHeads: 3,
  nKvHeads: 1,
  vocabSize: 517,
  seqLen: 40,
  normEps: 1e-6,
  ropeBase: 500000,
  ropeLayout: 'rotate-half',
  sharedClassifier: false,
};

/** Head size 16 (two blocks of eight), no GQA, interleaved RoPE, shared classifier. */
const even: LlamaConfig = {
  dim: 32,
  hiddenDim: 40,
  nLayers: 3,
  nHeads: 2,
  nKvHeads: 2,
  vocabSize: 512,
  seqLen: 48,
  normEps: 1e-5,
  ropeBase: 10000,
  ropeLayout: 'interleaved',
  sharedClassifier: true,
};

function randomWeights(config: LlamaConfig, seed: number): LlamaWeights {
  const rng = mulberry32(seed);
  const shapes = layerShapes(config);
  const layers = Array.from({ length: config.nLayers }, () => {
    const layer = {} as LlamaLayerWeights;
    for (const key of Object.keys(shapes) as (keyof LlamaLayerWeights)[]) {
      const size = shapes[key].reduce((a, b) => a * b, 1);
      // Norm weights around 1, projections large enough that attention is far from uniform.
      const values = randomTensor(size, rng, { scale: key.endsWith('Norm') ? 0.2 : 0.8 });
      layer[key] = key.endsWith('Norm') ? values.map((v) => v + 1) : values;
    }
    return layer;
  });
  const tokenEmbedding = randomTensor(config.vocabSize * config.dim, rng);
  return {
    tokenEmbedding,
    layers,
    finalNorm: randomTensor(config.dim, rng, { scale: 0.2 }).map((v) => v + 1),
    classifier: config.sharedClassifier ? tokenEmbedding : randomTensor(config.vocabSize * config.dim, rng),
  };
}

/** Two models over the same weights: direct loops (`auto`) and the reference backend's kernels (`backend`). */
function pair(config: LlamaConfig, seed: number) {
  const weights = randomWeights(config, seed);
  return {
    weights,
    direct: new LlamaModel({ config, weights, tokenizer, inference: 'auto' }),
    kernels: new LlamaModel({ config, weights, tokenizer, inference: 'backend' }),
  };
}

const tokens = (config: LlamaConfig, n: number, seed: number) => {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, () => Math.floor(rng() * config.vocabSize));
};

describe.each([
  ['odd shapes, rotate-half, GQA ×3', odd],
  ['head size 16, interleaved, shared classifier', even],
])('direct forward (%s)', (_, config) => {
  it('multi-token logits equal the reference kernels bit for bit', () => {
    const { direct, kernels } = pair(config, 1);
    const prompt = tokens(config, 21, 2);
    const a = direct.forward(prompt, 0, { cache: direct.createCache() });
    const b = kernels.forward(prompt, 0, { cache: kernels.createCache() });
    expect(a.length).toBe(prompt.length * config.vocabSize);
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('token-by-token decoding equals one batched reference pass bit for bit, after a rewind too', () => {
    const { direct, kernels } = pair(config, 3);
    const sequence = tokens(config, config.seqLen, 4);
    const V = config.vocabSize;
    const batched = kernels.forward(sequence, 0, { cache: kernels.createCache() });
    const cache = direct.createCache();
    sequence.forEach((token, pos) => {
      const step = direct.forward([token], pos, { cache });
      expect(Array.from(step)).toEqual(Array.from(batched.subarray(pos * V, (pos + 1) * V)));
    });
    expect(cache.length).toBe(config.seqLen);
    // Rewinding overwrites later positions, exactly as a fresh pass over the new suffix would compute them.
    const other = tokens(config, 5, 5);
    const rewound = direct.forward(other, 10, { cache, logits: 'last' });
    const fresh = kernels.forward([...sequence.slice(0, 10), ...other], 0, {
      cache: kernels.createCache(),
      logits: 'last',
    });
    expect(Array.from(rewound)).toEqual(Array.from(fresh));
    expect(cache.length).toBe(15);
  });

  it('greedy and sampled generation pick the same tokens as the reference kernels', () => {
    const { direct, kernels } = pair(config, 6);
    const prompt = tokens(config, 4, 7);
    for (const options of [{ temperature: 0 }, { temperature: 0.8, topP: 0.9, seed: 11 }]) {
      const a = direct.generate(prompt, { maxNewTokens: 30, stopTokens: [], ...options });
      const b = kernels.generate(prompt, { maxNewTokens: 30, stopTokens: [], ...options });
      expect(a.tokens).toHaveLength(30);
      expect(a.tokens).toEqual(b.tokens);
    }
  });

  it('sees weights changed in place between calls', () => {
    const { weights, direct, kernels } = pair(config, 8);
    const prompt = tokens(config, 6, 9);
    const before = direct.forward(prompt, 0, { cache: direct.createCache(), logits: 'last' });
    for (const layer of weights.layers) {
      for (let i = 0; i < layer.w2.length; i++) layer.w2[i] = layer.w2[i]! * 1.5 + 0.01;
    }
    weights.finalNorm.fill(2);
    const after = direct.forward(prompt, 0, { cache: direct.createCache(), logits: 'last' });
    expect(Array.from(after)).not.toEqual(Array.from(before));
    const reference = kernels.forward(prompt, 0, { cache: kernels.createCache(), logits: 'last' });
    expect(Array.from(after)).toEqual(Array.from(reference));
  });
});

describe('direct forward validation', () => {
  it('rejects a bad token id before writing anything into the cache', () => {
    const { direct } = pair(odd, 10);
    const cache = direct.createCache();
    direct.forward([1, 2, 3], 0, { cache });
    expect(() => direct.forward([4, 5, odd.vocabSize], 3, { cache })).toThrow(/outside the vocabulary/);
    expect(() => direct.forward([1.5], 3, { cache })).toThrow(/outside the vocabulary/);
    expect(cache.length).toBe(3);
    expect(() => direct.forward([1], 4, { cache })).toThrow(/only holds 3 positions/);
    expect(() => direct.forward(tokens(odd, odd.seqLen, 1), 1, { cache })).toThrow(/exceeds the context length/);
  });

  it('rejects an unknown inference path and asynchronous backend names in the constructor', () => {
    const weights = randomWeights(odd, 12);
    expect(() => new LlamaModel({ config: odd, weights, tokenizer, inference: 'fast' as unknown as 'auto' })).toThrow(
      /inference must be 'auto' or 'backend'/,
    );
    expect(
      () => new LlamaModel({ config: odd, weights, tokenizer, backend: 'wasm' as unknown as 'reference' }),
    ).toThrow(/LlamaModel\.create/);
  });
});
