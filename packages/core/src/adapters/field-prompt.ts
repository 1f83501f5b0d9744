import type { Field } from '../signature/field.ts';
import { annotationName, type TypeNode, typeJsonSchema } from '../signature/type-node.ts';
import { pyStrip, pythonJsonDumps, pythonStr } from './python-text.ts';

/**
 * How DSPy describes fields and their types inside prompts (`dspy/adapters/utils.py`:
 * `get_field_description_string`, `translate_field_type`, `_get_json_schema`, `get_annotation_name`).
 *
 * @module
 */

/** Python type names of DSPy's built-in `dspy.Type` subclasses, which never get nested XML or schema notes. */
export const DSPY_BUILTIN_TYPE_NAMES: ReadonlySet<string> = new Set([
  'ToolCalls',
  'Tool',
  'Image',
  'Audio',
  'File',
  'Code',
  'Reasoning',
  'History',
  'Citations',
  'Document',
]);

/** True when the field's annotation is exactly Python `str` (untyped fields are `str`). */
export function isStrType(type: TypeNode): boolean {
  return type.kind === 'str';
}

/** True when the field is DSPy's `dspy.ToolCalls` output type. */
export function isToolCallsType(type: TypeNode): boolean {
  return type.kind === 'custom' && type.name === 'ToolCalls';
}

/** True when the annotation is a `dspy.History`. */
export function isHistoryType(type: TypeNode): boolean {
  return type.kind === 'history';
}

/**
 * Recursively orders object keys as DSPy's `move_type_to_front` does: `"type"` first, every other key sorted
 * (by code point, as Python sorts strings).
 */
export function moveTypeToFront(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(moveTypeToFront);
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value as Record<string, unknown>);
  entries.sort(([a], [b]) => {
    if (a === 'type' || b === 'type') return a === 'type' ? (b === 'type' ? 0 : -1) : 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
  return Object.fromEntries(entries.map(([k, v]) => [k, moveTypeToFront(v)]));
}

/** The JSON schema DSPy shows the LM for a type: pydantic's schema with `"type"` first, other keys sorted. */
export function promptJsonSchema(type: TypeNode): Record<string, unknown> {
  return moveTypeToFront(typeJsonSchema(type)) as Record<string, unknown>;
}

/**
 * `translate_field_type`: the placeholder `{name}` plus, for output fields, a type note such as
 * `        # note: the value you produce must be a single float value`.
 */
export function translateFieldType(field: Field): string {
  const type = field.type;
  let desc = '';
  if (field.kind === 'input' || isStrType(type)) {
    desc = '';
  } else if (type.kind === 'bool') {
    desc = 'must be True or False';
  } else if (type.kind === 'int' || type.kind === 'float') {
    desc = `must be a single ${type.kind} value`;
  } else if (type.kind === 'literal') {
    // Strongly discourages answers of the form `Literal['x']` or values outside the set.
    desc = `must exactly match (no extra characters) one of: ${type.values.map((v) => pythonStr(v)).join('; ')}`;
  } else {
    desc = `must adhere to the JSON schema: ${pythonJsonDumps(promptJsonSchema(type))}`;
  }
  const note = desc ? `${' '.repeat(8)}# note: the value you produce ${desc}` : '';
  return `{${field.name}}${note}`;
}

/**
 * `get_field_description_string`: ``"1. `name` (type): desc"`` per field, joined with newlines and stripped, so
 * every non-last field without a description keeps a trailing space.
 */
export function fieldDescriptionString(fields: readonly Field[]): string {
  const lines = fields.map((field, idx) => {
    const desc = field.desc !== `\${${field.name}}` ? field.desc : '';
    let line = `${idx + 1}. \`${field.name}\` (${annotationName(field.type)}): ${desc}`;
    if (field.constraints) line += `\nConstraints: ${field.constraints}`;
    return line;
  });
  return pyStrip(lines.join('\n'));
}

/**
 * The `(must be formatted as a valid Python …)` suffix of an output field in the user message's output
 * requirements; empty for `str` fields.
 */
export function outputTypeInfo(field: Field): string {
  if (isToolCallsType(field.type)) {
    return ' (must be a JSON object like {"tool_calls": [{"name": "...", "args": {...}}]})';
  }
  if (isStrType(field.type)) return '';
  return ` (must be formatted as a valid Python ${annotationName(field.type)})`;
}
