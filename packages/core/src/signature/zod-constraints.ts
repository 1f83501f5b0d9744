import type { z } from 'zod';
import { pythonNumberStr } from './python-repr.ts';

interface CheckDef {
  check: string;
  value?: number | bigint;
  inclusive?: boolean;
  minimum?: number;
  maximum?: number;
  length?: number;
}

interface WrapperDef {
  type: string;
  innerType?: z.ZodType;
  checks?: { _zod: { def: CheckDef } }[];
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']);

function num(value: number | bigint | undefined): string {
  return typeof value === 'bigint' ? value.toString() : pythonNumberStr(value ?? 0);
}

/**
 * DSPy's constraint text for a field (pydantic `gt ge lt le min_length max_length multiple_of`, rendered through
 * `PYDANTIC_CONSTRAINT_MAP`), read from a zod schema's checks in declaration order, e.g.
 * `"greater than: 0, less than or equal to: 10"`. `undefined` when the schema has none.
 */
export function zodConstraints(schema: z.ZodType): string | undefined {
  let def = (schema as unknown as { _zod: { def: WrapperDef } })._zod.def;
  while (WRAPPERS.has(def.type) && def.innerType) {
    def = (def.innerType as unknown as { _zod: { def: WrapperDef } })._zod.def;
  }
  const parts: string[] = [];
  for (const check of def.checks ?? []) {
    const c = check._zod.def;
    switch (c.check) {
      case 'greater_than':
        parts.push(`${c.inclusive ? 'greater than or equal to' : 'greater than'}: ${num(c.value)}`);
        break;
      case 'less_than':
        parts.push(`${c.inclusive ? 'less than or equal to' : 'less than'}: ${num(c.value)}`);
        break;
      case 'min_length':
        parts.push(`minimum length: ${num(c.minimum)}`);
        break;
      case 'max_length':
        parts.push(`maximum length: ${num(c.maximum)}`);
        break;
      case 'length_equals':
        parts.push(`minimum length: ${num(c.length)}`, `maximum length: ${num(c.length)}`);
        break;
      case 'multiple_of':
        parts.push(`a multiple of the given number: ${num(c.value)}`);
        break;
    }
  }
  return parts.length > 0 ? parts.join(', ') : undefined;
}
