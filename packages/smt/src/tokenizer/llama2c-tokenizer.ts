/**
 * The llama2.c `tokenizer.bin` format and its encoder/decoder, reproducing `run.c` (`build_tokenizer`, `encode`,
 * `decode`) so that token ids match llama2.c exactly.
 *
 * Format (little-endian): `uint32 max_token_length`, then for each of the model's `vocab_size` tokens
 * `float32 score, int32 len, len bytes of UTF-8`. The vocabulary size is not stored; it comes from the model.
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

/** One vocabulary entry of a llama2.c tokenizer. */
export interface Llama2cVocabEntry {
  /** The piece, with SentencePiece's `▁` already replaced by a space. */
  piece: string;
  /** Merge priority: when several adjacent pairs can merge, the one forming the highest-scoring piece wins. */
  score: number;
}

/** llama2.c fixes these ids (SentencePiece's defaults). */
const BOS = 1;
const EOS = 2;
/** Byte-fallback tokens `<0x00>`…`<0xFF>` start right after `<unk>`, `<s>`, `</s>`. */
const BYTE_OFFSET = 3;

/**
 * The llama2.c tokenizer: BPE that repeatedly merges the adjacent pair whose concatenation is the
 * highest-scoring vocabulary entry, with byte fallback and SentencePiece's dummy-prefix space.
 *
 * @example
 * ```ts
 * const tok = parseLlama2cTokenizer(await readFile('tok512.bin'), 512);
 * tok.encode('Once upon a time'); // [1, …]
 * ```
 */
export class Llama2cTokenizer implements Tokenizer {
  /** Number of token ids. */
  readonly vocabSize: number;
  /** Beginning-of-sequence id (1). */
  readonly bosId = BOS;
  /** End-of-sequence id (2). */
  readonly eosId = EOS;
  /** Longest piece in bytes, as stored in the file header. */
  readonly maxTokenLength: number;
  private readonly entries: readonly Llama2cVocabEntry[];
  private readonly ids = new Map<string, number>();
  private readonly bytes: Uint8Array[];

  /** Builds a tokenizer from its vocabulary (index = token id). */
  constructor(entries: readonly Llama2cVocabEntry[], maxTokenLength?: number) {
    this.entries = entries;
    this.vocabSize = entries.length;
    this.bytes = entries.map((e) => utf8Bytes(e.piece));
    this.maxTokenLength = maxTokenLength ?? Math.max(0, ...this.bytes.map((b) => b.length));
    // run.c looks pieces up by exact string; the first id wins if a piece were ever duplicated.
    entries.forEach((e, id) => {
      if (!this.ids.has(e.piece)) this.ids.set(e.piece, id);
    });
  }

  /** The vocabulary entry of `token`. */
  piece(token: number): string {
    return this.entry(token).piece;
  }

  /** The merge score of `token`. */
  score(token: number): number {
    return this.entry(token).score;
  }

  /** Text to ids exactly as llama2.c's `encode(tokenizer, text, bos, eos, …)`. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const { bos = true, eos = false, dummyPrefix = true } = options;
    const tokens: number[] = [];
    if (bos) tokens.push(BOS);
    if (text.length > 0 && dummyPrefix) tokens.push(...this.lookupOrBytes(' '));
    for (const codePoint of text) tokens.push(...this.lookupOrBytes(codePoint));
    this.mergePairs(tokens);
    if (eos) tokens.push(EOS);
    return tokens;
  }

  /** Ids to text; byte tokens contribute raw bytes, and a leading space after BOS is dropped. */
  decode(tokens: readonly number[], options: DecodeOptions = {}): string {
    let prev = options.prevToken;
    const chunks: Uint8Array[] = [];
    for (const token of tokens) {
      chunks.push(this.tokenBytes(token, prev));
      prev = token;
    }
    return decodeUtf8Chunks(chunks);
  }

  /** The bytes `token` contributes after `prevToken`, as llama2.c's `decode`. */
  tokenBytes(token: number, prevToken?: number): Uint8Array {
    let piece = this.entry(token).piece;
    let bytes = this.bytes[token]!;
    // SentencePiece strips the dummy-prefix space of the first piece after BOS.
    if (prevToken === BOS && piece.startsWith(' ')) {
      piece = piece.slice(1);
      bytes = bytes.subarray(1);
    }
    const byte = parseBytePiece(piece);
    return byte === undefined ? bytes : Uint8Array.of(byte);
  }

