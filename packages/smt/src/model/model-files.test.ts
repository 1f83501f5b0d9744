import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32, randomTensor } from '../kernels/reference/random.ts';
import { llama2cToTokenizerJson } from '../tokenizer/llama2c-to-tokenizer-json.ts';
import { parseLlama2cTokenizer } from '../tokenizer/llama2c-tokenizer.ts';
import { type LlamaConfig, type LlamaLayerWeights, type LlamaWeights, layerShapes } from './llama-config.ts';
import { parseLlama2cCheckpoint, serializeLlama2cCheckpoint } from './llama2c-checkpoint.ts';
import { loadHuggingFace } from './load-hugging-face.ts';
import { loadLlama2c } from './load-llama2c.ts';
import { ModelFileError } from './model-file-error.ts';
import { interleavedToRotateHalf, rotateHalfToInterleaved } from './rope-permute.ts';
import {
  float16ToFloat32,
  float32ToFloat16,
  parseSafetensors,
  type SafetensorsInput,
  serializeSafetensors,
} from './safetensors.ts';

const tokBytes = new Uint8Array(
  readFileSync(new URL('../../../../../shared/models/stories260K/tok512.bin', import.meta.url)),
);
const tokenizerJson = JSON.stringify(llama2cToTokenizerJson(parseLlama2cTokenizer(tokBytes, 512)));

/** A tiny random LLaMA: GQA (4 heads over 2 kv heads) and a hidden size that is not a multiple of 8. */
const config: LlamaConfig = {
  dim: 16,
  hiddenDim: 36,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  vocabSize: 512,
  seqLen: 32,
  normEps: 1e-5,
  ropeBase: 10000,
  ropeLayout: 'interleaved',
  sharedClassifier: false,
};

/** bfloat16-representable values, so F32, F16 and BF16 files hold exactly the same weights. */
function randomWeights(cfg: LlamaConfig, seed: number): LlamaWeights {
  const rng = mulberry32(seed);
  const tensor = (n: number, scale: number, offset = 0) =>
    randomTensor(n, rng, { scale }).map((v) => {
      const bits = new Uint32Array(Float32Array.of(v + offset).buffer)[0]! & 0xffff0000;
      return new Float32Array(Uint32Array.of(bits).buffer)[0]!;
    });
  const shapes = layerShapes(cfg);
  const layers = Array.from({ length: cfg.nLayers }, () => {
    const layer = {} as LlamaLayerWeights;
    for (const key of Object.keys(shapes) as (keyof LlamaLayerWeights)[]) {
      const size = shapes[key].reduce((a, b) => a * b, 1);
      layer[key] = key.endsWith('Norm') ? tensor(size, 0.2, 1) : tensor(size, 0.4);
    }
    return layer;
  });
  const tokenEmbedding = tensor(cfg.vocabSize * cfg.dim, 1);
  return {
    tokenEmbedding,
    layers,
    finalNorm: tensor(cfg.dim, 0.2, 1),
    classifier: cfg.sharedClassifier ? tokenEmbedding : tensor(cfg.vocabSize * cfg.dim, 0.5),
  };
}

/** The Hugging Face safetensors of a llama2.c-layout model: q/k rows permuted as HF's conversion script does. */
function hfTensors(
  cfg: LlamaConfig,
  w: LlamaWeights,
  dtypes: SafetensorsInput['dtype'][] = ['F32'],
): Record<string, SafetensorsInput> {
  const { dim, hiddenDim, vocabSize, nHeads, nKvHeads } = cfg;
  const kv = (dim / nHeads) * nKvHeads;
  let n = 0;
  const t = (shape: number[], data: Float32Array): SafetensorsInput => ({
    shape,
    data,
    dtype: dtypes[n++ % dtypes.length],
  });
  const out: Record<string, SafetensorsInput> = { 'model.embed_tokens.weight': t([vocabSize, dim], w.tokenEmbedding) };
  w.layers.forEach((l, i) => {
    const p = `model.layers.${i}.`;
    out[`${p}input_layernorm.weight`] = t([dim], l.attnNorm);
    out[`${p}self_attn.q_proj.weight`] = t([dim, dim], interleavedToRotateHalf(l.wq, nHeads, dim));
    out[`${p}self_attn.k_proj.weight`] = t([kv, dim], interleavedToRotateHalf(l.wk, nKvHeads, dim));
    out[`${p}self_attn.v_proj.weight`] = t([kv, dim], l.wv);
    out[`${p}self_attn.o_proj.weight`] = t([dim, dim], l.wo);
    out[`${p}post_attention_layernorm.weight`] = t([dim], l.ffnNorm);
    out[`${p}mlp.gate_proj.weight`] = t([hiddenDim, dim], l.w1);
    out[`${p}mlp.up_proj.weight`] = t([hiddenDim, dim], l.w3);
    out[`${p}mlp.down_proj.weight`] = t([dim, hiddenDim], l.w2);
  });
  out['model.norm.weight'] = t([dim], w.finalNorm);
  if (!cfg.sharedClassifier) out['lm_head.weight'] = t([vocabSize, dim], w.classifier);
  return out;
}

