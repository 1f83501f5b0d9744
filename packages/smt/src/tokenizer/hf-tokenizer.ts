/**
 * A Hugging Face `tokenizer.json` reader for SentencePiece-style LLaMA tokenizers: a `BPE` model with ranked
 * merges, `byte_fallback`, and the `▁` word-boundary marker (added by a `Prepend`/`Replace` normalizer or by a
 * `Metaspace` pre-tokenizer). Byte-level (GPT-2 style) tokenizers are rejected with a clear error.
 *
 * @module
 */

import { ModelFileError } from '../model/model-file-error.ts';
import {
  type DecodeOptions,
  decodeUtf8Chunks,
  type EncodeOptions,
  parseBytePiece,
  type Tokenizer,
  utf8Bytes,
} from './tokenizer.ts';

const SPACE_MARK = '▁';

/** The parts of a `tokenizer.json` that {@link HfBpeTokenizer} uses. */
export interface HfBpeTokenizerSpec {
  /** Piece → id. */
  vocab: Record<string, number>;
  /** Merges in priority order (first = applied first), each as a pair of pieces. */
  merges: ReadonlyArray<readonly [string, string]>;
  /** Unknown characters become `<0xXX>` byte tokens instead of `unkId`. */
  byteFallback: boolean;
  /** Id used for unknown characters without byte fallback. */
  unkId: number | undefined;
  /** Beginning-of-sequence id. */
  bosId: number;
  /** End-of-sequence id. */
  eosId: number;
  /** Prefix non-empty text with `▁` (SentencePiece's dummy prefix). */
  addPrefixSpace: boolean;
  /** Split into words at each `▁` before BPE (Metaspace `split: true`). */
  splitOnSpace: boolean;
  /** Ids decoded as nothing (special tokens such as `<s>`). */
  specialIds: readonly number[];
}

/**
 * BPE by merge rank over code points with byte fallback, as Hugging Face `tokenizers` does for LLaMA.
 *
 * @example
 * ```ts
 * const tok = parseHfTokenizerJson(await readFile('tokenizer.json', 'utf8'));
 * tok.decode(tok.encode('Hello world')); // 'Hello world'
 * ```
 */
export class HfBpeTokenizer implements Tokenizer {
  /** Number of token ids (largest id + 1). */
  readonly vocabSize: number;
  /** Beginning-of-sequence id. */
  readonly bosId: number;
  /** End-of-sequence id. */
  readonly eosId: number;
  private readonly spec: HfBpeTokenizerSpec;
  private readonly pieces: string[] = [];
  private readonly ids: Map<string, number>;
  /** `${left},${right}` → merge rank and resulting id. */
  private readonly merges = new Map<string, { rank: number; id: number }>();
  private readonly byteIds: number[] = [];
  private readonly special: Set<number>;

  /** Builds a tokenizer from an already-parsed specification. */
  constructor(spec: HfBpeTokenizerSpec) {
    this.spec = spec;
    this.ids = new Map(Object.entries(spec.vocab));
    for (const [piece, id] of this.ids) this.pieces[id] = piece;
    this.vocabSize = this.pieces.length;
    this.bosId = spec.bosId;
    this.eosId = spec.eosId;
    this.special = new Set(spec.specialIds);
    spec.merges.forEach(([left, right], rank) => {
      const a = this.ids.get(left);
      const b = this.ids.get(right);
      const id = this.ids.get(left + right);
      // A merge whose parts or result are missing from the vocabulary can never fire; tokenizers ignores it too.
      if (a === undefined || b === undefined || id === undefined) return;
      const key = `${a},${b}`;
      if (!this.merges.has(key)) this.merges.set(key, { rank, id });
    });
    for (let byte = 0; byte < 256; byte++) {
      const id = this.ids.get(`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`);
      if (id !== undefined) this.byteIds[byte] = id;
    }
  }

  /** The vocabulary entry of `token`. */
  piece(token: number): string {
    const piece = this.pieces[token];
    if (piece === undefined) throw new RangeError(`token id ${token} is not in the vocabulary`);
    return piece;
  }

