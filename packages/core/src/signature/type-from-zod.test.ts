import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { annotationName, typeNodeFromZod, validateValue } from './type-node.ts';

const name = (schema: z.ZodType) => annotationName(typeNodeFromZod(schema));

describe('typeNodeFromZod', () => {
  it('maps zod schemas onto Python annotations', () => {
    expect(typeNodeFromZod(z.string())).toEqual({ kind: 'str' });
    expect(typeNodeFromZod(z.number().int())).toEqual({ kind: 'int' });
    expect(typeNodeFromZod(z.int())).toEqual({ kind: 'int' });
    expect(typeNodeFromZod(z.number())).toEqual({ kind: 'float' });
    expect(typeNodeFromZod(z.boolean())).toEqual({ kind: 'bool' });
    expect(typeNodeFromZod(z.any())).toEqual({ kind: 'any' });
    expect(typeNodeFromZod(z.unknown())).toEqual({ kind: 'any' });
    expect(name(z.array(z.string()))).toBe('list[str]');
    expect(name(z.record(z.string(), z.number()))).toBe('dict[str, float]');
    expect(name(z.enum(['yes', 'no']))).toBe("Literal['yes', 'no']");
    expect(name(z.literal(['a', 1, true]))).toBe("Literal['a', 1, True]");
    expect(name(z.string().optional())).toBe('Union[str, NoneType]');
    expect(name(z.number().int().nullable())).toBe('Union[int, NoneType]');
    expect(name(z.string().nullable().optional())).toBe('Union[str, NoneType]');
    expect(name(z.tuple([z.string(), z.boolean()]))).toBe('tuple[str, bool]');
    expect(name(z.union([z.string(), z.number()]))).toBe('Union[str, float]');
    expect(name(z.string().default('x'))).toBe('str');
  });

  it('turns objects and other schemas into named custom types', () => {
    const Person = z.object({ name: z.string() }).meta({ title: 'Person' });
    expect(typeNodeFromZod(Person)).toEqual({ kind: 'custom', name: 'Person', schema: Person });
    expect(name(z.object({}))).toBe('object');
    expect(name(z.array(Person))).toBe('list[Person]');
    const date = z.date();
    const node = typeNodeFromZod(date);
    expect(node).toMatchObject({ kind: 'custom', name: 'date' });
    expect(validateValue(node, new Date(0))).toEqual(new Date(0));
  });
});