function hfConfig(cfg: LlamaConfig): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: cfg.dim,
    intermediate_size: cfg.hiddenDim,
    num_hidden_layers: cfg.nLayers,
    num_attention_heads: cfg.nHeads,
    num_key_value_heads: cfg.nKvHeads,
    vocab_size: cfg.vocabSize,
    max_position_embeddings: cfg.seqLen,
    rms_norm_eps: cfg.normEps,
    rope_theta: cfg.ropeBase,
    hidden_act: 'silu',
    tie_word_embeddings: cfg.sharedClassifier,
    bos_token_id: 1,
    eos_token_id: 2,
  };
}

let dir: string;

async function writeHfDir(name: string, files: { config?: unknown; safetensors?: Uint8Array; tokenizer?: string }) {
  const d = join(dir, name);
  await rm(d, { recursive: true, force: true });
  await import('node:fs/promises').then((fs) => fs.mkdir(d));
  if (files.config !== undefined) await writeFile(join(d, 'config.json'), JSON.stringify(files.config));
  if (files.safetensors) await writeFile(join(d, 'model.safetensors'), files.safetensors);
  await writeFile(join(d, 'tokenizer.json'), files.tokenizer ?? tokenizerJson);
  return d;
}

/** Runs `fn` and returns the ModelFileError it throws. */
async function modelFileError(fn: () => unknown): Promise<ModelFileError> {
  try {
    await fn();
  } catch (error) {
    if (ModelFileError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a ModelFileError');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smt-model-files-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const prompt = [1, 300, 45, 511, 7, 259, 300];

describe('llama2.c checkpoints', () => {
  for (const version of [0, 1] as const) {
    for (const sharedClassifier of [true, false]) {
      it(`v${version} ${sharedClassifier ? 'shared' : 'unshared'} classifier round-trips through serialize and parse`, () => {
        const cfg = { ...config, sharedClassifier };
        const weights = randomWeights(cfg, 1);
        const bytes = serializeLlama2cCheckpoint(cfg, weights, { version });
        const parsed = parseLlama2cCheckpoint(bytes);
        expect(parsed.version).toBe(version);
        expect(parsed.config).toEqual(cfg);
        expect(parsed.weights.layers[1]!.w2).toEqual(weights.layers[1]!.w2);
        expect(parsed.weights.layers[0]!.wk).toEqual(weights.layers[0]!.wk);
        expect(parsed.weights.classifier).toEqual(weights.classifier);
        expect(parsed.weights.classifier === parsed.weights.tokenEmbedding).toBe(sharedClassifier);
      });
    }
  }

  it('v0 stores the shared-classifier flag as the sign of vocab_size and v1 pads its header to 256 bytes', () => {
    const v0 = serializeLlama2cCheckpoint(config, randomWeights(config, 2), { version: 0 });
    expect(new DataView(v0.buffer).getInt32(20, true)).toBe(-512);
    const v1 = serializeLlama2cCheckpoint(config, randomWeights(config, 2), { version: 1 });
    const view = new DataView(v1.buffer);
    expect(view.getUint32(0, true)).toBe(0x616b3432);
    expect(view.getInt32(4, true)).toBe(1);
    expect(view.getUint8(36)).toBe(0);
    expect(v1.length - v0.length).toBe(256 - 28 - 2 * 4 * config.seqLen * (config.dim / config.nHeads / 2));
  });
});

describe('Hugging Face directories', () => {
  it('load to the same logits as the equivalent llama2.c model, for F32, F16 and BF16 tensors', async () => {
    const weights = randomWeights(config, 3);
    const bin = join(dir, 'tiny.bin');
    await writeFile(bin, serializeLlama2cCheckpoint(config, weights, { version: 1 }));
    await writeFile(join(dir, 'tok.bin'), tokBytes);
    const reference = await loadLlama2c({ checkpoint: bin, tokenizer: join(dir, 'tok.bin') });
    const expected = reference.forward(prompt, 0);
    for (const dtypes of [['F32'], ['F16', 'BF16', 'F32']] as const) {
      const d = await writeHfDir(`hf-${dtypes.join('-')}`, {
        config: hfConfig(config),
        safetensors: serializeSafetensors(hfTensors(config, weights, [...dtypes])),
      });
      const model = await loadHuggingFace(d);
      expect(model.config.ropeLayout).toBe('rotate-half');
      expect(model.name).toBe(`hf-${dtypes.join('-')}`);
      const logits = model.forward(prompt, 0);
      let maxDiff = 0;
      for (let i = 0; i < logits.length; i++) maxDiff = Math.max(maxDiff, Math.abs(logits[i]! - expected[i]!));
      expect(maxDiff).toBeLessThan(1e-4);
      expect(model.tokenizer.encode('Once upon a time')).toEqual(reference.tokenizer.encode('Once upon a time'));
    }
  });

  it('tied embeddings use the embedding as classifier and ignore a missing lm_head', async () => {
    const cfg = { ...config, sharedClassifier: true };
    const d = await writeHfDir('hf-tied', {
      config: hfConfig(cfg),
      safetensors: serializeSafetensors(hfTensors(cfg, randomWeights(cfg, 4))),
    });
    const model = await loadHuggingFace(d);
    expect(model.weights.classifier).toBe(model.weights.tokenEmbedding);
  });

  it('writing a rotate-half model to llama2.c format permutes q/k back to interleaved', () => {
    const weights = randomWeights(config, 5);
    const hfLayers = weights.layers.map((l) => ({
      ...l,
      wq: interleavedToRotateHalf(l.wq, config.nHeads, config.dim),
      wk: interleavedToRotateHalf(l.wk, config.nKvHeads, config.dim),
    }));
    expect(rotateHalfToInterleaved(hfLayers[0]!.wq, config.nHeads, config.dim)).toEqual(weights.layers[0]!.wq);
    const bytes = serializeLlama2cCheckpoint(
      { ...config, ropeLayout: 'rotate-half' },
      { ...weights, layers: hfLayers },
    );
    expect(parseLlama2cCheckpoint(bytes).weights.layers[1]!.wk).toEqual(weights.layers[1]!.wk);
  });
});

describe('safetensors', () => {
  it('converts F16 and BF16 exactly for representable values and rounds to nearest even', () => {
    const values = Float32Array.from([0, -0, 1, -2.5, 65504, 2 ** -24, 0.333251953125, 1e-3]);
    const parsed = parseSafetensors(
      serializeSafetensors({
        h: { shape: [2, 4], data: values, dtype: 'F16' },
        b: { shape: [8], data: values, dtype: 'BF16' },
      }),
    );
    expect(parsed.get('h')!.shape).toEqual([2, 4]);
    expect(Array.from(parsed.get('h')!.data.slice(0, 7))).toEqual(Array.from(values.slice(0, 7)));
    expect(parsed.get('h')!.data[7]).toBeCloseTo(1e-3, 6);
    expect(parsed.get('b')!.data[3]).toBe(-2.5);
    expect(parsed.get('b')!.data[7]).toBeCloseTo(1e-3, 5);
    // 1 + 2^-11 is exactly halfway between two halves; ties go to the even mantissa (1.0).
    expect(float16ToFloat32(float32ToFloat16(1 + 2 ** -11))).toBe(1);
    expect(float16ToFloat32(float32ToFloat16(1e6))).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('corrupt files raise ModelFileError naming the problem', () => {
  const good = () => serializeLlama2cCheckpoint(config, randomWeights(config, 6), { version: 0 });

  it('truncated checkpoint names the tensor and the missing bytes', async () => {
    const bytes = good();
    const error = await modelFileError(() =>
      parseLlama2cCheckpoint(bytes.subarray(0, 28 + 4 * (512 * 16 + 2 * 16 + 300)), 'tiny.bin'),
    );
    expect(error.code).toBe('model_file');
    expect(error.field).toBe('wq');
    expect(error.message).toMatch(
      /tiny\.bin: truncated in tensor 'wq' \(2 × \[16, 16\] fp32 = 2048 bytes at offset 32924\)/,
    );
    expect(error.message).toMatch(/expected \d+ bytes for v0 header dim=16, hidden_dim=36/);
  });

  it('a header that mis-sizes a tensor reports expected versus found file size', async () => {
    const bytes = good();
    new DataView(bytes.buffer).setInt32(4, 32, true); // hidden_dim 36 → 32
    const error = await modelFileError(() => parseLlama2cCheckpoint(bytes, 'tiny.bin'));
    expect(error.field).toBe('size');
    expect(error.message).toMatch(
      new RegExp(`expected ${bytes.length - 2 * 3 * 4 * 4 * 16} bytes .*hidden_dim=32.*found ${bytes.length}`),
    );
  });

  it('a bad header field is named', async () => {
    const bytes = good();
    new DataView(bytes.buffer).setInt32(16, 3, true); // n_kv_heads
    const error = await modelFileError(() => parseLlama2cCheckpoint(bytes, 'tiny.bin'));
    expect(error.field).toBe('n_kv_heads');
    expect(error.message).toMatch(/bad header field n_kv_heads: n_heads \(4\) must be a multiple of n_kv_heads \(3\)/);
  });

  it('a bad magic or version is named', async () => {
    const v1 = serializeLlama2cCheckpoint(config, randomWeights(config, 7), { version: 1 });
    const badMagic = v1.slice();
    new DataView(badMagic.buffer).setUint32(0, 0x616b3433, true);
    const magicError = await modelFileError(() => parseLlama2cCheckpoint(badMagic, 'tiny.bin'));
    expect(magicError.message).toMatch(/expected 0x616b3432 "ak42", found 0x616b3433/);
    const badVersion = v1.slice();
    new DataView(badVersion.buffer).setInt32(4, 2, true);
    const versionError = await modelFileError(() => parseLlama2cCheckpoint(badVersion, 'tiny.bin'));
    expect(versionError.field).toBe('version');
    expect(versionError.message).toMatch(/unsupported version 2 .* expected 1/);
  });

  it('safetensors offsets out of range and a bad header length are reported', async () => {
    const bytes = serializeSafetensors({ a: { shape: [4], data: new Float32Array(4) } });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const json = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
    json.a.data_offsets = [0, 64];
    const patched = new TextEncoder().encode(JSON.stringify(json).padEnd(headerLength, ' '));
    const corrupt = bytes.slice();
    corrupt.set(patched, 8);
    const error = await modelFileError(() => parseSafetensors(corrupt, 'm.safetensors'));
    expect(error.field).toBe('a');
    expect(error.message).toMatch(/tensor 'a' data_offsets \[0, 64\] are out of range: the data section is 16 bytes/);
    const tooLong = bytes.slice();
    new DataView(tooLong.buffer).setBigUint64(0, 10n ** 6n, true);
    expect((await modelFileError(() => parseSafetensors(tooLong))).message).toMatch(/header length 1000000 exceeds/);
  });

  it('a mis-shaped or missing HF tensor names the tensor and the expected shape', async () => {
    const weights = randomWeights(config, 8);
    const tensors = hfTensors(config, weights);
    tensors['model.layers.1.self_attn.k_proj.weight'] = { shape: [16, 16], data: new Float32Array(256) };
    const d1 = await writeHfDir('hf-misshaped', {
      config: hfConfig(config),
      safetensors: serializeSafetensors(tensors),
    });
    const shapeError = await modelFileError(() => loadHuggingFace(d1));
    expect(shapeError.field).toBe('model.layers.1.self_attn.k_proj.weight');
    expect(shapeError.message).toMatch(/has shape \[16, 16\], expected \[8, 16\]/);
    const { 'lm_head.weight': _, ...withoutHead } = hfTensors(config, weights);
    const d2 = await writeHfDir('hf-missing', {
      config: hfConfig(config),
      safetensors: serializeSafetensors(withoutHead),
    });
    const missing = await modelFileError(() => loadHuggingFace(d2));
    expect(missing.message).toMatch(/missing tensor 'lm_head.weight' \(expected shape \[512, 16\]\)/);
    const d3 = await writeHfDir('hf-badconfig', {
      config: { ...hfConfig(config), num_key_value_heads: 3 },
      safetensors: serializeSafetensors(withoutHead),
    });
    expect((await modelFileError(() => loadHuggingFace(d3))).field).toBe('n_kv_heads');
  });
});
