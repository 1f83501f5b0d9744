import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelFileError } from '../model/model-file-error.ts';
import {
  Llama2cTokenizer,
  type Llama2cVocabEntry,
  parseLlama2cTokenizer,
  serializeLlama2cTokenizer,
} from './llama2c-tokenizer.ts';

const tokBytes = new Uint8Array(
  readFileSync(new URL('../../../../../shared/models/stories260K/tok512.bin', import.meta.url)),
);
const golden = JSON.parse(
  readFileSync(new URL('../../test/fixtures/stories260k-greedy.json', import.meta.url), 'utf8'),
) as { tokens: number[]; text: string };
const tok = parseLlama2cTokenizer(tokBytes, 512, 'tok512.bin');

/** A vocabulary with the three specials and 256 byte pieces, then `extra` pieces. */
function vocabWith(extra: Llama2cVocabEntry[]): Llama2cVocabEntry[] {
  const bytes = Array.from({ length: 256 }, (_, b) => ({
    piece: `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`,
    score: 0,
  }));
  return [
    { piece: '<unk>', score: 0 },
    { piece: '\n<s>\n', score: 0 },
    { piece: '\n</s>\n', score: 0 },
    ...bytes,
    ...extra,
  ];
}

describe('tok512.bin', () => {
  it('has the documented layout', () => {
    expect(tok.vocabSize).toBe(512);
    expect(tok.maxTokenLength).toBe(7);
    expect(tok.piece(0)).toBe('<unk>');
    expect(tok.piece(1)).toBe('\n<s>\n');
    expect(tok.piece(2)).toBe('\n</s>\n');
    expect(tok.piece(3)).toBe('<0x00>');
    expect(tok.piece(13)).toBe('<0x0A>');
    expect(tok.piece(258)).toBe('<0xFF>');
  });

  it("decodes llama2.c's golden tokens to exactly the text run.c printed", () => {
    expect(tok.decode(golden.tokens, { prevToken: 1 })).toBe(golden.text);
    // The first piece after BOS loses its dummy-prefix space; byte token <0x0A> is a raw newline.
    expect(tok.decode([tok.encode('Once')[1]!], { prevToken: 1 })).toBe('Once');
    expect(tok.decode([13])).toBe('\n');
  });

  it('round-trips text through encode and decode, adding BOS and the dummy prefix', () => {
    const ids = tok.encode(golden.text);
    expect(ids[0]).toBe(1);
    expect(tok.piece(ids[1]!).startsWith(' ')).toBe(true);
    expect(tok.decode(ids.slice(1), { prevToken: 1 })).toBe(golden.text);
    // BPE should compress: far fewer tokens than characters.
    expect(ids.length).toBeLessThan(golden.text.length / 2);
  });

  it('handles empty text, BOS/EOS flags and byte fallback', () => {
    expect(tok.encode('')).toEqual([1]);
    expect(tok.encode('', { bos: false })).toEqual([]);
    expect(tok.encode('a', { bos: false, eos: true }).at(-1)).toBe(2);
    const ids = tok.encode('字', { bos: false, dummyPrefix: false });
    // '字' is not a tok512 piece, so it falls back to its UTF-8 bytes E5 AD 97 at id byte + 3.
    expect(ids).toEqual([0xe5 + 3, 0xad + 3, 0x97 + 3]);
    expect(tok.decode(ids)).toBe('字');
    // A code point that is a piece stays whole.
    expect(tok.encode('é', { bos: false, dummyPrefix: false }).map((i) => tok.piece(i))).toEqual(['é']);
  });
});

describe('BPE merge order', () => {
  const base = [
    { piece: ' ', score: -1 },
    { piece: 'a', score: -1 },
    { piece: 'b', score: -1 },
    { piece: 'c', score: -1 },
    { piece: ' a', score: -5 },
  ];
  const id = (t: Llama2cTokenizer, piece: string) =>
    Array.from({ length: t.vocabSize }, (_, i) => t.piece(i)).indexOf(piece);

  it('merges the pair forming the highest-scoring piece first', () => {
    const t1 = new Llama2cTokenizer(vocabWith([...base, { piece: 'ab', score: -2 }, { piece: 'bc', score: -3 }]));
    expect(t1.encode('abc', { bos: false }).map((i) => t1.piece(i))).toEqual([' ', 'ab', 'c']);
    const t2 = new Llama2cTokenizer(vocabWith([...base, { piece: 'ab', score: -3 }, { piece: 'bc', score: -2 }]));
    // 'bc' now wins, after which ' a' can merge.
    expect(t2.encode('abc', { bos: false }).map((i) => t2.piece(i))).toEqual([' a', 'bc']);
    expect(id(t2, ' a')).toBeGreaterThan(258);
  });

  it('breaks score ties by taking the leftmost pair', () => {
    const t = new Llama2cTokenizer(vocabWith([...base, { piece: 'aa', score: -2 }]));
    expect(t.encode('aaa', { bos: false, dummyPrefix: false }).map((i) => t.piece(i))).toEqual(['aa', 'a']);
  });
});

describe('tokenizer.bin parsing', () => {
  it('serializes and parses back the same vocabulary', () => {
    const entries = vocabWith([{ piece: ' héllo', score: -1.5 }]);
    const parsed = parseLlama2cTokenizer(serializeLlama2cTokenizer(entries), entries.length);
    expect(parsed.piece(259)).toBe(' héllo');
    expect(parsed.score(259)).toBe(-1.5);
    expect(parsed.maxTokenLength).toBe(7);
  });

  it('reports truncation and a vocabulary size mismatch', () => {
    const error = (() => {
      try {
        parseLlama2cTokenizer(tokBytes.subarray(0, 3000), 512, 'tok512.bin');
      } catch (e) {
        return e;
      }
    })();
    expect(ModelFileError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/tok512\.bin: truncated while reading .* of token \d+/);
    expect(() => parseLlama2cTokenizer(tokBytes, 500, 'tok512.bin')).toThrow(
      /unexpected trailing bytes after 500 tokens/,
    );
  });
});
