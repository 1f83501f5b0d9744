import { describe, expect, it } from 'vitest';
import {
  autoNumberStyle,
  pyDedent,
  pySplitLines,
  pyStrip,
  pythonFloatRepr,
  pythonJsonDumps,
  pythonRepr,
  pythonStr,
} from './python-text.ts';
import { numberHintForType } from './value-shape.ts';

describe('pythonFloatRepr', () => {
  it.each([
    [1, '1.0'],
    [0.1, '0.1'],
    [1e-7, '1e-07'],
    [1e16, '1e+16'],
    [1e15, '1000000000000000.0'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [-2.5, '-2.5'],
    [123456789.125, '123456789.125'],
    [1.5e300, '1.5e+300'],
    [-0, '-0.0'],
    [Number.NaN, 'nan'],
    [Number.POSITIVE_INFINITY, 'inf'],
  ])('%s → %s', (x, expected) => {
    expect(pythonFloatRepr(x)).toBe(expected);
  });
});

describe('pythonJsonDumps', () => {
  it('uses Python separators and keeps non-ASCII', () => {
    expect(pythonJsonDumps({ name: 'Ada', tags: ['é', 'b'], n: null, ok: true })).toBe(
      '{"name": "Ada", "tags": ["é", "b"], "n": null, "ok": true}',
    );
  });

  it('indents like json.dumps(indent=2)', () => {
    expect(pythonJsonDumps({ a: [1, 2], b: {}, c: [] }, { indent: 2 })).toBe(
      '{\n  "a": [\n    1,\n    2\n  ],\n  "b": {},\n  "c": []\n}',
    );
  });

  it('escapes non-ASCII with ensureAscii', () => {
    expect(pythonJsonDumps(['é', '😀'], { ensureAscii: true })).toBe('["\\u00e9", "\\ud83d\\ude00"]');
  });

  it('prints floats where the type says float', () => {
    const hint = numberHintForType({ kind: 'dict', key: { kind: 'str' }, value: { kind: 'float' } });
    expect(pythonJsonDumps({ a: 1, b: 0.5, c: Number.NaN }, { numbers: hint })).toBe('{"a": 1.0, "b": 0.5, "c": NaN}');
    expect(pythonJsonDumps([1, 2.5], { numbers: autoNumberStyle })).toBe('[1, 2.5]');
  });
});

describe('pythonStr / pythonRepr', () => {
  it('prints Python scalars', () => {
    expect(pythonStr(true)).toBe('True');
    expect(pythonStr(null)).toBe('None');
    expect(pythonStr(3)).toBe('3');
    expect(pythonStr(3, numberHintForType({ kind: 'float' }))).toBe('3.0');
    expect(pythonStr({ a: [1] })).toBe('{"a": [1]}');
  });

  it('prints Python reprs', () => {
    expect(pythonRepr({ q: "it's", n: [1, null, false] })).toBe(`{'q': "it's", 'n': [1, None, False]}`);
  });
});

describe('Python string helpers', () => {
  it('splitlines like Python', () => {
    expect(pySplitLines('a\r\nb\rc\n')).toEqual(['a', 'b', 'c']);
    expect(pySplitLines('')).toEqual([]);
    expect(pySplitLines('a\n\nb')).toEqual(['a', '', 'b']);
  });

  it('strips Python whitespace only', () => {
    expect(pyStrip('\x1c hi \u3000')).toBe('hi');
    expect(pyStrip('\uFEFFhi')).toBe('\uFEFFhi');
  });

  it('dedents like textwrap.dedent', () => {
    expect(pyDedent('    a\n      b\n   \n    c')).toBe('a\n  b\n\nc');
    expect(pyDedent('a\n  b')).toBe('a\n  b');
  });
});
