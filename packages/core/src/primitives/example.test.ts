import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DspyError } from '../errors.ts';
import { Example } from './example.ts';
import { History } from './history.ts';

describe('Example', () => {
  it('exposes data as attributes and through get()', () => {
    const ex = new Example({ question: 'Why?', answer: 'Because.' });
    expect(ex.question).toBe('Why?');
    expect(ex.get('answer')).toBe('Because.');
    expect(ex.get('missing', 'fallback')).toBe('fallback');
    expect('question' in ex).toBe(true);
    expect(ex.has('nope')).toBe(false);
    expect(Example.from({ a: 1 }).a).toBe(1);
  });

  it('merges a base example and extra keys without copying input keys', () => {
    const base = new Example({ a: 1, b: 2 }).withInputs('a');
    const merged = new Example(base, { b: 3, c: 4 });
    expect(merged.toDict()).toEqual({ a: 1, b: 3, c: 4 });
    expect(merged.inputKeys).toBeUndefined();
  });

  it('writes through attribute assignment and set()', () => {
    const ex = new Example<Record<string, unknown>>({ a: 1 });
    (ex as Record<string, unknown>).b = 2;
    ex.set('c', 3);
    expect(ex.toDict()).toEqual({ a: 1, b: 2, c: 3 });
    expect({ ...ex }).toEqual({ a: 1, b: 2, c: 3 });
  });

  it('hides dspy_* keys unless asked', () => {
    const ex = new Example({ q: 'x', dspy_uuid: 'u1', dspy_split: 'train' });
    expect(ex.keys()).toEqual(['q']);
    expect(ex.keys(true)).toEqual(['q', 'dspy_uuid', 'dspy_split']);
    expect(ex.values()).toEqual(['x']);
    expect(ex.items(true)).toEqual([
      ['q', 'x'],
      ['dspy_uuid', 'u1'],
      ['dspy_split', 'train'],
    ]);
    expect(ex.size).toBe(1);
    expect(ex.toDict()).toEqual({ q: 'x', dspy_uuid: 'u1', dspy_split: 'train' });
  });

  it('splits into inputs and labels after withInputs', () => {
    const ex = new Example({ question: 'q', context: 'c', answer: 'a' });
    expect(() => ex.inputs()).toThrow(
      'Inputs have not been set for this example. Use `example.withInputs()` to set them.',
    );
    expect(() => ex.labels()).toThrow(DspyError);
    const marked = ex.withInputs('question', 'context');
    expect(ex.inputKeys).toBeUndefined();
    expect([...(marked.inputKeys ?? [])]).toEqual(['question', 'context']);
    const inputs = marked.inputs();
    expect(inputs.toDict()).toEqual({ question: 'q', context: 'c' });
    expect(inputs.inputKeys).toEqual(new Set(['question', 'context']));
    expect(marked.labels().toDict()).toEqual({ answer: 'a' });
    expect(marked.labels().inputKeys).toBeUndefined();
  });

  it('copies like DSPy: overrides applied, input keys dropped', () => {
    const ex = new Example({ a: 1, b: 2 }).withInputs('a');
    const copy = ex.copy({ b: 5 });
    expect(copy.toDict()).toEqual({ a: 1, b: 5 });
    expect(copy.inputKeys).toBeUndefined();
    expect(ex.b).toBe(2);
    const without = ex.without('b', 'absent');
    expect(without.toDict()).toEqual({ a: 1 });
    expect(ex.toDict()).toEqual({ a: 1, b: 2 });
  });

  it('converts to plain data recursively', () => {
    const ex = new Example({
      nested: new Example({ x: 1 }),
      list: [new Example({ y: 2 })],
      history: new History({ messages: [{ q: 'hi' }] }),
      map: new Map([['k', 1]]),
    });
    const plain = ex.toDict();
    expect(plain).toEqual({ nested: { x: 1 }, list: [{ y: 2 }], history: { messages: [{ q: 'hi' }] }, map: { k: 1 } });
    expect(JSON.parse(JSON.stringify(ex))).toEqual(plain);
  });

  it('compares data deeply, ignoring input keys and key order', () => {
    const a = new Example({ x: [1, { y: 2 }], z: 'z' });
    expect(a.equals(new Example({ z: 'z', x: [1, { y: 2 }] }).withInputs('x'))).toBe(true);
    expect(a.equals(new Example({ x: [1, { y: 3 }], z: 'z' }))).toBe(false);
    expect(a.equals(new Example({ x: [1, { y: 2 }] }))).toBe(false);
    expect(a.equals({ x: [1, { y: 2 }], z: 'z' })).toBe(false);
  });

  it("prints DSPy's repr", () => {
    const ex = new Example({ question: "it's", n: 1.5, ok: true, none: null });
    expect(String(ex)).toBe(`Example({'question': "it's", 'n': 1.5, 'ok': True, 'none': None}) (input_keys=None)`);
    expect(inspect(ex.withInputs('question'))).toBe(
      `Example({'question': "it's", 'n': 1.5, 'ok': True, 'none': None}) (input_keys={'question'})`,
    );
  });

  it('is an instance of Example and rejects non-object data', () => {
    expect(new Example({})).toBeInstanceOf(Example);
    expect(() => new Example([1, 2] as never)).toThrow(/must be an object/);
  });
});
