import { describe, expect, it } from 'vitest';
import { createFieldStreamParser, type FieldChunk, type StreamFormat } from './field-stream-parser.ts';

/** Feeds `text` cut at `cuts` and returns every chunk, finish included. */
function run(format: StreamFormat, pieces: readonly string[], fields?: string[]): FieldChunk[] {
  const parser = createFieldStreamParser(format, fields);
  const out: FieldChunk[] = [];
  for (const piece of pieces) out.push(...parser.push(piece));
  out.push(...parser.finish());
  return out;
}

/** Concatenated chunks per field, and whether each field got exactly one last chunk, at its end. */
function collect(chunks: readonly FieldChunk[]): Record<string, string> {
  const values: Record<string, string> = {};
  const closed = new Set<string>();
  for (const c of chunks) {
    expect(closed.has(c.field), `chunk after the last chunk of ${c.field}`).toBe(false);
    values[c.field] = (values[c.field] ?? '') + c.chunk;
    if (c.isLastChunk) closed.add(c.field);
  }
  expect([...closed].sort()).toEqual(Object.keys(values).sort());
  return values;
}

/** Every way of cutting `text` into pieces of `size`, starting at each offset below `size`. */
function cuttings(text: string, size: number): string[][] {
  const all: string[][] = [];
  for (let offset = 0; offset < size; offset++) {
    const pieces = [text.slice(0, offset)];
    for (let i = offset; i < text.length; i += size) pieces.push(text.slice(i, i + size));
    all.push(pieces.filter(Boolean));
  }
  return all;
}

const chat =
  '[[ ## reasoning ## ]]\nTwo plus two.\nIt is four.\n\n[[ ## answer ## ]]\n4 [not 5]\n\n[[ ## completed ## ]]\n';

describe('createFieldStreamParser', () => {
  it('cuts Chat replies at [[ ## field ## ]] markers for every split, including markers split across chunks', () => {
    for (const size of [1, 2, 3, 5, 7, 13, chat.length]) {
      for (const pieces of cuttings(chat, size)) {
        expect(collect(run('chat', pieces))).toEqual({ reasoning: 'Two plus two.\nIt is four.', answer: '4 [not 5]' });
      }
    }
  });

  it('streams Chat text before the reply ends and only the requested fields', () => {
    const parser = createFieldStreamParser('chat', ['answer']);
    expect(parser.push('[[ ## reasoning ## ]]\nhm\n[[ ## ans')).toEqual([]);
    expect(parser.push('wer ## ]]\nPar')).toEqual([{ field: 'answer', chunk: 'Par', isLastChunk: false }]);
    // Trailing whitespace is held back until it is known not to end the field.
    expect(parser.push('is \n')).toEqual([{ field: 'answer', chunk: 'is', isLastChunk: false }]);
    expect(parser.push('France')).toEqual([{ field: 'answer', chunk: ' \nFrance', isLastChunk: false }]);
    expect(parser.finish()).toEqual([{ field: 'answer', chunk: '', isLastChunk: true }]);
  });

  it('decodes JSON string values, passes other values raw, and survives escapes split across chunks', () => {
    const json =
      '```json\n{\n  "reasoning": "Say \\"hi\\"\\n\\u00e9\\ud83d\\ude00, {ok}",\n  "answer": [1, {"a": "]"}],\n  "score": 0.5\n}\n```';
    for (const size of [1, 2, 4, 9, json.length]) {
      for (const pieces of cuttings(json, size)) {
        expect(collect(run('json', pieces))).toEqual({
          reasoning: 'Say "hi"\né😀, {ok}',
          answer: '[1, {"a": "]"}]',
          score: '0.5',
        });
      }
    }
    expect(collect(run('json', [json], ['score']))).toEqual({ score: '0.5' });
  });

  it('cuts XML replies at <field> tags, decoding entities, for every split', () => {
    const xml = '<reasoning>\na &lt; b &amp;&amp; c\n</reasoning>\n<answer>\n<item>x</item>\n</answer>';
    for (const size of [1, 2, 3, 6, xml.length]) {
      for (const pieces of cuttings(xml, size)) {
        expect(collect(run('xml', pieces))).toEqual({ reasoning: 'a < b && c', answer: '<item>x</item>' });
      }
    }
  });

  it('closes a field left open when the reply is cut off', () => {
    expect(run('chat', ['[[ ## answer ## ]]\nPar'])).toEqual([
      { field: 'answer', chunk: 'Par', isLastChunk: false },
      { field: 'answer', chunk: '', isLastChunk: true },
    ]);
    expect(collect(run('json', ['{"answer": "Par']))).toEqual({ answer: 'Par' });
  });
});
