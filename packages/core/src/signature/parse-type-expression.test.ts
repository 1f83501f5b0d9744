import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SignatureError } from '../errors.ts';
import { annotationName, parseTypeExpression, type TypeNode } from './type-node.ts';
import { registerType, unregisterType } from './type-registry.ts';

const name = (text: string, types?: Record<string, z.ZodType>) => annotationName(parseTypeExpression(text, types));

function errorOf(fn: () => unknown): SignatureError {
  try {
    fn();
  } catch (error) {
    expect(SignatureError.isInstance(error)).toBe(true);
    return error as SignatureError;
  }
  throw new Error('expected a SignatureError');
}

describe('parseTypeExpression', () => {
  it('parses primitives', () => {
    expect(parseTypeExpression('str')).toEqual({ kind: 'str' });
    expect(parseTypeExpression('int')).toEqual({ kind: 'int' });
    expect(parseTypeExpression('float')).toEqual({ kind: 'float' });
    expect(parseTypeExpression('bool')).toEqual({ kind: 'bool' });
    expect(parseTypeExpression('Any')).toEqual({ kind: 'any' });
    expect(parseTypeExpression('None')).toEqual({ kind: 'none' });
    expect(parseTypeExpression('History')).toEqual({ kind: 'history' });
    expect(parseTypeExpression('dspy.History')).toEqual({ kind: 'history' });
  });

  it('parses containers, bare and parameterised', () => {
    expect(parseTypeExpression('list[str]')).toEqual({ kind: 'list', item: { kind: 'str' } });
    expect(parseTypeExpression('List[int]')).toEqual({ kind: 'list', item: { kind: 'int' } });
    expect(parseTypeExpression('list')).toMatchObject({ kind: 'list', item: { kind: 'any' } });
    expect(parseTypeExpression('dict')).toMatchObject({ kind: 'dict', key: { kind: 'str' }, value: { kind: 'any' } });
    expect(parseTypeExpression('dict[str, float]')).toEqual({
      kind: 'dict',
      key: { kind: 'str' },
      value: { kind: 'float' },
    });
    expect(parseTypeExpression('tuple[int, str]')).toEqual({
      kind: 'tuple',
      items: [{ kind: 'int' }, { kind: 'str' }],
    });
    expect(parseTypeExpression('tuple[int, ...]')).toEqual({ kind: 'tuple', items: [{ kind: 'int' }], variadic: true });
  });

  it('parses unions in both syntaxes and flattens them like Python', () => {
    expect(parseTypeExpression('Optional[int]')).toEqual({
      kind: 'union',
      options: [{ kind: 'int' }, { kind: 'none' }],
      syntax: 'typing',
    });
    expect(parseTypeExpression('int | None')).toEqual({
      kind: 'union',
      options: [{ kind: 'int' }, { kind: 'none' }],
      syntax: 'pipe',
    });
    expect(name('Union[int, str]')).toBe('Union[int, str]');
    expect(name('Union[int, Union[str, None]]')).toBe('Union[int, str, NoneType]');
    expect(name('Optional[Optional[int]]')).toBe('Union[int, NoneType]');
    expect(name('Union[int]')).toBe('int');
    expect(name('int | str | int')).toBe('UnionType[int, str]');
    expect(name('int | Optional[str]')).toBe('Union[int, str, NoneType]');
  });

  it('parses literals of every value kind', () => {
    expect(parseTypeExpression(`Literal['a', "b", 1, -2.5, True, False, None]`)).toEqual({
      kind: 'literal',
      values: ['a', 'b', 1, -2.5, true, false, null],
    });
    expect(parseTypeExpression("Literal['a,b', ']']")).toEqual({ kind: 'literal', values: ['a,b', ']'] });
    expect(parseTypeExpression("Literal['it\\'s']")).toEqual({ kind: 'literal', values: ["it's"] });
    expect(parseTypeExpression("Literal[Literal['a'], 'b', 'a']")).toEqual({ kind: 'literal', values: ['a', 'b'] });
  });

  it('nests arbitrarily', () => {
    expect(name('dict[str, list[Optional[tuple[int, Literal["x"]]]]]')).toBe(
      "dict[str, list[Union[tuple[int, Literal['x']], NoneType]]]",
    );
    expect(name('  list [ str ]  ')).toBe('list[str]');
  });

  describe('custom types', () => {
    afterEach(() => {
      unregisterType('Person');
    });

    it('resolves explicit types before registered ones', () => {
      const explicit = z.object({ name: z.string() });
      const registered = z.object({ id: z.number() });
      registerType('Person', registered);
      expect(parseTypeExpression('Person')).toEqual({ kind: 'custom', name: 'Person', schema: registered });
      expect(parseTypeExpression('list[Person]', { Person: explicit })).toEqual({
        kind: 'list',
        item: { kind: 'custom', name: 'Person', schema: explicit },
      });
    });

    it('resolves dotted names by their last segment', () => {
      const schema = z.object({ name: z.string() });
      expect(parseTypeExpression('models.Person', { Person: schema })).toEqual({
        kind: 'custom',
        name: 'models.Person',
        schema,
      });
    });
  });

  describe('errors', () => {
    it('names an unknown type, lists known ones and points at it', () => {
      const error = errorOf(() => parseTypeExpression('list[Foo]', { Person: z.string() }));
      expect(error.message).toContain("unknown type 'Foo'");
      expect(error.message).toContain('Known types: str, int, float, bool, Any');
      expect(error.message).toContain('custom: Person');
      expect(error.message).toContain('registerType');
      expect(error.message.split('\n').slice(-2)).toEqual(['  list[Foo]', '       ^^^']);
    });

    it('points at an unclosed bracket', () => {
      const error = errorOf(() => parseTypeExpression('dict[str, list[int]'));
      expect(error.message).toContain("'[' is never closed");
      expect(error.message.split('\n').slice(-2)).toEqual(['  dict[str, list[int]', '      ^']);
    });

    it('points at a stray closing bracket', () => {
      const error = errorOf(() => parseTypeExpression('list[int]]'));
      expect(error.message).toContain("found ']' with no matching '['");
      expect(error.message.split('\n').at(-1)).toBe(`  ${' '.repeat(9)}^`);
    });

    it('checks generic arity', () => {
      expect(errorOf(() => parseTypeExpression('dict[str]')).message).toContain(
        "'dict' takes 2 type arguments (dict[K, V]), found 1",
      );
      expect(errorOf(() => parseTypeExpression('list[int, str]')).message).toContain("'list' takes 1 type argument");
      expect(errorOf(() => parseTypeExpression('Optional[int, str]')).message).toContain("'Optional' takes 1");
      expect(errorOf(() => parseTypeExpression('list[]')).message).toContain('needs at least one type argument');
      expect(errorOf(() => parseTypeExpression('Union')).message).toContain('Union needs type arguments');
      expect(errorOf(() => parseTypeExpression('str[int]')).message).toContain("'str' does not take type arguments");
    });

    it('rejects bad literal values, ellipses and junk', () => {
      expect(errorOf(() => parseTypeExpression('Literal[int]')).message).toContain(
        "Literal values must be strings, numbers, True, False or None, found 'int'",
      );
      expect(errorOf(() => parseTypeExpression("Literal['a")).message).toContain('unterminated string literal');
      expect(errorOf(() => parseTypeExpression('tuple[..., int]')).message).toContain("'...' is only allowed");
      expect(errorOf(() => parseTypeExpression('int str')).message).toContain(
        "expected the end of the type, found 'str'",
      );
      expect(errorOf(() => parseTypeExpression('')).message).toContain('expected a type, found nothing');
      expect(errorOf(() => parseTypeExpression('int | ')).message).toContain('expected a type name, found the end');
      expect(errorOf(() => parseTypeExpression('int & str')).message).toContain('unexpected character "&"');
    });
  });
});

