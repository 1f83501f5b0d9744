/**
 * Export of trained (merged) weights with the existing serializers: a llama2.c checkpoint, a Hugging Face
 * `model.safetensors`, or a whole Hugging Face model directory (`config.json`, `model.safetensors`,
 * `tokenizer.json`) that {@link loadHuggingFace} reads back.
 *
 * @module
 */

import { join } from 'node:path';
import { DspyError } from '@dspy-ts/core';
import { type LlamaConfig, type LlamaLayerWeights, type LlamaWeights, layerShapes } from '../model/llama-config.ts';
import { type SerializeLlama2cOptions, serializeLlama2cCheckpoint } from '../model/llama2c-checkpoint.ts';
import { HF_LAYER_TENSORS } from '../model/load-hugging-face.ts';
import { interleavedToRotateHalf } from '../model/rope-permute.ts';
import { type SafetensorsDtype, type SafetensorsInput, serializeSafetensors } from '../model/safetensors.ts';
import { llama2cToTokenizerJson } from '../tokenizer/llama2c-to-tokenizer-json.ts';
import { Llama2cTokenizer } from '../tokenizer/llama2c-tokenizer.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { writeFileAtomic } from './training-checkpoint.ts';

/** Trained weights with their configuration, e.g. a `FinetuneResult`. */
export interface ExportableModel {
  /** Hyper-parameters. */
  config: LlamaConfig;
  /** Weights (adapters already merged). */
  weights: LlamaWeights;
}

/**
 * The weights as a llama2.c checkpoint (default version 0, the legacy format stories260K uses), readable by
 * `run.c` and `loadLlama2c`.
 */
export function exportLlama2c(model: ExportableModel, options: SerializeLlama2cOptions = {}): Uint8Array {
  return serializeLlama2cCheckpoint(model.config, model.weights, { version: options.version ?? 0 });
}

/**
 * The weights as a Hugging Face `model.safetensors` (LlamaForCausalLM names). Interleaved (llama2.c) q/k rows are
 * permuted to HF's rotate-half layout as `convert_llama_weights_to_hf.py` does; a shared classifier is written once
 * as `model.embed_tokens.weight` (`tie_word_embeddings: true` in the config).
 */
export function exportSafetensors(model: ExportableModel, options: { dtype?: SafetensorsDtype } = {}): Uint8Array {
  const { config, weights } = model;
  const dtype = options.dtype ?? 'F32';
  const { dim, vocabSize, nHeads, nKvHeads } = config;
  const shapes = layerShapes(config);
  const toRotateHalf = (w: Float32Array, heads: number) =>
    config.ropeLayout === 'interleaved' ? interleavedToRotateHalf(w, heads, dim) : w;
  const tensors: Record<string, SafetensorsInput> = {
    'model.embed_tokens.weight': { shape: [vocabSize, dim], data: weights.tokenEmbedding, dtype },
  };
  weights.layers.forEach((layer, l) => {
    for (const key of Object.keys(HF_LAYER_TENSORS) as (keyof LlamaLayerWeights)[]) {
      let data = layer[key];
      if (key === 'wq') data = toRotateHalf(data, nHeads);
      if (key === 'wk') data = toRotateHalf(data, nKvHeads);
      tensors[`model.layers.${l}.${HF_LAYER_TENSORS[key]}`] = { shape: shapes[key], data, dtype };
    }
  });
  tensors['model.norm.weight'] = { shape: [dim], data: weights.finalNorm, dtype };
  if (!config.sharedClassifier)
    tensors['lm_head.weight'] = { shape: [vocabSize, dim], data: weights.classifier, dtype };
  return serializeSafetensors(tensors, { format: 'pt' });
}

/** A Hugging Face `config.json` object for `config` (LlamaForCausalLM). */
export function huggingFaceConfig(
  config: LlamaConfig,
  tokens: { bosId?: number; eosId?: number } = {},
): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: config.dim,
    intermediate_size: config.hiddenDim,
    num_hidden_layers: config.nLayers,
    num_attention_heads: config.nHeads,
    num_key_value_heads: config.nKvHeads,
    vocab_size: config.vocabSize,
    max_position_embeddings: config.seqLen,
    rms_norm_eps: config.normEps,
    rope_theta: config.ropeBase,
    rope_scaling: null,
    hidden_act: 'silu',
    tie_word_embeddings: config.sharedClassifier,
    torch_dtype: 'float32',
    ...(tokens.bosId !== undefined ? { bos_token_id: tokens.bosId } : {}),
    ...(tokens.eosId !== undefined ? { eos_token_id: tokens.eosId } : {}),
  };
}

/**
 * Writes a Hugging Face model directory: `config.json`, `model.safetensors` and, when a llama2.c tokenizer is
 * given, the equivalent `tokenizer.json`. Each file is written atomically.
 *
 * @example
 * ```ts
 * await saveHuggingFace('./stories260K-smt', { ...result, tokenizer: model.tokenizer });
 * const reloaded = await loadHuggingFace('./stories260K-smt');
 * ```
 */
export async function saveHuggingFace(
  dir: string,
  model: ExportableModel & { tokenizer?: Tokenizer },
  options: { dtype?: SafetensorsDtype } = {},
): Promise<void> {
  const tokenizer = model.tokenizer;
  if (tokenizer && !(tokenizer instanceof Llama2cTokenizer)) {
    throw new DspyError(
      'invalid_argument',
      'saveHuggingFace converts llama2.c tokenizers only; copy the original tokenizer.json next to the weights instead.',
    );
  }
  const config = huggingFaceConfig(model.config, tokenizer ? { bosId: tokenizer.bosId, eosId: tokenizer.eosId } : {});
  await writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  await writeFileAtomic(join(dir, 'model.safetensors'), exportSafetensors(model, options));
  if (tokenizer) {
    await writeFileAtomic(join(dir, 'tokenizer.json'), JSON.stringify(llama2cToTokenizerJson(tokenizer)));
  }
}

/** Writes {@link exportLlama2c}'s bytes to `path` atomically. */
export async function saveLlama2c(path: string, model: ExportableModel, options: SerializeLlama2cOptions = {}) {
  await writeFileAtomic(path, exportLlama2c(model, options));
}
