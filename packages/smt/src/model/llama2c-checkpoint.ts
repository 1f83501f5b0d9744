/**
 * Reading and writing llama2.c checkpoints: the legacy v0 format (`export.py::legacy_export`, a 28-byte header
 * whose vocab_size sign flags an unshared classifier) and the v1 fp32 format (`version1_export`, a 256-byte
 * header starting with magic `0x616b3432` "ak42", version 1, the 7 ints and a `shared_classifier` byte).
 * All values are little-endian; tensors are fp32 row-major in PyTorch `[out, in]` layout.
 *
 * @module
 */

import {
  configProblem,
  headDim,
  kvDim,
  type LlamaConfig,
  type LlamaLayerWeights,
  type LlamaWeights,
} from './llama-config.ts';
import { ModelFileError } from './model-file-error.ts';
import { rotateHalfToInterleaved } from './rope-permute.ts';

/** Magic number of v1/v2 files: the ASCII bytes "ak42" read as a little-endian uint32. */
export const LLAMA2C_MAGIC = 0x616b3432;
const V0_HEADER_BYTES = 28;
const V1_HEADER_BYTES = 256;
const HEADER_FIELDS = ['dim', 'hidden_dim', 'n_layers', 'n_heads', 'n_kv_heads', 'vocab_size', 'seq_len'] as const;

/** A parsed llama2.c checkpoint. */
export interface Llama2cCheckpoint {
  /** The format version found in the file (0 = legacy). */
  version: 0 | 1;
  /** Configuration from the header (RMSNorm eps 1e-5, RoPE base 10000, interleaved layout, as llama2.c uses). */
  config: LlamaConfig;
  /** The weights, copied out of the file buffer. */
  weights: LlamaWeights;
}

/** One tensor group in file order: `count` consecutive tensors of `size` floats each. */
interface Segment {
  name: string;
  count: number;
  shape: number[];
  assign?: (tensors: Float32Array[]) => void;
}

function formatHeader(values: readonly number[]): string {
  return HEADER_FIELDS.map((f, i) => `${f}=${values[i]}`).join(', ');
}

/**
 * Parses a llama2.c checkpoint (v0 legacy or v1 "ak42"). Throws a {@link ModelFileError} naming the header
 * field or tensor at fault and the expected versus found size when the file is malformed.
 *
 * @example
 * ```ts
 * const { config, weights } = parseLlama2cCheckpoint(await readFile('stories260K.bin'), 'stories260K.bin');
 * config.nKvHeads; // 4
 * ```
 */
