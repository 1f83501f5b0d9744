import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { validateJsonSchema } from './json-schema-validate.ts';
import { Tool } from './tool.ts';

describe('Tool', () => {
  it('renders DSPy’s __str__ with a Python dict repr of the args', () => {
    const search = new Tool(({ query }: { query: string }) => query, {
      name: 'search',
      description: 'Searches.\nFast.',
      args: z.object({ query: z.string(), k: z.number().int().default(3) }),
    });
    expect(String(search)).toBe(
      "search, whose description is <desc>Searches.  Fast.</desc>. It takes arguments {'query': {'type': 'string'}, 'k': {'default': 3, 'type': 'integer'}}.",
    );
    expect(search.required).toEqual(['query']);
    function lookup() {
      return 1;
    }
    expect(String(new Tool(lookup))).toBe('lookup. It takes arguments {}.');
    expect(() => new Tool(() => 1)).toThrow(/needs a name/);
  });

  it('validates zod arguments before calling, applying defaults', async () => {
    const calls: unknown[] = [];
    const tool = new Tool(
      (args) => {
        calls.push(args);
        return 'ok';
      },
      { name: 't', args: z.object({ query: z.string(), k: z.number().default(3) }) },
    );
    expect(await tool.call({ query: 'x' })).toBe('ok');
    expect(calls).toEqual([{ query: 'x', k: 3 }]);
    await expect(tool.call({ query: 'x', extra: 1 })).rejects.toThrow("Arg extra is not in the tool's args.");
    await expect(tool.call({})).rejects.toThrow(/^Arg query is required but missing/);
    await expect(tool.call({ query: 1 })).rejects.toThrow(/^Arg query is invalid: /);
    expect(calls).toHaveLength(1);
  });

  it('validates JSON Schema arguments (object form and DSPy’s per-argument form)', async () => {
    const objectForm = new Tool(({ n }) => n * 2, {
      name: 'double',
      args: { type: 'object', properties: { n: { type: 'integer', minimum: 0 } }, required: ['n'] },
    });
    expect(await objectForm.call({ n: 4 })).toBe(8);
    await expect(objectForm.call({ n: -1 })).rejects.toThrow('Arg n is invalid: -1 is less than the minimum of 0');
    await expect(objectForm.call({ n: 1.5 })).rejects.toThrow("Arg n is invalid: 1.5 is not of type 'integer'");
    const dspyForm = new Tool(({ tags }) => tags.length, {
      name: 'count',
      args: { tags: { type: 'array', items: { type: 'string', enum: ['a', 'b'] } } },
    });
    await expect(dspyForm.call({ tags: ['a', 'c'] })).rejects.toThrow(
      "Arg tags is invalid: 'c' is not one of ['a', 'b']",
    );
    expect(dspyForm.toDefinition()).toEqual({
      name: 'count',
      parameters: {
        type: 'object',
        properties: { tags: { type: 'array', items: { type: 'string', enum: ['a', 'b'] } } },
        required: ['tags'],
        additionalProperties: false,
      },
    });
  });
});

describe('validateJsonSchema', () => {
  it('words violations like Python’s jsonschema', () => {
    expect(validateJsonSchema('x', { type: 'string' })).toBeUndefined();
    expect(validateJsonSchema(true, { type: 'number' })).toBe("True is not of type 'number'");
    expect(validateJsonSchema(null, { type: ['string', 'integer'] })).toBe("None is not of type 'string', 'integer'");
    expect(validateJsonSchema({}, { type: 'object', required: ['q'] })).toBe("'q' is a required property");
    expect(validateJsonSchema({ a: 1, b: 2 }, { properties: { a: {} }, additionalProperties: false })).toBe(
      "Additional properties are not allowed ('b' was unexpected)",
    );
    expect(validateJsonSchema('ab', { minLength: 3 })).toBe("'ab' is too short");
    expect(validateJsonSchema('abc', { pattern: '^\\d+$' })).toBe("'abc' does not match '^\\\\d+$'");
    expect(validateJsonSchema(10, { exclusiveMaximum: 10 })).toBe('10 is greater than or equal to the maximum of 10');
    expect(validateJsonSchema(7, { multipleOf: 2 })).toBe('7 is not a multiple of 2');
    expect(validateJsonSchema([1, 1], { uniqueItems: true })).toBe('[1, 1] has non-unique elements');
    expect(validateJsonSchema(3, { anyOf: [{ type: 'string' }, { type: 'boolean' }] })).toBe(
      '3 is not valid under any of the given schemas',
    );
    expect(validateJsonSchema('b', { const: 'a' })).toBe("'a' was expected");
  });

  it('follows local $refs and validates nested values', () => {
    const schema = {
      type: 'object',
      properties: { items: { type: 'array', items: { $ref: '#/$defs/item' } } },
      $defs: { item: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] } },
    };
    expect(validateJsonSchema({ items: [{ id: 1 }] }, schema)).toBeUndefined();
    expect(validateJsonSchema({ items: [{ id: 'x' }] }, schema)).toBe("'x' is not of type 'integer'");
    expect(validateJsonSchema({ items: [{}] }, schema)).toBe("'id' is a required property");
  });
});
