/**
 * Loading a Hugging Face LLaMA checkpoint directory: `config.json`, `model.safetensors` (F32/F16/BF16) and
 * `tokenizer.json`. HF stores q/k projections in the rotate-half RoPE layout, so the model's `ropeLayout` is
 * `rotate-half` and the weights are used as stored.
 *
 * @module
 */

import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendPreference, SelectBackendOptions } from '../kernels/select-backend.ts';
import { parseHfTokenizerJson } from '../tokenizer/hf-tokenizer.ts';
import { configProblem, kvDim, type LlamaConfig, type LlamaLayerWeights, type LlamaWeights } from './llama-config.ts';
import { type InferencePath, LlamaModel } from './llama-model.ts';
import { ModelFileError } from './model-file-error.ts';
import { parseSafetensors, type SafetensorsTensor } from './safetensors.ts';

/** Options of {@link loadHuggingFace}. */
export interface LoadHuggingFaceOptions {
  /**
   * Kernels for the runtime: a backend instance, `'auto'` (wasm in Node when it loads, else reference), or a
   * backend name (default `'reference'`). A backend created from a name is released by `model.dispose()`.
   */
  backend?: BackendPreference;
  /** Options for creating the backend from a name (wasm threads, gpujs mode, a fallback callback). */
  backendOptions?: SelectBackendOptions;
  /** Where forward passes compute (default `auto`); see {@link InferencePath}. */
  inference?: InferencePath;
  /** Model name (default: the directory's name). */
  name?: string;
}

/** Hugging Face tensor name of each layer weight (read here, written by the exporter). */
export const HF_LAYER_TENSORS: Record<keyof LlamaLayerWeights, string> = {
  attnNorm: 'input_layernorm.weight',
  wq: 'self_attn.q_proj.weight',
  wk: 'self_attn.k_proj.weight',
  wv: 'self_attn.v_proj.weight',
  wo: 'self_attn.o_proj.weight',
  ffnNorm: 'post_attention_layernorm.weight',
  w1: 'mlp.gate_proj.weight',
  w2: 'mlp.down_proj.weight',
  w3: 'mlp.up_proj.weight',
};

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    throw new ModelFileError(`Cannot read ${path}: ${(cause as Error).message}`, { file: path, cause });
  }
}

/**
 * Converts a parsed `config.json` (LlamaConfig keys) into a {@link LlamaConfig}. Throws a
 * {@link ModelFileError} naming the key that is missing, invalid or unsupported.
 */
export function llamaConfigFromHf(
  json: Record<string, unknown>,
  file = 'config.json',
): LlamaConfig & {
  bosTokenId: number | undefined;
  eosTokenId: number | undefined;
} {
  const fail = (field: string, message: string): never => {
    throw new ModelFileError(`${file}: ${message}`, { file, field });
  };
  const int = (key: string, fallback?: number): number => {
    const value = json[key] ?? fallback;
    if (!Number.isInteger(value) || (value as number) <= 0) {
      fail(key, `'${key}' must be a positive integer, found ${JSON.stringify(json[key])}.`);
    }
    return value as number;
  };
  if (json.hidden_act !== undefined && json.hidden_act !== 'silu') {
    fail('hidden_act', `hidden_act ${JSON.stringify(json.hidden_act)} is not supported; expected "silu" (SwiGLU).`);
  }
  if (json.rope_scaling !== undefined && json.rope_scaling !== null) {
    fail('rope_scaling', `rope_scaling ${JSON.stringify(json.rope_scaling)} is not supported; expected null.`);
  }
  const dim = int('hidden_size');
  const nHeads = int('num_attention_heads');
  if (json.head_dim !== undefined && json.head_dim !== dim / nHeads) {
    fail(
      'head_dim',
      `head_dim ${JSON.stringify(json.head_dim)} must equal hidden_size / num_attention_heads = ${dim / nHeads}.`,
    );
  }
  const optionalId = (key: string) => (Number.isInteger(json[key]) ? (json[key] as number) : undefined);
  const config = {
    dim,
    hiddenDim: int('intermediate_size'),
    nLayers: int('num_hidden_layers'),
    nHeads,
    nKvHeads: int('num_key_value_heads', nHeads),
    vocabSize: int('vocab_size'),
    seqLen: int('max_position_embeddings', 2048),
    normEps: typeof json.rms_norm_eps === 'number' ? json.rms_norm_eps : 1e-6,
    ropeBase: typeof json.rope_theta === 'number' ? json.rope_theta : 10000,
    ropeLayout: 'rotate-half' as const,
    // transformers' LlamaConfig defaults tie_word_embeddings to false.
    sharedClassifier: json.tie_word_embeddings === true,
    bosTokenId: optionalId('bos_token_id'),
    eosTokenId: optionalId('eos_token_id'),
  };
  const problem = configProblem(config);
  if (problem) fail(problem.field, `invalid configuration: ${problem.message}.`);
  return config;
}