  /** Text to ids: normalise spaces to `▁`, add the prefix, BPE each word, optional BOS/EOS. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const { bos = true, eos = false, dummyPrefix = true } = options;
    const tokens: number[] = [];
    if (bos) tokens.push(this.bosId);
    if (text.length > 0) {
      let normalized = text.replaceAll(' ', SPACE_MARK);
      if (this.spec.addPrefixSpace && dummyPrefix) normalized = SPACE_MARK + normalized;
      const words = this.spec.splitOnSpace ? (normalized.match(/▁[^▁]*|[^▁]+/gu) ?? []) : [normalized];
      for (const word of words) tokens.push(...this.bpe(word));
    }
    if (eos) tokens.push(this.eosId);
    return tokens;
  }

  /** Ids to text: `▁` → space, `<0xXX>` → raw byte, special tokens dropped, leading space after BOS (or at the start) stripped. */
  decode(tokens: readonly number[], options: DecodeOptions = {}): string {
    // Hugging Face's `Strip` decoder removes the first leading space of a decoded sequence.
    let prev = options.prevToken ?? this.bosId;
    const chunks: Uint8Array[] = [];
    for (const token of tokens) {
      chunks.push(this.tokenBytes(token, prev));
      // Special tokens produce no text, so the next piece is still "first".
      if (!this.special.has(token)) prev = token;
    }
    return decodeUtf8Chunks(chunks);
  }

  /** The bytes `token` contributes after `prevToken`. */
  tokenBytes(token: number, prevToken?: number): Uint8Array {
    if (this.special.has(token)) return new Uint8Array(0);
    const piece = this.piece(token);
    const byte = parseBytePiece(piece);
    if (byte !== undefined) return Uint8Array.of(byte);
    let text = piece.replaceAll(SPACE_MARK, ' ');
    if (prevToken === this.bosId && text.startsWith(' ')) text = text.slice(1);
    return utf8Bytes(text);
  }

