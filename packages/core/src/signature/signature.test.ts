import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SignatureError, StateError } from '../errors.ts';
import { createField, Signature, signature } from './signature.ts';
import { annotationName } from './type-node.ts';
import { registerType, unregisterType } from './type-registry.ts';

function errorOf(fn: () => unknown): SignatureError {
  try {
    fn();
  } catch (error) {
    expect(SignatureError.isInstance(error)).toBe(true);
    return error as SignatureError;
  }
  throw new Error('expected a SignatureError');
}

/** DSPy's default description, the literal text `${name}`. */
const defaultDesc = (name: string) => `\${${name}}`;

const lastTwoLines = (error: Error) => error.message.split('\n').slice(-2);

describe('Signature.parse', () => {
  it('reads names, types and DSPy defaults', () => {
    const sig = Signature.parse('question, context: list[str] -> answer: int');
    expect(sig.inputFields.map((f) => f.name)).toEqual(['question', 'context']);
    expect(sig.outputFields.map((f) => f.name)).toEqual(['answer']);
    expect(sig.fields.map((f) => f.name)).toEqual(['question', 'context', 'answer']);
    const question = sig.field('question');
    expect(question).toMatchObject({
      kind: 'input',
      type: { kind: 'str' },
      typeUndefined: true,
      desc: defaultDesc('question'),
      prefix: 'Question:',
      hasDefault: false,
    });
    expect(sig.field('context')?.typeUndefined).toBe(false);
    expect(annotationName(sig.field('context')!.type)).toBe('list[str]');
    expect(sig.field('answer')?.type).toEqual({ kind: 'int' });
    expect(sig.field('missing')).toBeUndefined();
  });

  it('generates the default instructions', () => {
    expect(Signature.parse('a, b -> c').instructions).toBe('Given the fields `a`, `b`, produce the fields `c`.');
    expect(Signature.parse('a -> b', 'Answer.').instructions).toBe('Answer.');
  });

  it('does not split on commas inside brackets or quotes', () => {
    const sig = Signature.parse("a: dict[str, int], b: Literal['x, y', 'z'] -> c: tuple[int, str]");
    expect(sig.inputFields.map((f) => annotationName(f.type))).toEqual(['dict[str, int]', "Literal['x, y', 'z']"]);
    expect(annotationName(sig.outputFields[0]!.type)).toBe('tuple[int, str]');
  });

  it('marks optional outputs as having a default of null', () => {
    const sig = Signature.parse('q -> a: Optional[int], b: str | None, c: int');
    expect(sig.field('a')).toMatchObject({ hasDefault: true, default: null });
    expect(sig.field('b')).toMatchObject({ hasDefault: true, default: null });
    expect(sig.field('c')?.hasDefault).toBe(false);
  });

  it('uses custom types from options and the registry', () => {
    const Person = z.object({ name: z.string() });
    expect(Signature.parse('p: Person -> ok: bool', undefined, { types: { Person } }).field('p')?.type).toEqual({
      kind: 'custom',
      name: 'Person',
      schema: Person,
    });
    registerType('Invoice', Person);
    try {
      expect(Signature.parse('i: Invoice -> ok: bool').field('i')?.type).toMatchObject({
        kind: 'custom',
        name: 'Invoice',
      });
    } finally {
      unregisterType('Invoice');
    }
    expect(errorOf(() => Signature.parse('i: Invoice -> ok')).message).toContain("unknown type 'Invoice'");
  });

  it('tolerates whitespace, an empty side and a trailing comma', () => {
    expect(Signature.parse('  a ,b,  ->  c ').toString()).toBe('a, b -> c');
    expect(Signature.parse('-> c').toString()).toBe(' -> c');
  });

  describe('errors', () => {
    it("requires exactly one '->' with DSPy's wording", () => {
      const none = errorOf(() => Signature.parse('question answer'));
      expect(none.message).toContain("Invalid signature format: 'question answer', must contain exactly one '->'.");
      expect(none.message).toContain("found no '->'");
      expect(lastTwoLines(none)).toEqual(['  question answer', `  ${' '.repeat(15)}^`]);

      const two = errorOf(() => Signature.parse('a -> b -> c'));
      expect(two.message).toContain('found 2 occurrences');
      expect(lastTwoLines(two)).toEqual(['  a -> b -> c', '         ^^']);
    });

    it('rejects the empty signature and one without fields', () => {
      expect(errorOf(() => Signature.parse('')).message).toContain('found an empty signature');
      expect(errorOf(() => Signature.parse(' -> ')).message).toContain('needs at least one field');
    });

    it('requires distinct names, on one side or across sides', () => {
      const across = errorOf(() => Signature.parse('text -> text'));
      expect(across.message).toContain("field 'text' appears as both an input and an output");
      expect(across.message).toContain('distinct names');
      expect(lastTwoLines(across)).toEqual(['  text -> text', '          ^^^^']);
      expect(errorOf(() => Signature.parse('ab, a, ab -> c')).message).toContain('twice among the inputs');
    });

    it('requires identifier names', () => {
      const spaced = errorOf(() => Signature.parse('first name -> b'));
      expect(spaced.message).toContain("found 'first name'; separate fields with ','");
      expect(errorOf(() => Signature.parse('1st -> b')).message).toContain(
        "expected a field name (an identifier such as 'question' or 'answer_2'), found '1st'",
      );
      expect(errorOf(() => Signature.parse('a,,b -> c')).message).toContain('expected a field name between commas');
      expect(errorOf(() => Signature.parse(': int -> c')).message).toContain('found nothing');
    });

    it('reports unknown and malformed types with a pointer into the signature', () => {
      const unknown = errorOf(() => Signature.parse('question: strr -> answer'));
      expect(unknown.message).toContain("Invalid signature 'question: strr -> answer': unknown type 'strr'");
      expect(unknown.message).toContain('Known types:');
      expect(lastTwoLines(unknown)).toEqual(['  question: strr -> answer', '            ^^^^']);
      expect(errorOf(() => Signature.parse('a: -> b')).message).toContain('expected a type, found nothing');
    });

    it('reports unbalanced brackets at the offending column', () => {
      const open = errorOf(() => Signature.parse('a: list[str -> b'));
      expect(open.message).toContain("'[' is never closed");
      expect(lastTwoLines(open)).toEqual(['  a: list[str -> b', '         ^']);
      const close = errorOf(() => Signature.parse('a: str] -> b'));
      expect(close.message).toContain("found ']' with no matching '['");
      expect(lastTwoLines(close)).toEqual(['  a: str] -> b', '        ^']);
    });
  });
});