/**
 * Collects the LLaMA weights from parsed safetensors, checking that every tensor exists and has the shape the
 * configuration implies. Throws a {@link ModelFileError} naming the tensor and the expected versus found shape.
 */
export function llamaWeightsFromSafetensors(
  tensors: Map<string, SafetensorsTensor>,
  config: LlamaConfig,
  file = 'model.safetensors',
): LlamaWeights {
  const { dim, hiddenDim, vocabSize } = config;
  const kv = kvDim(config);
  const take = (name: string, shape: number[], why: string): Float32Array => {
    const tensor = tensors.get(name);
    if (!tensor) {
      throw new ModelFileError(`${file}: missing tensor '${name}' (expected shape [${shape.join(', ')}]).`, {
        file,
        field: name,
      });
    }
    if (tensor.shape.length !== shape.length || tensor.shape.some((d, i) => d !== shape[i])) {
      throw new ModelFileError(
        `${file}: tensor '${name}' has shape [${tensor.shape.join(', ')}], expected [${shape.join(', ')}] (${why}).`,
        { file, field: name },
      );
    }
    return tensor.data;
  };
  const layerShapes: Record<keyof LlamaLayerWeights, [number[], string]> = {
    attnNorm: [[dim], 'hidden_size'],
    wq: [[dim, dim], 'hidden_size × hidden_size'],
    wk: [[kv, dim], `num_key_value_heads·head_dim = ${kv} × hidden_size`],
    wv: [[kv, dim], `num_key_value_heads·head_dim = ${kv} × hidden_size`],
    wo: [[dim, dim], 'hidden_size × hidden_size'],
    ffnNorm: [[dim], 'hidden_size'],
    w1: [[hiddenDim, dim], 'intermediate_size × hidden_size'],
    w2: [[dim, hiddenDim], 'hidden_size × intermediate_size'],
    w3: [[hiddenDim, dim], 'intermediate_size × hidden_size'],
  };
  const layers = Array.from({ length: config.nLayers }, (_, l) => {
    const layer = {} as LlamaLayerWeights;
    for (const key of Object.keys(HF_LAYER_TENSORS) as (keyof LlamaLayerWeights)[]) {
      const [shape, why] = layerShapes[key];
      layer[key] = take(`model.layers.${l}.${HF_LAYER_TENSORS[key]}`, shape, why);
    }
    return layer;
  });
  const tokenEmbedding = take('model.embed_tokens.weight', [vocabSize, dim], 'vocab_size × hidden_size');
  return {
    tokenEmbedding,
    layers,
    finalNorm: take('model.norm.weight', [dim], 'hidden_size'),
    classifier: config.sharedClassifier
      ? tokenEmbedding
      : take('lm_head.weight', [vocabSize, dim], 'vocab_size × hidden_size; tie_word_embeddings is false'),
  };
}

/**
 * Loads a Hugging Face LLaMA directory (`config.json`, `model.safetensors`, `tokenizer.json`).
 *
 * @example
 * ```ts
 * const model = await loadHuggingFace('./TinyLlama-tiny');
 * model.config.ropeLayout; // 'rotate-half'
 * ```
 */
export async function loadHuggingFace(dir: string | URL, options: LoadHuggingFaceOptions = {}): Promise<LlamaModel> {
  const root = dir instanceof URL ? fileURLToPath(dir) : dir;
  const configFile = join(root, 'config.json');
  let json: unknown;
  try {
    json = JSON.parse(await readText(configFile));
  } catch (cause) {
    if (ModelFileError.isInstance(cause)) throw cause;
    throw new ModelFileError(`${configFile}: not valid JSON (${(cause as Error).message}).`, {
      file: configFile,
      cause,
    });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ModelFileError(`${configFile}: expected a JSON object.`, { file: configFile });
  }
  const config = llamaConfigFromHf(json as Record<string, unknown>, configFile);
  const weightsFile = join(root, 'model.safetensors');
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(weightsFile));
  } catch (cause) {
    throw new ModelFileError(`Cannot read ${weightsFile}: ${(cause as Error).message}`, { file: weightsFile, cause });
  }
  const weights = llamaWeightsFromSafetensors(parseSafetensors(bytes, weightsFile), config, weightsFile);
  const tokenizerFile = join(root, 'tokenizer.json');
  const tokenizer = parseHfTokenizerJson(
    await readText(tokenizerFile),
    { bosId: config.bosTokenId, eosId: config.eosTokenId },
    tokenizerFile,
  );
  const { bosTokenId: _bos, eosTokenId: _eos, ...llamaConfig } = config;
  return LlamaModel.create({
    config: llamaConfig,
    weights,
    tokenizer,
    backend: options.backend,
    backendOptions: options.backendOptions,
    inference: options.inference,
    name: options.name ?? basename(root),
  });
}
