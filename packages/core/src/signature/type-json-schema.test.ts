import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseTypeExpression, typeJsonSchema, typeNodeFromZod } from './type-node.ts';

const schemaOf = (text: string, types?: Record<string, z.ZodType>) => typeJsonSchema(parseTypeExpression(text, types));

describe('typeJsonSchema', () => {
  it("matches pydantic's TypeAdapter schemas for builtin types", () => {
    expect(schemaOf('str')).toEqual({ type: 'string' });
    expect(schemaOf('int')).toEqual({ type: 'integer' });
    expect(schemaOf('float')).toEqual({ type: 'number' });
    expect(schemaOf('bool')).toEqual({ type: 'boolean' });
    expect(schemaOf('Any')).toEqual({});
    expect(schemaOf('list[str]')).toEqual({ items: { type: 'string' }, type: 'array' });
    expect(schemaOf('list')).toEqual({ items: {}, type: 'array' });
    expect(schemaOf('dict[str, Any]')).toEqual({ additionalProperties: true, type: 'object' });
    expect(schemaOf('dict[str, int]')).toEqual({ additionalProperties: { type: 'integer' }, type: 'object' });
    expect(schemaOf('Optional[int]')).toEqual({ anyOf: [{ type: 'integer' }, { type: 'null' }] });
    expect(schemaOf('int | str | None')).toEqual({
      anyOf: [{ type: 'integer' }, { type: 'string' }, { type: 'null' }],
    });
    expect(schemaOf("Literal['a', 'b']")).toEqual({ enum: ['a', 'b'], type: 'string' });
    expect(schemaOf("Literal['a']")).toEqual({ const: 'a', type: 'string' });
    expect(schemaOf("Literal[1, 'a']")).toEqual({ enum: [1, 'a'] });
    expect(schemaOf('tuple[int, str]')).toEqual({
      maxItems: 2,
      minItems: 2,
      prefixItems: [{ type: 'integer' }, { type: 'string' }],
      type: 'array',
    });
    expect(schemaOf('tuple[int, ...]')).toEqual({ items: { type: 'integer' }, type: 'array' });
  });

  it('renders custom zod types like a pydantic model', () => {
    const Summary = z
      .object({ headline: z.string().meta({ title: 'Headline' }), score: z.number().meta({ title: 'Score' }) })
      .meta({ title: 'Summary' });
    // The exact schema DSPy prints for this model (fixture chat-nested-objects.json).
    expect(schemaOf('Summary', { Summary })).toEqual({
      type: 'object',
      properties: { headline: { type: 'string', title: 'Headline' }, score: { type: 'number', title: 'Score' } },
      required: ['headline', 'score'],
      title: 'Summary',
    });
  });

  it('normalises zod output where pydantic differs', () => {
    const schema = typeJsonSchema(
      typeNodeFromZod(z.object({ n: z.number().int(), maybe: z.string().nullable() }).meta({ title: 'M' })),
    );
    expect(schema).toEqual({
      type: 'object',
      properties: { n: { type: 'integer' }, maybe: { anyOf: [{ type: 'string' }, { type: 'null' }] } },
      required: ['n', 'maybe'],
      title: 'M',
    });
    expect(schema).not.toHaveProperty('$schema');
  });
});