describe('immutable operations', () => {
  const base = Signature.parse('question -> answer', 'Answer.');

  it('changes instructions on a copy', () => {
    const changed = base.withInstructions('Be brief.');
    expect(changed.instructions).toBe('Be brief.');
    expect(base.instructions).toBe('Answer.');
    expect(base.appendInstructions('Cite sources.').instructions).toBe('Answer.\n\nCite sources.');
  });

  it('updates one field', () => {
    const updated = base.withUpdatedFields('answer', { desc: 'short', type: 'list[str]', prefix: 'A:' });
    expect(updated.field('answer')).toMatchObject({ desc: 'short', prefix: 'A:', typeUndefined: false });
    expect(annotationName(updated.field('answer')!.type)).toBe('list[str]');
    expect(base.field('answer')).toMatchObject({ desc: defaultDesc('answer'), typeUndefined: true });
    expect(errorOf(() => base.withUpdatedFields('nope', { desc: 'x' })).message).toContain(
      "No field named 'nope' in signature 'question -> answer'",
    );
  });

  it('prepends, appends and inserts by kind, with negative indices', () => {
    const sig = Signature.parse('a, b -> x, y');
    expect(sig.prepend('reasoning', { kind: 'output' }).toString()).toBe('a, b -> reasoning, x, y');
    expect(sig.append('c', { kind: 'input' }).toString()).toBe('a, b, c -> x, y');
    expect(sig.insert(1, 'c', { kind: 'input' }).toString()).toBe('a, c, b -> x, y');
    expect(sig.insert(-1, 'z', { kind: 'output' }).toString()).toBe('a, b -> x, y, z');
    expect(sig.insert(-2, 'z', { kind: 'output' }).toString()).toBe('a, b -> x, z, y');
    expect(sig.insert(-3, 'z', { kind: 'output' }).toString()).toBe('a, b -> z, x, y');
    expect(errorOf(() => sig.insert(3, 'z', { kind: 'output' })).message).toContain(
      'Invalid index to insert: 3, index must be in the range of [-3, 2] for output fields, but received: 3.',
    );
    expect(errorOf(() => sig.insert(-4, 'z', { kind: 'output' })).message).toContain('Invalid index to insert: -4');
    expect(errorOf(() => sig.append('a', { kind: 'output' })).message).toContain('distinct names');
    expect(sig.toString()).toBe('a, b -> x, y');
  });

  it('keeps the instructions text when fields change, as DSPy does', () => {
    const sig = Signature.parse('question -> answer');
    const extended = sig.prepend('reasoning', { kind: 'output', desc: defaultDesc('reasoning') });
    expect(extended.instructions).toBe('Given the fields `question`, produce the fields `answer`.');
  });

  it('accepts typed field declarations', () => {
    const sig = base.append('score', { kind: 'output', type: z.number().gt(0).lte(1), default: 0.5 });
    expect(sig.field('score')).toMatchObject({
      type: { kind: 'float' },
      hasDefault: true,
      default: 0.5,
      constraints: 'greater than: 0, less than or equal to: 1',
    });
    expect(base.append('n', { kind: 'output', type: { kind: 'int' } }).field('n')?.type).toEqual({ kind: 'int' });
  });

  it('deletes fields, ignoring absent ones', () => {
    const sig = Signature.parse('a, b -> c');
    expect(sig.delete('b').toString()).toBe('a -> c');
    expect(sig.delete('zzz').equals(sig)).toBe(true);
    expect(sig.toString()).toBe('a, b -> c');
  });

  it('compares instructions and every field', () => {
    const sig = Signature.parse('a: int -> b');
    expect(sig.equals(Signature.parse('a: int -> b'))).toBe(true);
    expect(sig.equals(Signature.parse('a: float -> b'))).toBe(false);
    expect(sig.equals(Signature.parse('a: Optional[int] -> b'))).toBe(false);
    expect(Signature.parse('a: Optional[int] -> b').equals(Signature.parse('a: int | None -> b'))).toBe(false);
    expect(sig.equals(sig.withInstructions('x'))).toBe(false);
    expect(sig.equals(sig.withUpdatedFields('b', { desc: 'd' }))).toBe(false);
    expect(sig.equals(sig.withUpdatedFields('b', { prefix: 'B' }))).toBe(false);
  });

  it('is frozen', () => {
    const sig = Signature.parse('a -> b');
    expect(Object.isFrozen(sig)).toBe(true);
    expect(Object.isFrozen(sig.fields)).toBe(true);
    expect(Object.isFrozen(sig.fields[0])).toBe(true);
  });
});

