import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Signature } from '../signature/signature.ts';
import type { Adapter } from './adapter.ts';
import { ChatAdapter } from './chat-adapter.ts';
import { JSONAdapter } from './json-adapter.ts';
import { pyStrip } from './python-text.ts';
import { XMLAdapter } from './xml-adapter.ts';

// Text an LM could write for a str field: no `[` (which could open a `[[ ## x ## ]]` header line), no carriage
// returns, and no surrounding whitespace (every adapter strips field values, as DSPy does).
const CHARS = [...'abcXYZ019 .,;:!?"\'&<>{}()/\\-_é漢😀\n'];
const text = fc
  .array(fc.constantFrom(...CHARS), { maxLength: 24 })
  .map((chars) => chars.join(''))
  .filter((s) => s === pyStrip(s));
const key = fc.stringMatching(/^[a-z][a-z0-9 _-]{0,6}$/);
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (Object.is(x, -0) ? 0 : x));
const int = fc.integer({ min: -1_000_000_000, max: 1_000_000_000 });

/** A field type (in signature syntax) with a generator of values of that type. */
const typedValue: fc.Arbitrary<[string, fc.Arbitrary<unknown>]>[] = [
  fc.constant<[string, fc.Arbitrary<unknown>]>(['str', text]),
  fc.constant<[string, fc.Arbitrary<unknown>]>(['int', int]),
  fc.constant<[string, fc.Arbitrary<unknown>]>(['float', finite]),
  fc.constant<[string, fc.Arbitrary<unknown>]>(['bool', fc.boolean()]),
  fc.constant<[string, fc.Arbitrary<unknown>]>(['list[str]', fc.array(text, { maxLength: 4 })]),
  fc.constant<[string, fc.Arbitrary<unknown>]>(['list[int]', fc.array(int, { maxLength: 4 })]),
  fc.constant<[string, fc.Arbitrary<unknown>]>(['dict[str, int]', fc.dictionary(key, int, { maxKeys: 3 })]),
  fc.constant<[string, fc.Arbitrary<unknown>]>(['Optional[int]', fc.option(int, { nil: null })]),
  fc.constant<[string, fc.Arbitrary<unknown>]>([
    "Literal['yes', 'no', 'maybe so']",
    fc.constantFrom('yes', 'no', 'maybe so'),
  ]),
];

const fieldName = fc
  .stringMatching(/^[a-z][a-z0-9_]{0,8}$/)
  .filter((n) => !['question', 'completed', 'dspy_root', 'item', 'entry'].includes(n));

const case_ = fc
  .uniqueArray(fieldName, { minLength: 1, maxLength: 5 })
  .chain((names) =>
    fc.tuple(
      ...names.map((name) =>
        fc.oneof(...typedValue).chain(([type, values]) => values.map((v) => [name, type, v] as const)),
      ),
    ),
  )
  .map((fields) => ({
    signature: Signature.parse(`question -> ${fields.map(([name, type]) => `${name}: ${type}`).join(', ')}`),
    outputs: Object.fromEntries(fields.map(([name, , value]) => [name, value])),
  }));

describe.each<[string, Adapter]>([
  ['ChatAdapter', new ChatAdapter()],
  ['JSONAdapter', new JSONAdapter()],
  ['XMLAdapter', new XMLAdapter()],
])('%s round trip', (_name, adapter) => {
  it('parse(formatAssistantMessageContent(outputs)) gives the outputs back', () => {
    fc.assert(
      fc.property(case_, ({ signature, outputs }) => {
        const completion = adapter.formatAssistantMessageContent(signature, outputs);
        expect(adapter.parse(signature, completion)).toEqual(outputs);
      }),
      { numRuns: 300 },
    );
  });
});
