import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { History } from '../primitives/history.ts';
import { parseTypeExpression, validateValue } from './type-node.ts';
import { TypeValidationError } from './type-validation-error.ts';

const v = (type: string, value: unknown, types?: Record<string, z.ZodType>) =>
  validateValue(parseTypeExpression(type, types), value);

function errorOf(fn: () => unknown): TypeValidationError {
  try {
    fn();
  } catch (error) {
    expect(TypeValidationError.isInstance(error)).toBe(true);
    return error as TypeValidationError;
  }
  throw new Error('expected a TypeValidationError');
}

describe('validateValue', () => {
  it('coerces ints like pydantic lax mode', () => {
    expect(v('int', 3)).toBe(3);
    expect(v('int', '3')).toBe(3);
    expect(v('int', ' -12 ')).toBe(-12);
    expect(v('int', 3.0)).toBe(3);
    expect(v('int', '4.00')).toBe(4);
    expect(v('int', '1_000')).toBe(1000);
    expect(v('int', true)).toBe(1);
    const fractional = errorOf(() => v('int', 3.5));
    expect(fractional.message).toBe(
      'Expected int, found float 3.5: input should be a valid integer, got a number with a fractional part.',
    );
    expect(fractional.code).toBe('invalid_argument');
    expect(errorOf(() => v('int', 'abc')).message).toContain(
      "found str 'abc': input should be a valid integer, unable to parse string",
    );
    expect(errorOf(() => v('int', null)).message).toContain('found NoneType None');
  });

  it('coerces floats and bools', () => {
    expect(v('float', 2)).toBe(2);
    expect(v('float', '2.5')).toBe(2.5);
    expect(v('float', '1e3')).toBe(1000);
    expect(v('float', 'inf')).toBe(Number.POSITIVE_INFINITY);
    expect(errorOf(() => v('float', 'two')).message).toContain('unable to parse string as a number');
    for (const yes of [true, 'true', 'True', 'yes', 'on', '1', 1]) expect(v('bool', yes)).toBe(true);
    for (const no of [false, 'false', 'False', 'no', 'off', '0', 0]) expect(v('bool', no)).toBe(false);
    expect(errorOf(() => v('bool', 2)).message).toContain('Expected bool, found int 2');
    expect(errorOf(() => v('bool', 'maybe')).message).toContain('unable to interpret input');
  });

  it('requires real strings for str', () => {
    expect(v('str', 'x')).toBe('x');
    expect(errorOf(() => v('str', 3)).message).toBe('Expected str, found int 3: input should be a valid string.');
  });

  it('validates containers recursively and says where a bad item is', () => {
    expect(v('list[int]', ['1', 2, 3.0])).toEqual([1, 2, 3]);
    expect(v('dict[str, float]', { a: '1.5' })).toEqual({ a: 1.5 });
    expect(v('tuple[int, str]', ['1', 'a'])).toEqual([1, 'a']);
    expect(v('tuple[int, ...]', ['1', '2', 3])).toEqual([1, 2, 3]);
    expect(v('list', [1, 'a'])).toEqual([1, 'a']);
    const nested = errorOf(() => v('dict[str, list[int]]', { xs: [1, 'b'] }));
    expect(nested.message).toBe(
      `Expected int at ["xs"][1] of dict[str, list[int]], found str 'b': input should be a valid integer, unable to parse string as an integer.`,
    );
    expect(nested.path).toEqual(['xs', 1]);
    expect(errorOf(() => v('tuple[int, str]', [1])).message).toContain('tuple should have exactly 2 items, found 1');
    expect(errorOf(() => v('list[str]', 'abc')).message).toContain('input should be a valid list');
    expect(errorOf(() => v('dict[str, int]', [1])).message).toContain('input should be a valid dictionary');
  });

  it('matches literals exactly', () => {
    expect(v("Literal['a', 'b']", 'b')).toBe('b');
    expect(v('Literal[1, None]', null)).toBe(null);
    expect(errorOf(() => v("Literal['a', 'b']", 'A')).message).toBe(
      "Expected Literal['a', 'b'], found str 'A': input should be 'a' or 'b'.",
    );
    expect(errorOf(() => v('Literal[1]', '1')).message).toContain('input should be 1');
  });

  it('prefers an exact union option before coercing in order', () => {
    expect(v('Union[int, str]', '3')).toBe('3');
    expect(v('Union[str, int]', 3)).toBe(3);
    expect(v('Union[int, float]', 2.5)).toBe(2.5);
    expect(v('Union[int, bool]', 'true')).toBe(true);
    expect(v('Optional[int]', null)).toBe(null);
    expect(v('int | None', undefined)).toBe(null);
    expect(v('Optional[int]', '7')).toBe(7);
    const error = errorOf(() => v('Optional[int]', 'x'));
    expect(error.message).toContain('Expected Union[int, NoneType], found str');
    expect(error.message).toContain('int: input should be a valid integer');
    expect(error.message).toContain('NoneType: expected None');
  });

  it('validates custom types through zod and History by shape', () => {
    const Person = z.object({ name: z.string(), age: z.number().int() });
    expect(v('Person', { name: 'Ada', age: 36 }, { Person })).toEqual({ name: 'Ada', age: 36 });
    expect(errorOf(() => v('list[Person]', [{ name: 'Ada', age: 'x' }], { Person })).message).toMatch(
      /^Expected Person at \[0\] of list\[Person\], found dict \{'name': 'Ada', 'age': 'x'\}: age: /,
    );
    const history = v('History', { messages: [{ question: 'q', answer: 'a' }] });
    expect(history).toBeInstanceOf(History);
    expect((history as History).messages).toEqual([{ question: 'q', answer: 'a' }]);
    expect(errorOf(() => v('History', 'x')).message).toContain('History');
  });

  it('passes anything through Any', () => {
    const value = { deep: [1, { x: null }] };
    expect(v('Any', value)).toBe(value);
  });
});
