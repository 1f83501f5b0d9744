import { literalAnnotationString, pythonNumberStr } from './python-repr.ts';
import type { TypeNode } from './type-node.ts';

/**
 * The Python annotation name DSPy's `get_annotation_name` prints into prompts: `str`, `int`, `list[str]`,
 * `dict[str, Any]`, `Literal['a', 'b']`, `Union[str, NoneType]` (for `Optional`/`Union`),
 * `UnionType[str, NoneType]` (for `A | B`), `tuple[int, str]`, `History`, or a custom type's name.
 *
 * @example annotationName(parseTypeExpression('Optional[list[int]]')) // => 'Union[list[int], NoneType]'
 */
export function annotationName(t: TypeNode): string {
  switch (t.kind) {
    case 'str':
    case 'int':
    case 'float':
    case 'bool':
      return t.kind;
    case 'any':
      return 'Any';
    case 'none':
      return 'NoneType';
    case 'history':
      return 'History';
    case 'custom':
      return t.name;
    case 'list':
      return t.bare ? 'list' : `list[${annotationName(t.item)}]`;
    case 'dict':
      return t.bare ? 'dict' : `dict[${annotationName(t.key)}, ${annotationName(t.value)}]`;
    case 'tuple':
      if (t.bare) return 'tuple';
      // Python's get_args keeps the Ellipsis object, whose str() is "Ellipsis".
      return `tuple[${[...t.items.map(annotationName), ...(t.variadic ? ['Ellipsis'] : [])].join(', ')}]`;
    case 'union':
      return `${t.syntax === 'typing' ? 'Union' : 'UnionType'}[${t.options.map(annotationName).join(', ')}]`;
    case 'literal':
      return `Literal[${t.values.map(literalValueName).join(', ')}]`;
  }
}

function literalValueName(value: string | number | boolean | null): string {
  if (typeof value === 'string') return literalAnnotationString(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value === null) return 'None';
  return pythonNumberStr(value);
}