  private entry(token: number): Llama2cVocabEntry {
    const entry = this.entries[token];
    if (entry === undefined) throw new RangeError(`token id ${token} is outside the vocabulary [0, ${this.vocabSize})`);
    return entry;
  }

  /** The id of one code point, or its UTF-8 bytes as byte-fallback ids. */
  private lookupOrBytes(codePoint: string): number[] {
    const id = this.ids.get(codePoint);
    if (id !== undefined) return [id];
    return Array.from(utf8Bytes(codePoint), (b) => b + BYTE_OFFSET);
  }

  private mergePairs(tokens: number[]): void {
    for (;;) {
      let bestScore = -1e10;
      let bestId = -1;
      let bestIdx = -1;
      for (let i = 0; i < tokens.length - 1; i++) {
        const id = this.ids.get(this.entries[tokens[i]!]!.piece + this.entries[tokens[i + 1]!]!.piece);
        // Strictly greater: on equal scores the leftmost pair wins, as in run.c.
        if (id !== undefined && this.entries[id]!.score > bestScore) {
          bestScore = this.entries[id]!.score;
          bestId = id;
          bestIdx = i;
        }
      }
      if (bestIdx < 0) return;
      tokens.splice(bestIdx, 2, bestId);
    }
  }
}

/**
 * Parses a llama2.c `tokenizer.bin`. `vocabSize` comes from the model header (the file does not store it).
 * Throws a {@link ModelFileError} naming the entry and byte offset when the file is truncated or a length is
 * impossible.
 */
export function parseLlama2cTokenizer(bytes: Uint8Array, vocabSize: number, file = 'tokenizer.bin'): Llama2cTokenizer {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder('utf-8');
  const need = (offset: number, count: number, what: string, field: string) => {
    if (offset + count > bytes.length) {
      throw new ModelFileError(
        `${file}: truncated while reading ${what}: expected ${count} bytes at offset ${offset}, but the file ` +
          `has only ${bytes.length - offset} bytes left (file size ${bytes.length}, vocab_size ${vocabSize} from the model).`,
        { file, field },
      );
    }
  };
  need(0, 4, 'the max_token_length header', 'max_token_length');
  const maxTokenLength = view.getUint32(0, true);
  const entries: Llama2cVocabEntry[] = [];
  let offset = 4;
  for (let id = 0; id < vocabSize; id++) {
    need(offset, 8, `the score and length of token ${id}`, `token ${id}`);
    const score = view.getFloat32(offset, true);
    const len = view.getInt32(offset + 4, true);
    if (len < 0 || len > maxTokenLength) {
      throw new ModelFileError(
        `${file}: token ${id} has length ${len} at offset ${offset + 4}; expected 0 ≤ length ≤ max_token_length ` +
          `(${maxTokenLength}).`,
        { file, field: `token ${id}` },
      );
    }
    offset += 8;
    need(offset, len, `the ${len}-byte piece of token ${id}`, `token ${id}`);
    entries.push({ piece: decoder.decode(bytes.subarray(offset, offset + len)), score });
    offset += len;
  }
  if (offset !== bytes.length) {
    throw new ModelFileError(
      `${file}: ${bytes.length - offset} unexpected trailing bytes after ${vocabSize} tokens (expected file size ` +
        `${offset}, found ${bytes.length}); the tokenizer does not match the model's vocab_size.`,
      { file, field: 'vocab_size' },
    );
  }
  return new Llama2cTokenizer(entries, maxTokenLength);
}

/** Writes a vocabulary in llama2.c `tokenizer.bin` format (the inverse of {@link parseLlama2cTokenizer}). */
export function serializeLlama2cTokenizer(entries: readonly Llama2cVocabEntry[]): Uint8Array {
  const pieces = entries.map((e) => utf8Bytes(e.piece));
  const size = 4 + pieces.reduce((s, p) => s + 8 + p.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.max(0, ...pieces.map((p) => p.length)), true);
  let offset = 4;
  entries.forEach((e, i) => {
    view.setFloat32(offset, e.score, true);
    view.setInt32(offset + 4, pieces[i]!.length, true);
    out.set(pieces[i]!, offset + 8);
    offset += 8 + pieces[i]!.length;
  });
  return out;
}