describe('state', () => {
  it('dumps prefixes and descriptions, inputs then outputs', () => {
    expect(Signature.parse('question -> reasoningSteps, answer', 'Answer.').dumpState()).toEqual({
      instructions: 'Answer.',
      fields: [
        { prefix: 'Question:', description: defaultDesc('question') },
        { prefix: 'Reasoning Steps:', description: defaultDesc('reasoningSteps') },
        { prefix: 'Answer:', description: defaultDesc('answer') },
      ],
    });
  });

  it('loads positionally into a copy', () => {
    const sig = Signature.parse('a -> b, c');
    const loaded = sig.loadState({
      instructions: 'New.',
      fields: [
        { prefix: 'A!', description: 'first' },
        { prefix: 'B!', description: 'second' },
      ],
    });
    expect(loaded.instructions).toBe('New.');
    expect(loaded.fields.map((f) => [f.name, f.prefix, f.desc])).toEqual([
      ['a', 'A!', 'first'],
      ['b', 'B!', 'second'],
      ['c', 'C:', defaultDesc('c')],
    ]);
    expect(sig.instructions).toBe('Given the fields `a`, produce the fields `b`, `c`.');
    expect(
      Signature.parse('a -> b').loadState(Signature.parse('a -> b').dumpState()).equals(Signature.parse('a -> b')),
    ).toBe(true);
  });

  it('rejects malformed state', () => {
    const sig = Signature.parse('a -> b');
    expect(() => sig.loadState({ instructions: 3 } as never)).toThrow(StateError);
    expect(() => sig.loadState({ instructions: 'x', fields: [{ prefix: 1 }] } as never)).toThrow(
      /signature.fields\[0\]|prefix/,
    );
  });
});