describe('annotationName', () => {
  it("matches DSPy's get_annotation_name", () => {
    expect(name('str')).toBe('str');
    expect(name('Any')).toBe('Any');
    expect(name('list[str]')).toBe('list[str]');
    expect(name('list')).toBe('list');
    expect(name('dict')).toBe('dict');
    expect(name('dict[str, Any]')).toBe('dict[str, Any]');
    expect(name("Literal['yes', 'no']")).toBe("Literal['yes', 'no']");
    expect(name('Literal[1, True, None]')).toBe('Literal[1, True, None]');
    expect(name('Optional[str]')).toBe('Union[str, NoneType]');
    expect(name('str | None')).toBe('UnionType[str, NoneType]');
    expect(name('tuple[int, str]')).toBe('tuple[int, str]');
    expect(name('tuple[int, ...]')).toBe('tuple[int, Ellipsis]');
    expect(name('History')).toBe('History');
    expect(name('Person', { Person: z.object({}) })).toBe('Person');
  });

  it('quotes literal strings as DSPy does', () => {
    expect(annotationName({ kind: 'literal', values: ["it's"] })).toBe(`Literal["it's"]`);
    expect(annotationName({ kind: 'literal', values: ['say "hi"'] })).toBe(`Literal['say "hi"']`);
    expect(annotationName({ kind: 'literal', values: [`it's "x"`] })).toBe(`Literal['it\\'s "x"']`);
    expect(annotationName({ kind: 'literal', values: [0.5, 1e-7] })).toBe('Literal[0.5, 1e-07]');
  });
});

