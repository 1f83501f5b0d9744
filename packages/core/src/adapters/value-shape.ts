import { type TypeNode, typeJsonSchema } from '../signature/type-node.ts';
import type { NumberStyle, NumberStyleHint } from './python-text.ts';

/**
 * Number-style hints derived from a field's declared type. DSPy prints whatever Python type the value has;
 * JavaScript values carry no int/float distinction, so the declared type stands in for it: a number at a
 * `float` position prints as `1.0`, at an `int` position as `1`, anywhere else by inspection. Custom (schema)
 * types are walked through their JSON schema (`number` → float, `integer` → int).
 *
 * @module
 */

type JsonSchema = Record<string, unknown>;

const AUTO: NumberStyleHint = { style: 'auto', child: () => AUTO };

function unionStyle(options: readonly TypeNode[]): NumberStyle {
  if (options.some((o) => o.kind === 'int')) return 'int';
  if (options.some((o) => o.kind === 'float')) return 'float';
  return 'auto';
}

/** A {@link NumberStyleHint} for values of the given declared type (`undefined` → inspect each number). */
export function numberHintForType(type: TypeNode | undefined): NumberStyleHint {
  if (type === undefined) return AUTO;
  switch (type.kind) {
    case 'float':
      return { style: 'float', child: () => AUTO };
    case 'int':
      return { style: 'int', child: () => AUTO };
    case 'list':
      return { style: 'auto', child: () => numberHintForType(type.item) };
    case 'tuple':
      return {
        style: 'auto',
        child: (key) => {
          const index = typeof key === 'number' ? key : Number(key);
          const item = type.variadic ? type.items[0] : type.items[index];
          return numberHintForType(item);
        },
      };
    case 'dict':
      return { style: 'auto', child: () => numberHintForType(type.value) };
    case 'union':
      return {
        style: unionStyle(type.options),
        child: (key, value) => {
          // The child belongs to whichever option describes a container; pick the first that fits.
          const container = type.options.find((o) => o.kind !== 'none' && o.kind !== 'int' && o.kind !== 'float');
          const fitting = type.options.filter((o) => o.kind !== 'none');
          return (container ? numberHintForType(container) : numberHintForType(fitting[0])).child(key, value);
        },
      };
    case 'custom': {
      let schema: JsonSchema;
      try {
        schema = typeJsonSchema(type);
      } catch {
        return AUTO;
      }
      return numberHintForSchema(schema, (schema.$defs as Record<string, JsonSchema> | undefined) ?? {});
    }
    default:
      return AUTO;
  }
}

function resolveRef(schema: JsonSchema, defs: Record<string, JsonSchema>): JsonSchema {
  const ref = schema.$ref;
  if (typeof ref !== 'string') return schema;
  const name = ref.split('/').pop() ?? '';
  return defs[name] ?? schema;
}

function schemaTypes(schema: JsonSchema): string[] {
  const t = schema.type;
  if (typeof t === 'string') return [t];
  if (Array.isArray(t)) return t.filter((x): x is string => typeof x === 'string');
  return [];
}

/** A {@link NumberStyleHint} that follows a JSON schema (`number` → float, `integer` → int). */
export function numberHintForSchema(raw: JsonSchema, defs: Record<string, JsonSchema>): NumberStyleHint {
  const schema = resolveRef(raw, defs);
  const choices = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (Array.isArray(choices)) {
    const resolved = choices.map((c) => resolveRef(c, defs));
    const types = resolved.flatMap(schemaTypes);
    const style: NumberStyle = types.includes('integer') ? 'int' : types.includes('number') ? 'float' : 'auto';
    return {
      style,
      child: (key, value) => {
        const wanted = Array.isArray(value) ? 'array' : 'object';
        const option = resolved.find((c) => schemaTypes(c).includes(wanted) || (wanted === 'object' && c.properties));
        return option ? numberHintForSchema(option, defs).child(key, value) : AUTO;
      },
    };
  }
  const types = schemaTypes(schema);
  const style: NumberStyle = types.includes('integer') ? 'int' : types.includes('number') ? 'float' : 'auto';
  return {
    style,
    child: (key) => {
      if (typeof key === 'number') {
        const prefix = schema.prefixItems as JsonSchema[] | undefined;
        const item = Array.isArray(prefix) ? (prefix[key] ?? schema.items) : schema.items;
        return item && typeof item === 'object' ? numberHintForSchema(item as JsonSchema, defs) : AUTO;
      }
      const props = schema.properties as Record<string, JsonSchema> | undefined;
      const prop = props?.[key] ?? schema.additionalProperties;
      return prop && typeof prop === 'object' ? numberHintForSchema(prop as JsonSchema, defs) : AUTO;
    },
  };
}