describe('other constructors', () => {
  it('Signature.from passes signatures through and parses strings', () => {
    const sig = Signature.parse('a -> b');
    expect(Signature.from(sig)).toBe(sig);
    expect(Signature.from('x -> y').toString()).toBe('x -> y');
  });

  it('builds from zod schemas', () => {
    const sig = signature({
      instructions: 'Classify.',
      inputs: { text: z.string().describe('the text'), tags: z.array(z.string()).optional() },
      outputs: { label: z.enum(['pos', 'neg']), score: z.number().min(0).default(1) },
    });
    expect(sig.toString()).toBe('text, tags -> label, score');
    expect(sig.field('text')).toMatchObject({ desc: 'the text', typeUndefined: false, hasDefault: false });
    expect(annotationName(sig.field('tags')!.type)).toBe('Union[list[str], NoneType]');
    expect(sig.field('tags')).toMatchObject({ hasDefault: true, default: null });
    expect(annotationName(sig.field('label')!.type)).toBe("Literal['pos', 'neg']");
    expect(sig.field('score')).toMatchObject({
      hasDefault: true,
      default: 1,
      constraints: 'greater than or equal to: 0',
    });
  });

  it('builds from a record of field declarations', () => {
    const sig = Signature.fromFields({ q: { kind: 'input' }, a: { kind: 'output', type: 'int', desc: 'n' } }, 'Count.');
    expect(sig.toString()).toBe('q -> a');
    expect(sig.field('a')).toMatchObject({ desc: 'n', type: { kind: 'int' } });
  });

  it('validates field names and kinds', () => {
    expect(errorOf(() => createField('bad name', { kind: 'input' })).message).toContain('expected an identifier');
    expect(errorOf(() => createField('x', { kind: 'middle' as never })).message).toContain(
      "expected 'input' or 'output'",
    );
    expect(
      errorOf(() => new Signature([createField('a', { kind: 'input' }), createField('a', { kind: 'output' })])).message,
    ).toContain('distinct names');
  });
});

const identifier = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,8}$/);
const typeText = fc.constantFrom(
  undefined,
  'str',
  'int',
  'list[str]',
  'dict[str, Any]',
  "Literal['a', 'b,c']",
  'Optional[float]',
  'int | None',
  'tuple[int, list[bool]]',
);

describe('properties', () => {
  it('random valid signatures parse back to their names and types', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(identifier, { minLength: 1, maxLength: 6 }),
        fc.array(typeText, { minLength: 6, maxLength: 6 }),
        fc.nat(),
        (names, types, cut) => {
          const split = names.length === 1 ? 0 : cut % names.length;
          const decl = names.map((n, i) => (types[i] === undefined ? n : `${n}: ${types[i]}`));
          const text = `${decl.slice(0, split).join(', ')} -> ${decl.slice(split).join(', ')}`;
          const sig = Signature.parse(text);
          expect(sig.toString()).toBe(`${names.slice(0, split).join(', ')} -> ${names.slice(split).join(', ')}`);
          expect(Signature.parse(sig.toString()).fields.map((f) => f.name)).toEqual(names);
          sig.fields.forEach((field, i) => {
            expect(field.typeUndefined).toBe(types[i] === undefined);
            if (types[i] !== undefined) {
              const reparsed = Signature.parse(
                `x: ${annotationName(field.type)
                  .replace(/^UnionType\[(.*), NoneType\]$/, '$1 | None')
                  .replace(/^Union\[(.*), NoneType\]$/, 'Optional[$1]')} -> y`,
              );
              expect(annotationName(reparsed.field('x')!.type)).toBe(annotationName(field.type));
            }
          });
        },
      ),
    );
  });

  it('arbitrary text either parses or throws a SignatureError', () => {
    const junk = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc
        .array(fc.constantFrom('a', 'b', ':', ',', '->', '-', '>', '[', ']', 'int', 'list', ' ', "'", '|', 'None'), {
          maxLength: 14,
        })
        .map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(junk, (text) => {
        try {
          Signature.parse(text);
        } catch (error) {
          expect(SignatureError.isInstance(error)).toBe(true);
          expect((error as Error).message).toMatch(/\^/);
        }
      }),
    );
  });
});
