/**
 * `@dspy-ts/smt`: tensor kernels behind one interface (a plain-TypeScript reference, WebAssembly SIMD and gpu.js),
 * a LLaMA-architecture runtime that loads llama2.c and Hugging Face checkpoints, and `LocalLM`, which runs any
 * dspy-ts program on a local model offline.
 *
 * @example
 * ```ts
 * import { loadLlama2c, LocalLM } from '@dspy-ts/smt';
 *
 * const model = await loadLlama2c({ checkpoint: 'stories260K.bin', tokenizer: 'tok512.bin' });
 * const { text } = model.generate('Once upon a time', { maxNewTokens: 50 });
 * const lm = new LocalLM(model); // a LanguageModelV1 for configure({ lm })
 * ```
 *
 * @module
 */

// Kernels
export type {
  AdamParams,
  AttentionCache,
  BackendName,
  BlockIndex,
  KernelBackend,
  RopeLayout,
} from './kernels/backend.ts';
export { KernelError } from './kernels/kernel-error.ts';
export { mulberry32, type RandomTensorOptions, type Rng, randomTensor } from './kernels/reference/random.ts';
export { createReferenceBackend } from './kernels/reference/reference-backend.ts';
export {
  type BackendFallback,
  type BackendPreference,
  type SelectBackendOptions,
  selectBackend,
} from './kernels/select-backend.ts';

// Model files
export {
  assertWeightsMatch,
  configProblem,
  headDim,
  kvDim,
  type LlamaConfig,
  type LlamaLayerWeights,
  type LlamaWeights,
  layerShapes,
  parameterCount,
} from './model/llama-config.ts';
export {
  type Llama2cCheckpoint,
  LLAMA2C_MAGIC,
  parseLlama2cCheckpoint,
  type SerializeLlama2cOptions,
  serializeLlama2cCheckpoint,
} from './model/llama2c-checkpoint.ts';
export {
  type LoadHuggingFaceOptions,
  llamaConfigFromHf,
  llamaWeightsFromSafetensors,
  loadHuggingFace,
} from './model/load-hugging-face.ts';
export { type FileSource, type LoadLlama2cOptions, loadLlama2c } from './model/load-llama2c.ts';
export { ModelFileError, type ModelFileErrorOptions } from './model/model-file-error.ts';
export { interleavedToRotateHalf, rotateHalfToInterleaved } from './model/rope-permute.ts';
export {
  float16ToFloat32,
  float32ToBfloat16,
  float32ToFloat16,
  parseSafetensors,
  type SafetensorsDtype,
  type SafetensorsInput,
  type SafetensorsTensor,
  serializeSafetensors,
} from './model/safetensors.ts';

// Runtime
export {
  type ForwardOptions,
  type GenerateOptions,
  type GenerateResult,
  type InferencePath,
  KvCache,
  LlamaModel,
  type LlamaModelCreateInit,
  type LlamaModelInit,
} from './model/llama-model.ts';
export { argmax, logSoftmax, type SampleOptions, sampleToken } from './model/sampling.ts';

// Tokenizers
export { HfBpeTokenizer, type HfBpeTokenizerSpec, parseHfTokenizerJson } from './tokenizer/hf-tokenizer.ts';
export {
  Llama2cTokenizer,
  type Llama2cVocabEntry,
  parseLlama2cTokenizer,
  serializeLlama2cTokenizer,
} from './tokenizer/llama2c-tokenizer.ts';
export { llama2cToTokenizerJson } from './tokenizer/llama2c-to-tokenizer-json.ts';
export type { DecodeOptions, EncodeOptions, Tokenizer } from './tokenizer/tokenizer.ts';

// dspy-ts integration
export {
  CHAT_TEMPLATE_NAME,
  type ChatTemplateOptions,
  LocalLM,
  type LocalLMDefaults,
  type LocalLMOptions,
  renderChatTemplate,
} from './local-lm.ts';

// gpu.js backend (GPU mode in browsers; the browser bundle is the `./browser` export)
export {
  createGpuJsBackend,
  type DeviceLimits,
  FLAT_INDEX_LIMIT,
  GPU_MODES,
  type GpuJsBackend,
  type GpuJsBackendOptions,
  type GpuJsMode,
} from './kernels/gpujs/index.ts';

// WebAssembly SIMD backend (the fast CPU default in Node)
export type { WasmKernelVariant } from './kernels/wasm/kernel-module.ts';
export { createWasmBackend, type WasmBackend, type WasmBackendOptions } from './kernels/wasm/wasm-backend.ts';

// A core Finetuner that compiles dspy-ts programs into local weights (BootstrapFinetune + SMT)
export {
  FinetunedLocalLM,
  SMT_TRAIN_KWARGS,
  SMTFinetuner,
  type SMTFinetunerOptions,
  type SMTTrainingReport,
  type SMTTrainKwargs,
} from './smt-finetuner.ts';

// Fine-tuning: full, LoRA, DoRA and Sparse Matrix Tuning (Node only: checkpoints and export use node:fs)
export * from './training/index.ts';
