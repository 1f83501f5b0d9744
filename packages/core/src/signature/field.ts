import type { TypeNode } from './type-node.ts';
import { typeNodesEqual } from './type-node-utils.ts';

export { inferPrefix } from './infer-prefix.ts';

/** One input or output field of a {@link Signature}. Fields are immutable values. */
export interface Field {
  /** The field's name, a valid identifier. */
  readonly name: string;
  /** Whether the field is given to the LM or produced by it. */
  readonly kind: 'input' | 'output';
  /** The field's type; `str` when none was given. */
  readonly type: TypeNode;
  /** True when no type was given (DSPy's `IS_TYPE_UNDEFINED`); `type` is then `str`. */
  readonly typeUndefined: boolean;
  /** Description shown to the LM; defaults to the literal text `${name}` (e.g. `'${question}'`). */
  readonly desc: string;
  /** Legacy prefix (kept for DSPy-compatible saved state); defaults to `inferPrefix(name) + ':'`. */
  readonly prefix: string;
  /** True when the field may be missing from an LM reply: it has a default, or its type accepts `None`. */
  readonly hasDefault: boolean;
  /** The default value, when {@link Field.hasDefault} (`null` for optional types without an explicit default). */
  readonly default?: unknown;
  /** DSPy's constraint text, e.g. `"greater than: 0, less than: 10"`, when the type carries constraints. */
  readonly constraints?: string;
}

/** True when two fields agree on name, kind, description, prefix and type. */
export function fieldsEqual(a: Field, b: Field): boolean {
  return (
    a.name === b.name &&
    a.kind === b.kind &&
    a.desc === b.desc &&
    a.prefix === b.prefix &&
    a.constraints === b.constraints &&
    typeNodesEqual(a.type, b.type)
  );
}
