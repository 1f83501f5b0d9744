import type { z } from 'zod';
import { makeUnion } from './parse-type-expression.ts';
import type { TypeNode } from './type-node.ts';

/** The slice of zod's internal definition object this module reads. */
interface ZodDefLike {
  type: string;
  innerType?: z.ZodType;
  element?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  items?: z.ZodType[];
  rest?: z.ZodType | null;
  options?: z.ZodType[];
  entries?: Record<string, string | number>;
  values?: unknown[];
  checks?: { _zod: { def: { check: string; format?: string } } }[];
}

function defOf(schema: z.ZodType): ZodDefLike {
  return (schema as unknown as { _zod: { def: ZodDefLike } })._zod.def;
}

function isIntegerSchema(schema: z.ZodType, def: ZodDefLike): boolean {
  if ((schema as unknown as { isInt?: boolean }).isInt === true) return true;
  return (def.checks ?? []).some(
    (check) => check._zod.def.check === 'number_format' && /int/.test(check._zod.def.format ?? ''),
  );
}

/**
 * The name a zod schema gets when it becomes a custom type: its `.meta({ title })`, else its `.meta({ id })`,
 * else zod's kind (`object`, `date`, `pipe`, ...).
 */
export function zodTypeName(schema: z.ZodType): string {
  const meta = (schema as unknown as { meta?: () => Record<string, unknown> | undefined }).meta?.();
  if (typeof meta?.title === 'string' && meta.title !== '') return meta.title;
  if (typeof meta?.id === 'string' && meta.id !== '') return meta.id;
  return defOf(schema).type;
}

/**
 * Maps a zod schema onto the signature type language: `z.string()` → `str`, `z.number().int()` → `int`,
 * `z.number()` → `float`, `z.boolean()` → `bool`, `z.array(T)` → `list[T]`, `z.record(K, V)` → `dict[K, V]`,
 * `z.enum`/`z.literal` → `Literal[...]`, `.optional()`/`.nullable()` → `Optional[T]`, `z.tuple` → `tuple[...]`,
 * `z.union` → `Union[...]`, `z.any()`/`z.unknown()` → `Any`, `z.null()` → `None`. `.default()`/`.readonly()`/
 * `.catch()` wrappers map to their inner type. Everything else (objects, dates, pipes, ...) becomes a custom type
 * named by {@link zodTypeName} and validated by the schema itself.
 *
 * @example annotationName(typeNodeFromZod(z.array(z.string()).optional())) // => 'Union[list[str], NoneType]'
 */
export function typeNodeFromZod(schema: z.ZodType): TypeNode {
  const def = defOf(schema);
  switch (def.type) {
    case 'string':
      return { kind: 'str' };
    case 'number':
      return isIntegerSchema(schema, def) ? { kind: 'int' } : { kind: 'float' };
    case 'boolean':
      return { kind: 'bool' };
    case 'any':
    case 'unknown':
      return { kind: 'any' };
    case 'null':
    case 'undefined':
    case 'void':
      return { kind: 'none' };
    case 'array':
      return { kind: 'list', item: typeNodeFromZod(def.element as z.ZodType) };
    case 'record':
      return {
        kind: 'dict',
        key: typeNodeFromZod(def.keyType as z.ZodType),
        value: typeNodeFromZod(def.valueType as z.ZodType),
      };
    case 'enum': {
      const options =
        (schema as unknown as { options?: (string | number)[] }).options ?? Object.values(def.entries ?? {});
      return { kind: 'literal', values: [...options] };
    }
    case 'literal': {
      const values = (def.values ?? []).map((v) => (v === undefined ? null : typeof v === 'bigint' ? Number(v) : v));
      return { kind: 'literal', values: values as (string | number | boolean | null)[] };
    }
    case 'optional':
    case 'nullable':
      return makeUnion([typeNodeFromZod(def.innerType as z.ZodType), { kind: 'none' }], 'typing');
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return typeNodeFromZod(def.innerType as z.ZodType);
    case 'union':
      return makeUnion((def.options ?? []).map(typeNodeFromZod), 'typing');
    case 'tuple': {
      const items = (def.items ?? []).map(typeNodeFromZod);
      if (def.rest) {
        // Python can only say tuple[T, ...]; a fixed prefix plus a rest type has no annotation, so keep zod's.
        if (items.length === 0) return { kind: 'tuple', items: [typeNodeFromZod(def.rest)], variadic: true };
        break;
      }
      return { kind: 'tuple', items };
    }
  }
  return { kind: 'custom', name: zodTypeName(schema), schema };
}