  private bpe(word: string): number[] {
    const symbols: number[] = [];
    for (const char of word) {
      const id = this.ids.get(char);
      if (id !== undefined) symbols.push(id);
      else if (this.spec.byteFallback && [...utf8Bytes(char)].every((b) => this.byteIds[b] !== undefined)) {
        for (const b of utf8Bytes(char)) symbols.push(this.byteIds[b]!);
      } else if (this.spec.unkId !== undefined) symbols.push(this.spec.unkId);
      else throw new RangeError(`character ${JSON.stringify(char)} is not in the vocabulary and there is no <unk>`);
    }
    for (;;) {
      let best: { rank: number; id: number } | undefined;
      let bestIdx = -1;
      for (let i = 0; i < symbols.length - 1; i++) {
        const merge = this.merges.get(`${symbols[i]},${symbols[i + 1]}`);
        if (merge && (!best || merge.rank < best.rank)) {
          best = merge;
          bestIdx = i;
        }
      }
      if (!best) return symbols;
      symbols.splice(bestIdx, 2, best.id);
    }
  }
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Collects the `type`s of a normalizer / pre-tokenizer, flattening `Sequence`s. */
function flatten(component: unknown): Json[] {
  if (!isObject(component)) return [];
  if (component.type === 'Sequence') {
    const items = (component.normalizers ?? component.pretokenizers ?? component.decoders) as unknown[];
    return Array.isArray(items) ? items.flatMap(flatten) : [];
  }
  return [component];
}

/**
 * Parses a Hugging Face `tokenizer.json` (text or parsed JSON) for a SentencePiece-style LLaMA BPE tokenizer.
 * `special` supplies BOS/EOS ids when known from `config.json`; otherwise `<s>` and `</s>` are looked up.
 * Throws a {@link ModelFileError} naming the key that is missing or unsupported.
 */
export function parseHfTokenizerJson(
  source: string | Json,
  special: { bosId?: number; eosId?: number } = {},
  file = 'tokenizer.json',
): HfBpeTokenizer {
  const fail = (field: string, message: string): never => {
    throw new ModelFileError(`${file}: ${message}`, { file, field });
  };
  let json: unknown = source;
  if (typeof source === 'string') {
    try {
      json = JSON.parse(source);
    } catch (cause) {
      throw new ModelFileError(`${file}: not valid JSON (${(cause as Error).message}).`, { file, cause });
    }
  }
  if (!isObject(json)) return fail('(root)', 'expected a JSON object at the top level.');
  const model = json.model;
  if (!isObject(model)) return fail('model', "missing the 'model' object.");
  if (model.type !== undefined && model.type !== 'BPE') {
    return fail('model.type', `expected model.type "BPE", found ${JSON.stringify(model.type)}.`);
  }
  if (!isObject(model.vocab)) return fail('model.vocab', "expected 'model.vocab' to be an object of piece → id.");
  const vocab: Record<string, number> = {};
  for (const [piece, id] of Object.entries(model.vocab)) {
    if (!Number.isInteger(id) || (id as number) < 0) {
      return fail(
        'model.vocab',
        `id of piece ${JSON.stringify(piece)} must be a non-negative integer, found ${JSON.stringify(id)}.`,
      );
    }
    vocab[piece] = id as number;
  }
  const addedTokens = Array.isArray(json.added_tokens) ? json.added_tokens.filter(isObject) : [];
  for (const added of addedTokens) {
    if (typeof added.content === 'string' && Number.isInteger(added.id)) vocab[added.content] = added.id as number;
  }
  if (!Array.isArray(model.merges)) return fail('model.merges', "expected 'model.merges' to be an array.");
  const merges = model.merges.map((merge, i): [string, string] => {
    if (typeof merge === 'string') {
      const parts = merge.split(' ');
      if (parts.length === 2) return [parts[0]!, parts[1]!];
    } else if (Array.isArray(merge) && merge.length === 2 && merge.every((p) => typeof p === 'string')) {
      return [merge[0] as string, merge[1] as string];
    }
    return fail(
      `model.merges[${i}]`,
      `merge ${i} must be "left right" or ["left", "right"], found ${JSON.stringify(merge)}.`,
    );
  });
  const normalizers = flatten(json.normalizer);
  const preTokenizers = flatten(json.pre_tokenizer);
  if (preTokenizers.some((p) => p.type === 'ByteLevel')) {
    return fail(
      'pre_tokenizer',
      'byte-level (GPT-2 style) pre-tokenizers are not supported; expected a SentencePiece-style LLaMA tokenizer.',
    );
  }
  const metaspace = preTokenizers.find((p) => p.type === 'Metaspace');
  const prepend = normalizers.some((n) => n.type === 'Prepend' && n.prepend === SPACE_MARK);
  const metaspacePrefix =
    metaspace !== undefined &&
    (metaspace.prepend_scheme === undefined
      ? metaspace.add_prefix_space !== false
      : metaspace.prepend_scheme !== 'never');
  const lookup = (piece: string): number | undefined => vocab[piece];
  const bosId = special.bosId ?? lookup('<s>');
  const eosId = special.eosId ?? lookup('</s>');
  if (bosId === undefined) return fail('<s>', 'no BOS token: neither config.json bos_token_id nor a "<s>" piece.');
  if (eosId === undefined) return fail('</s>', 'no EOS token: neither config.json eos_token_id nor a "</s>" piece.');
  const unkToken = typeof model.unk_token === 'string' ? model.unk_token : '<unk>';
  const specialIds = addedTokens.filter((t) => t.special === true && Number.isInteger(t.id)).map((t) => t.id as number);
  return new HfBpeTokenizer({
    vocab,
    merges,
    byteFallback: model.byte_fallback === true,
    unkId: lookup(unkToken),
    bosId,
    eosId,
    addPrefixSpace: prepend || metaspacePrefix,
    splitOnSpace: metaspace !== undefined && metaspace.split === true,
    specialIds: [...new Set([bosId, eosId, ...specialIds])],
  });
}