export function parseLlama2cCheckpoint(bytes: Uint8Array, file = 'checkpoint'): Llama2cCheckpoint {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (field: string, message: string): never => {
    throw new ModelFileError(`${file}: ${message}`, { file, field });
  };
  if (bytes.length < 4) {
    fail(
      'header',
      `file is ${bytes.length} bytes long, too short for a llama2.c header (at least ${V0_HEADER_BYTES} bytes).`,
    );
  }
  const magic = view.getUint32(0, true);
  let version: 0 | 1;
  let headerBytes: number;
  let values: number[];
  let shared: boolean;
  if (magic === LLAMA2C_MAGIC) {
    if (bytes.length < V1_HEADER_BYTES) {
      fail('header', `truncated header: a v1 header is ${V1_HEADER_BYTES} bytes, the file has ${bytes.length}.`);
    }
    const found = view.getInt32(4, true);
    if (found !== 1) {
      fail(
        'version',
        `unsupported version ${found} in header field 'version'; expected 1 (fp32)` +
          (found === 2 ? ' — version 2 is Q8_0-quantised, export with --version 1 or 0 instead.' : '.'),
      );
    }
    version = 1;
    headerBytes = V1_HEADER_BYTES;
    values = HEADER_FIELDS.map((_, i) => view.getInt32(8 + 4 * i, true));
    const flag = view.getUint8(36);
    if (flag > 1) fail('shared_classifier', `header field shared_classifier must be 0 or 1, found ${flag}.`);
    shared = flag === 1;
    if (values[5]! <= 0)
      fail('vocab_size', `header field vocab_size must be positive in a v1 file, found ${values[5]}.`);
  } else {
    if (bytes.length < V0_HEADER_BYTES) {
      fail('header', `truncated header: a legacy v0 header is ${V0_HEADER_BYTES} bytes, the file has ${bytes.length}.`);
    }
    version = 0;
    headerBytes = V0_HEADER_BYTES;
    values = HEADER_FIELDS.map((_, i) => view.getInt32(4 * i, true));
    shared = values[5]! > 0;
    // The legacy format signals an unshared classifier with a negative vocab_size.
    values[5] = Math.abs(values[5]!);
  }
  const config: LlamaConfig = {
    dim: values[0]!,
    hiddenDim: values[1]!,
    nLayers: values[2]!,
    nHeads: values[3]!,
    nKvHeads: values[4]!,
    vocabSize: values[5]!,
    seqLen: values[6]!,
    normEps: 1e-5,
    ropeBase: 10000,
    ropeLayout: 'interleaved',
    sharedClassifier: shared,
  };
  const problem = configProblem(config);
  if (problem) {
    const hint =
      version === 0
        ? ` The file has no v1 magic (expected 0x${LLAMA2C_MAGIC.toString(16)} "ak42", found 0x${magic.toString(16).padStart(8, '0')}), so it was read as a legacy v0 header.`
        : '';
    fail(
      problem.field,
      `bad header field ${problem.field}: ${problem.message} (header: ${formatHeader(values)}).${hint}`,
    );
  }

  const { dim, hiddenDim, nLayers, vocabSize, seqLen } = config;
  const kv = kvDim(config);
  const hs = headDim(config);
  const layers: LlamaLayerWeights[] = Array.from({ length: nLayers }, () => ({}) as LlamaLayerWeights);
  const perLayer =
    (key: keyof LlamaLayerWeights) =>
    (tensors: Float32Array[]): void => {
      tensors.forEach((t, l) => {
        layers[l]![key] = t;
      });
    };
  let tokenEmbedding: Float32Array = new Float32Array(0);
  let finalNorm: Float32Array = new Float32Array(0);
  let classifier: Float32Array | undefined;
  const embedding: Segment = {
    name: 'token_embedding',
    count: 1,
    shape: [vocabSize, dim],
    assign: ([t]) => (tokenEmbedding = t!),
  };
  const attnNorm: Segment = { name: 'rms_att_weight', count: nLayers, shape: [dim], assign: perLayer('attnNorm') };
  const ffnNorm: Segment = { name: 'rms_ffn_weight', count: nLayers, shape: [dim], assign: perLayer('ffnNorm') };
  const final: Segment = { name: 'rms_final_weight', count: 1, shape: [dim], assign: ([t]) => (finalNorm = t!) };
  const matrices: Segment[] = [
    { name: 'wq', count: nLayers, shape: [dim, dim], assign: perLayer('wq') },
    { name: 'wk', count: nLayers, shape: [kv, dim], assign: perLayer('wk') },
    { name: 'wv', count: nLayers, shape: [kv, dim], assign: perLayer('wv') },
    { name: 'wo', count: nLayers, shape: [dim, dim], assign: perLayer('wo') },
  ];
  const ffn: Segment[] = [
    { name: 'w1', count: nLayers, shape: [hiddenDim, dim], assign: perLayer('w1') },
    { name: 'w2', count: nLayers, shape: [dim, hiddenDim], assign: perLayer('w2') },
    { name: 'w3', count: nLayers, shape: [hiddenDim, dim], assign: perLayer('w3') },
  ];
  const wcls: Segment = { name: 'wcls', count: 1, shape: [vocabSize, dim], assign: ([t]) => (classifier = t!) };
  const segments: Segment[] =
    version === 0
      ? [
          embedding,
          attnNorm,
          ...matrices,
          ffnNorm,
          ...ffn,
          final,
          // RoPE tables that llama2.c no longer reads; we recompute them too.
          { name: 'freq_cis_real', count: 1, shape: [seqLen, hs / 2] },
          { name: 'freq_cis_imag', count: 1, shape: [seqLen, hs / 2] },
        ]
      : [attnNorm, ffnNorm, final, embedding, ...matrices, ...ffn];
  if (!shared) segments.push(wcls);

  const segmentBytes = (s: Segment) => 4 * s.count * s.shape.reduce((a, b) => a * b, 1);
  const expectedSize = headerBytes + segments.reduce((sum, s) => sum + segmentBytes(s), 0);
  const describe = () =>
    `expected ${expectedSize} bytes for v${version} header ${formatHeader(values)} ` +
    `(${shared ? 'shared' : 'unshared'} classifier), found ${bytes.length}`;
  let offset = headerBytes;
  for (const segment of segments) {
    const size = segment.shape.reduce((a, b) => a * b, 1);
    const end = offset + segmentBytes(segment);
    if (end > bytes.length) {
      const shape = `${segment.count > 1 ? `${segment.count} × ` : ''}[${segment.shape.join(', ')}]`;
      fail(
        segment.name,
        `truncated in tensor '${segment.name}' (${shape} fp32 = ${end - offset} bytes at offset ${offset}): ` +
          `the file ends ${end - bytes.length} bytes early; ${describe()}.`,
      );
    }
    if (segment.assign) {
      const tensors = Array.from({ length: segment.count }, (_, i) => {
        const start = offset + 4 * size * i;
        // Copy so the weights are aligned, writable and independent of the file buffer.
        return new Float32Array(bytes.slice(start, start + 4 * size).buffer);
      });
      segment.assign(tensors);
    }
    offset = end;
  }
  if (offset !== bytes.length) {
    fail(
      'size',
      `file size does not match the header: ${describe()} (${bytes.length - offset} extra bytes after the last ` +
        `tensor '${segments.at(-1)!.name}'); a header field (e.g. hidden_dim or vocab_size's sign) or a tensor size is wrong.`,
    );
  }
  return { version, config, weights: { tokenEmbedding, layers, finalNorm, classifier: classifier ?? tokenEmbedding } };
}

