import type { TypeNode } from './type-node.ts';

/**
 * Structural equality of two type trees. Custom types are equal when they share a name and the same schema
 * object; union syntax (`Optional[T]` vs `T | None`) counts, because it changes the annotation name.
 */
export function typeNodesEqual(a: TypeNode, b: TypeNode): boolean {
  switch (a.kind) {
    case 'list':
      return b.kind === 'list' && !!a.bare === !!b.bare && typeNodesEqual(a.item, b.item);
    case 'dict':
      return (
        b.kind === 'dict' && !!a.bare === !!b.bare && typeNodesEqual(a.key, b.key) && typeNodesEqual(a.value, b.value)
      );
    case 'tuple':
      return (
        b.kind === 'tuple' &&
        !!a.variadic === !!b.variadic &&
        !!a.bare === !!b.bare &&
        a.items.length === b.items.length &&
        a.items.every((item, i) => typeNodesEqual(item, b.items[i] as TypeNode))
      );
    case 'union':
      return (
        b.kind === 'union' &&
        a.syntax === b.syntax &&
        a.options.length === b.options.length &&
        a.options.every((option, i) => typeNodesEqual(option, b.options[i] as TypeNode))
      );
    case 'literal':
      return (
        b.kind === 'literal' &&
        a.values.length === b.values.length &&
        a.values.every((value, i) => sameLiteral(value, b.values[i] as string | number | boolean | null))
      );
    case 'custom':
      return b.kind === 'custom' && a.name === b.name && a.schema === b.schema;
    default:
      return a.kind === b.kind;
  }
}

function sameLiteral(a: string | number | boolean | null, b: string | number | boolean | null): boolean {
  return typeof a === typeof b && Object.is(a, b);
}

/**
 * True when `None` is an accepted value: `Optional[T]`, `T | None`, `None`, `Any`, or a literal containing `None`.
 * Output fields of such types may be missing from an LM reply.
 */
export function isOptionalType(t: TypeNode): boolean {
  switch (t.kind) {
    case 'none':
      return true;
    case 'union':
      return t.options.some(isOptionalType);
    case 'literal':
      return t.values.includes(null);
    default:
      return false;
  }
}
