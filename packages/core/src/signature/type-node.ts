/**
 * The type language of signatures: a small tree mirroring the Python annotations DSPy accepts
 * (`str`, `list[str]`, `Optional[int]`, `Literal['a', 'b']`, ...), plus named custom types backed by zod.
 *
 * @module
 */
import type { z } from 'zod';

/**
 * A parsed field type. Mirrors the Python annotation it stands for closely enough to reproduce DSPy's
 * annotation names and pydantic's JSON schemas and validation.
 */
export type TypeNode =
  | { kind: 'str' }
  | { kind: 'int' }
  | { kind: 'float' }
  | { kind: 'bool' }
  | { kind: 'any' }
  | { kind: 'none' }
  /** `list[T]`; bare `list` has `item: any` and `bare: true` (its Python name is then `list`). */
  | { kind: 'list'; item: TypeNode; bare?: boolean }
  /** `dict[K, V]`; bare `dict` is `dict[str, Any]` with `bare: true`. */
  | { kind: 'dict'; key: TypeNode; value: TypeNode; bare?: boolean }
  /** `tuple[int, str]`; `tuple[int, ...]` sets `variadic` (then `items` holds the one repeated type). */
  | { kind: 'tuple'; items: TypeNode[]; variadic?: boolean; bare?: boolean }
  /** `Optional[T]` / `Union[A, B]` (syntax `typing`) or `A | B` (syntax `pipe`). */
  | { kind: 'union'; options: TypeNode[]; syntax: 'typing' | 'pipe' }
  | { kind: 'literal'; values: (string | number | boolean | null)[] }
  | { kind: 'history' }
  /** A named type validated by a zod schema (DSPy: a pydantic model or other custom class). */
  | { kind: 'custom'; name: string; schema: z.ZodType };

/** The `kind` tags of {@link TypeNode}. */
export type TypeNodeKind = TypeNode['kind'];

export { annotationName } from './annotation-name.ts';
export { parseTypeExpression } from './parse-type-expression.ts';
export { typeNodeFromZod } from './type-from-zod.ts';
export { typeJsonSchema } from './type-json-schema.ts';
export { isOptionalType, typeNodesEqual } from './type-node-utils.ts';
export { validateValue } from './validate-value.ts';
