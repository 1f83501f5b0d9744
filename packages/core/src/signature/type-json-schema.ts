import { z } from 'zod';
import type { TypeNode } from './type-node.ts';

type JsonSchema = Record<string, unknown>;

/**
 * The JSON schema pydantic's `TypeAdapter(T).json_schema()` produces for the type, which DSPy's adapters embed
 * in prompts (`must adhere to the JSON schema: ...`) and structured-output requests. Key order is not
 * significant; adapters sort keys themselves.
 *
 * Custom types come from `z.toJSONSchema` (input side), without `$schema`, with `type: [T, 'null']` rewritten
 * to pydantic's `anyOf` form and without the safe-integer bounds zod adds to `int()`.
 *
 * @example typeJsonSchema(parseTypeExpression('list[str]')) // => { items: { type: 'string' }, type: 'array' }
 */
export function typeJsonSchema(t: TypeNode): JsonSchema {
  switch (t.kind) {
    case 'str':
      return { type: 'string' };
    case 'int':
      return { type: 'integer' };
    case 'float':
      return { type: 'number' };
    case 'bool':
      return { type: 'boolean' };
    case 'any':
      return {};
    case 'none':
      return { type: 'null' };
    case 'list':
      return { items: typeJsonSchema(t.item), type: 'array' };
    case 'dict': {
      const value = typeJsonSchema(t.value);
      return { additionalProperties: Object.keys(value).length === 0 ? true : value, type: 'object' };
    }
    case 'tuple':
      if (t.variadic) return { items: typeJsonSchema(t.items[0] ?? { kind: 'any' }), type: 'array' };
      return {
        maxItems: t.items.length,
        minItems: t.items.length,
        prefixItems: t.items.map(typeJsonSchema),
        type: 'array',
      };
    case 'union':
      return unionSchema(t.options.map(typeJsonSchema));
    case 'literal':
      return literalSchema(t.values);
    case 'history':
      return {
        additionalProperties: false,
        properties: {
          messages: {
            items: { additionalProperties: true, type: 'object' },
            title: 'Messages',
            type: 'array',
          },
        },
        required: ['messages'],
        title: 'History',
        type: 'object',
      };
    case 'custom':
      return zodJsonSchema(t.schema);
  }
}

// pydantic flattens nested anyOf and collapses a lone option.
function unionSchema(options: JsonSchema[]): JsonSchema {
  const flat: JsonSchema[] = [];
  for (const option of options) {
    const keys = Object.keys(option);
    if (keys.length === 1 && Array.isArray(option.anyOf)) flat.push(...(option.anyOf as JsonSchema[]));
    else flat.push(option);
  }
  if (flat.length === 1) return flat[0] as JsonSchema;
  return { anyOf: flat };
}

function literalSchema(values: readonly (string | number | boolean | null)[]): JsonSchema {
  const result: JsonSchema = values.length === 1 ? { const: values[0] } : { enum: [...values] };
  const types = new Set(
    values.map((v) => {
      if (v === null) return 'null';
      if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
      return typeof v === 'string' ? 'string' : 'boolean';
    }),
  );
  if (types.size === 1) result.type = [...types][0];
  return result;
}

function zodJsonSchema(schema: z.ZodType): JsonSchema {
  const raw = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  delete raw.$schema;
  return normalizeZodSchema(raw) as JsonSchema;
}

function normalizeZodSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(normalizeZodSchema);
  if (typeof node !== 'object' || node === null) return node;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) out[key] = normalizeZodSchema(value);
  if (out.type === 'integer' && out.minimum === Number.MIN_SAFE_INTEGER && out.maximum === Number.MAX_SAFE_INTEGER) {
    delete out.minimum;
    delete out.maximum;
  }
  if (Array.isArray(out.type)) {
    const { type, ...rest } = out;
    const annotations: JsonSchema = {};
    const constraints: JsonSchema = {};
    for (const [key, value] of Object.entries(rest)) {
      if (key === 'title' || key === 'description' || key === 'default') annotations[key] = value;
      else constraints[key] = value;
    }
    const anyOf = (type as string[]).map((t) => (t === 'null' ? { type: 'null' } : { ...constraints, type: t }));
    return { anyOf, ...annotations };
  }
  return out;
}
