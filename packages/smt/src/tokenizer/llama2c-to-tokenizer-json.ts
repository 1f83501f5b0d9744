/**
 * Conversion of a llama2.c vocabulary into a Hugging Face `tokenizer.json`, for exporting models to the HF
 * format. Merges are derived the way `transformers`' SentencePiece converter does: every split of a piece into
 * two vocabulary pieces becomes a merge, ranked by the merged piece's score (higher score = earlier merge).
 *
 * @module
 */

import type { Llama2cTokenizer } from './llama2c-tokenizer.ts';
import { parseBytePiece } from './tokenizer.ts';

const SPACE_MARK = '▁';
const SPECIALS = ['<unk>', '<s>', '</s>'];

/**
 * Builds a `tokenizer.json` object (LLaMA style: `Prepend ▁` + `Replace ' '→▁` normalizer, BPE with byte
 * fallback) that encodes text to the same ids as `tokenizer`.
 *
 * @example
 * ```ts
 * const json = llama2cToTokenizerJson(parseLlama2cTokenizer(bytes, 512));
 * await writeFile('tokenizer.json', JSON.stringify(json));
 * ```
 */
export function llama2cToTokenizerJson(tokenizer: Llama2cTokenizer): Record<string, unknown> {
  const pieces = Array.from({ length: tokenizer.vocabSize }, (_, id) =>
    id < SPECIALS.length ? SPECIALS[id]! : tokenizer.piece(id).replaceAll(' ', SPACE_MARK),
  );
  const vocab: Record<string, number> = {};
  pieces.forEach((piece, id) => {
    if (!(piece in vocab)) vocab[piece] = id;
  });
  const mergeable = (id: number) => id >= SPECIALS.length && parseBytePiece(pieces[id]!) === undefined;
  const byScore = pieces
    .map((_, id) => id)
    .filter((id) => mergeable(id) && [...pieces[id]!].length > 1)
    .sort((a, b) => tokenizer.score(b) - tokenizer.score(a) || a - b);
  const merges: [string, string][] = [];
  for (const id of byScore) {
    const chars = [...pieces[id]!];
    for (let k = 1; k < chars.length; k++) {
      const left = chars.slice(0, k).join('');
      const right = chars.slice(k).join('');
      const l = vocab[left];
      const r = vocab[right];
      if (l !== undefined && r !== undefined && mergeable(l) && mergeable(r)) merges.push([left, right]);
    }
  }
  return {
    version: '1.0',
    added_tokens: SPECIALS.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: SPACE_MARK },
        { type: 'Replace', pattern: { String: ' ' }, content: SPACE_MARK },
      ],
    },
    pre_tokenizer: null,
    post_processor: null,
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: SPACE_MARK }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      vocab,
      merges,
    },
  };
}