// Random type trees paired with the source text a user would write and the name DSPy would print for them.
type Sample = { source: string; expected: string };

const literalValue = fc.oneof(
  fc.string({ maxLength: 6 }).filter((s) => !/['"\\\n\r]/.test(s)),
  fc.integer({ min: -1000, max: 1000 }),
  fc.boolean(),
  fc.constant(null),
);

function literalSource(v: string | number | boolean | null): string {
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return v === null ? 'None' : String(v);
}

const sampleArb: fc.Arbitrary<Sample> = fc.letrec<{ type: Sample }>((tie) => ({
  type: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom<Sample>(
      { source: 'str', expected: 'str' },
      { source: 'int', expected: 'int' },
      { source: 'float', expected: 'float' },
      { source: 'bool', expected: 'bool' },
      { source: 'Any', expected: 'Any' },
      { source: 'History', expected: 'History' },
      { source: 'list', expected: 'list' },
      { source: 'dict', expected: 'dict' },
    ),
    tie('type').map((t) => ({ source: `list[${t.source}]`, expected: `list[${t.expected}]` })),
    tie('type').map((t) => ({ source: `dict[str, ${t.source}]`, expected: `dict[str, ${t.expected}]` })),
    fc.array(tie('type'), { minLength: 1, maxLength: 3 }).map((ts) => ({
      source: `tuple[${ts.map((t) => t.source).join(', ')}]`,
      expected: `tuple[${ts.map((t) => t.expected).join(', ')}]`,
    })),
    fc
      .uniqueArray(literalValue, { minLength: 1, maxLength: 4, selector: (v) => `${typeof v}:${String(v)}` })
      .map((vs) => ({
        source: `Literal[${vs.map(literalSource).join(', ')}]`,
        expected: `Literal[${vs.map(literalSource).join(', ')}]`,
      })),
  ),
})).type;

describe('properties', () => {
  it('annotation names of random type trees match what DSPy prints', () => {
    fc.assert(
      fc.property(sampleArb, (sample) => {
        expect(name(sample.source)).toBe(sample.expected);
        // Every name without unions or ellipses is itself valid source for the same type.
        expect(name(sample.expected)).toBe(sample.expected);
      }),
    );
  });

  it('wrapping in Optional gives a typing union, `| None` a pipe union', () => {
    fc.assert(
      fc.property(sampleArb, (sample) => {
        expect(name(`Optional[${sample.source}]`)).toBe(`Union[${sample.expected}, NoneType]`);
        expect(name(`${sample.source} | None`)).toBe(`UnionType[${sample.expected}, NoneType]`);
      }),
    );
  });

  it('never throws anything but SignatureError on arbitrary text', () => {
    const junk = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc
        .array(
          fc.constantFrom('list', 'dict', '[', ']', ',', '|', 'None', "'", '"', 'Literal', 'int', '...', ' ', '1', '-'),
          {
            maxLength: 12,
          },
        )
        .map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(junk, (text) => {
        try {
          const node: TypeNode = parseTypeExpression(text);
          expect(typeof annotationName(node)).toBe('string');
        } catch (error) {
          expect(SignatureError.isInstance(error)).toBe(true);
        }
      }),
    );
  });
});
