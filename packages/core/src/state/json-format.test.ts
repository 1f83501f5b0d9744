import { describe, expect, it } from 'vitest';
import { formatStateJson } from './json-format.ts';
import { formatStatePath, joinStatePath } from './state-path.ts';

describe('formatStateJson', () => {
  it('writes orjson OPT_INDENT_2 | OPT_APPEND_NEWLINE layout', () => {
    expect(formatStateJson({ a: [], b: {}, c: [1, { d: 'é «x»\n"q"' }], e: null, f: true })).toBe(
      '{\n  "a": [],\n  "b": {},\n  "c": [\n    1,\n    {\n      "d": "é «x»\\n\\"q\\""\n    }\n  ],\n  "e": null,\n  "f": true\n}\n',
    );
  });
});

describe('state paths', () => {
  it('joins names, indices and odd keys', () => {
    expect(formatStatePath('predict', ['demos', 2, 'question'])).toBe('predict.demos[2].question');
    expect(formatStatePath('', ['demos', 0])).toBe('demos[0]');
    expect(joinStatePath("tools['search']", 'demos')).toBe("tools['search'].demos");
    expect(joinStatePath('demos[0]', 'my key')).toBe("demos[0]['my key']");
  });
});
