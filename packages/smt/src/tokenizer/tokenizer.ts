/**
 * The tokenizer contract shared by the llama2.c (`tokenizer.bin`) and Hugging Face (`tokenizer.json`) loaders.
 *
 * @module
 */

/** Options of {@link Tokenizer.encode}. */
export interface EncodeOptions {
  /** Prepend the beginning-of-sequence token (default true). */
  bos?: boolean;
  /** Append the end-of-sequence token (default false). */
  eos?: boolean;
  /**
   * Add SentencePiece's dummy-prefix space before non-empty text (default true). Turn it off to encode a
   * continuation that directly follows earlier text.
   */
  dummyPrefix?: boolean;
}

/** Options of {@link Tokenizer.decode}. */
export interface DecodeOptions {
  /**
   * The token that preceded `tokens[0]`. A piece's leading space is stripped when it follows BOS, as
   * SentencePiece does; pass the last prompt token when decoding a continuation.
   */
  prevToken?: number;
}

/** A SentencePiece-style BPE tokenizer over a fixed vocabulary. */
export interface Tokenizer {
  /** Number of token ids. */
  readonly vocabSize: number;
  /** Beginning-of-sequence id. */
  readonly bosId: number;
  /** End-of-sequence id. */
  readonly eosId: number;
  /** Text to token ids. */
  encode(text: string, options?: EncodeOptions): number[];
  /** Token ids to text (invalid UTF-8 from partial byte tokens becomes U+FFFD). */
  decode(tokens: readonly number[], options?: DecodeOptions): string;
  /** The raw bytes token `token` contributes to the text when it follows `prevToken`. */
  tokenBytes(token: number, prevToken?: number): Uint8Array;
  /** The vocabulary entry of `token`, as stored in the file. */
  piece(token: number): string;
}

const utf8 = new TextEncoder();

/** Parses a byte-fallback piece such as `<0x0A>` into its byte value, or returns undefined. */
export function parseBytePiece(piece: string): number | undefined {
  const match = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
  return match ? Number.parseInt(match[1]!, 16) : undefined;
}

/** UTF-8 bytes of a string. */
export function utf8Bytes(text: string): Uint8Array {
  return utf8.encode(text);
}

/** Concatenates byte chunks and decodes them as UTF-8, replacing invalid sequences with U+FFFD. */
export function decodeUtf8Chunks(chunks: readonly Uint8Array[]): string {
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder('utf-8').decode(bytes);
}