/** Options of {@link serializeLlama2cCheckpoint}. */
export interface SerializeLlama2cOptions {
  /** 0 = legacy (what stories260K uses), 1 = "ak42" fp32 with a 256-byte header (default 1). */
  version?: 0 | 1;
}

/**
 * Writes a model in llama2.c checkpoint format, readable by `run.c` and {@link parseLlama2cCheckpoint}.
 * Rotate-half (Hugging Face) q/k rows are permuted to llama2.c's interleaved layout. The format stores neither
 * RMSNorm eps nor RoPE base; llama2.c assumes 1e-5 and 10000.
 */
export function serializeLlama2cCheckpoint(
  config: LlamaConfig,
  weights: LlamaWeights,
  options: SerializeLlama2cOptions = {},
): Uint8Array {
  const version = options.version ?? 1;
  const { dim, nLayers, nHeads, nKvHeads, seqLen } = config;
  const hs = headDim(config);
  const toInterleaved = (w: Float32Array, heads: number) =>
    config.ropeLayout === 'rotate-half' ? rotateHalfToInterleaved(w, heads, dim) : w;
  const layers = weights.layers.map((l) => ({
    ...l,
    wq: toInterleaved(l.wq, nHeads),
    wk: toInterleaved(l.wk, nKvHeads),
  }));
  const each = (key: keyof LlamaLayerWeights) => layers.map((l) => l[key]);
  const shared = config.sharedClassifier;
  const header = [config.dim, config.hiddenDim, nLayers, nHeads, nKvHeads, config.vocabSize, seqLen];
  let tensors: Float32Array[];
  let headerBytes: Uint8Array;
  if (version === 0) {
    const cos = new Float32Array(seqLen * (hs / 2));
    const sin = new Float32Array(seqLen * (hs / 2));
    for (let pos = 0; pos < seqLen; pos++) {
      for (let i = 0; i < hs / 2; i++) {
        const angle = pos * config.ropeBase ** ((-2 * i) / hs);
        cos[pos * (hs / 2) + i] = Math.cos(angle);
        sin[pos * (hs / 2) + i] = Math.sin(angle);
      }
    }
    tensors = [
      weights.tokenEmbedding,
      ...each('attnNorm'),
      ...each('wq'),
      ...each('wk'),
      ...each('wv'),
      ...each('wo'),
      ...each('ffnNorm'),
      ...each('w1'),
      ...each('w2'),
      ...each('w3'),
      weights.finalNorm,
      cos,
      sin,
    ];
    headerBytes = new Uint8Array(V0_HEADER_BYTES);
    const view = new DataView(headerBytes.buffer);
    header.forEach((v, i) => {
      view.setInt32(4 * i, i === 5 && !shared ? -v : v, true);
    });
  } else {
    tensors = [
      ...each('attnNorm'),
      ...each('ffnNorm'),
      weights.finalNorm,
      weights.tokenEmbedding,
      ...each('wq'),
      ...each('wk'),
      ...each('wv'),
      ...each('wo'),
      ...each('w1'),
      ...each('w2'),
      ...each('w3'),
    ];
    headerBytes = new Uint8Array(V1_HEADER_BYTES);
    const view = new DataView(headerBytes.buffer);
    view.setUint32(0, LLAMA2C_MAGIC, true);
    view.setInt32(4, 1, true);
    header.forEach((v, i) => {
      view.setInt32(8 + 4 * i, v, true);
    });
    view.setUint8(36, shared ? 1 : 0);
  }
  if (!shared) tensors.push(weights.classifier);
  const out = new Uint8Array(headerBytes.length + tensors.reduce((s, t) => s + 4 * t.length, 0));
  out.set(headerBytes, 0);
  let offset = headerBytes.length;
  for (const t of tensors) {
    out.set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength), offset);
    offset += t.byteLength;
  }
  return out;
}
