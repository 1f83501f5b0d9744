import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelFileError } from '../model/model-file-error.ts';
import { parseHfTokenizerJson } from './hf-tokenizer.ts';
import { llama2cToTokenizerJson } from './llama2c-to-tokenizer-json.ts';
import { parseLlama2cTokenizer } from './llama2c-tokenizer.ts';

const tok512 = parseLlama2cTokenizer(
  new Uint8Array(readFileSync(new URL('../../../../../shared/models/stories260K/tok512.bin', import.meta.url))),
  512,
);
const golden = JSON.parse(
  readFileSync(new URL('../../test/fixtures/stories260k-greedy.json', import.meta.url), 'utf8'),
) as { text: string };
const json = llama2cToTokenizerJson(tok512);
const hf = parseHfTokenizerJson(JSON.stringify(json));

describe('HfBpeTokenizer', () => {
  it('encodes like llama2.c on the same vocabulary (rank-ordered merges ≡ score-ordered merges)', () => {
    const texts = [
      golden.text,
      'Once upon a time',
      'Tim had a red ball. Who has it? Answer: Sue',
      '3 + 4 = 7',
      ' two  spaces ',
      '字 é',
    ];
    for (const text of texts) expect(hf.encode(text)).toEqual(tok512.encode(text));
    expect(hf.encode('')).toEqual([1]);
    expect(hf.encode('hi', { bos: false, eos: true })).toEqual(tok512.encode('hi', { bos: false, eos: true }));
  });

  it('decodes ▁ to spaces, byte tokens to bytes, strips the first space and drops special tokens', () => {
    const ids = hf.encode(golden.text);
    expect(hf.decode(ids)).toBe(golden.text);
    expect(hf.decode([...hf.encode('a\nb'), 2])).toBe('a\nb');
    expect(hf.bosId).toBe(1);
    expect(hf.eosId).toBe(2);
    expect(hf.vocabSize).toBe(512);
  });

  it('supports a Metaspace pre-tokenizer with split words', () => {
    const metaspace = {
      ...json,
      normalizer: null,
      pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: true },
    };
    const split = parseHfTokenizerJson(metaspace);
    // Splitting at word starts only forbids merges across words, which tok512 pieces never do.
    expect(split.encode('Once upon a time')).toEqual(tok512.encode('Once upon a time'));
  });

  it('rejects unsupported or malformed files with the offending key', () => {
    expect(() => parseHfTokenizerJson('{')).toThrow(ModelFileError);
    expect(() => parseHfTokenizerJson({ ...json, pre_tokenizer: { type: 'ByteLevel' } })).toThrow(
      /byte-level .* not supported/,
    );
    expect(() => parseHfTokenizerJson({ model: { type: 'Unigram', vocab: [] } })).toThrow(
      /expected model.type "BPE", found "Unigram"/,
    );
    const model = json.model as Record<string, unknown>;
    expect(() => parseHfTokenizerJson({ ...json, model: { ...model, merges: [['a']] } })).toThrow(/merge 0 must be/);
  });
});
