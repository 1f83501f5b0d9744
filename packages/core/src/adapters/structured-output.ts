import type { Field } from '../signature/field.ts';
import { typeJsonSchema } from '../signature/type-node.ts';
import { isToolCallsType } from './field-prompt.ts';

type JsonSchema = Record<string, unknown>;

/** Python `str.title()`: the first cased letter of each run is upper-cased, the rest lower-cased. */
export function pythonTitle(text: string): string {
  let out = '';
  let previousCased = false;
  for (const ch of text) {
    const cased = ch.toLowerCase() !== ch.toUpperCase();
    out += cased ? (previousCased ? ch.toLowerCase() : ch.toUpperCase()) : ch;
    previousCased = cased;
  }
  return out;
}

/** pydantic's default field title: `name.title().replace("_", " ")`. */
export function pydanticFieldTitle(name: string): string {
  return pythonTitle(name).replaceAll('_', ' ');
}

// DSPy's enforce_required: every object lists all its properties as required and forbids extras, recursively.
function enforceRequired(schema: JsonSchema): void {
  if (schema.type === 'object') {
    const props = schema.properties as Record<string, unknown> | undefined;
    if (props !== undefined) {
      schema.required = Object.keys(props);
      schema.additionalProperties = false;
      for (const sub of Object.values(props)) {
        if (typeof sub === 'object' && sub !== null) enforceRequired(sub as JsonSchema);
      }
    } else {
      schema.properties = {};
      schema.required = [];
      schema.additionalProperties = false;
    }
  }
  if (schema.type === 'array' && typeof schema.items === 'object' && schema.items !== null) {
    enforceRequired(schema.items as JsonSchema);
  }
  for (const key of ['$defs', 'definitions']) {
    const defs = schema[key] as Record<string, unknown> | undefined;
    if (defs) for (const def of Object.values(defs)) enforceRequired(def as JsonSchema);
  }
}

/**
 * The JSON schema of DSPy's `DSPyProgramOutputs` model for Structured Outputs: one property per output field
 * (a natively called `ToolCalls` field is left out), all required, no additional properties, recursively.
 *
 * @throws Error when an output is an open-ended `dict`, which Structured Outputs cannot express.
 */
export function structuredOutputSchema(outputFields: readonly Field[], useNativeFunctionCalling: boolean): JsonSchema {
  for (const field of outputFields) {
    if (field.type.kind === 'dict') {
      throw new Error(
        `Field '${field.name}' has an open-ended mapping type which is not supported by Structured Outputs.`,
      );
    }
  }
  const properties: Record<string, JsonSchema> = {};
  const defs: Record<string, unknown> = {};
  for (const field of outputFields) {
    if (useNativeFunctionCalling && isToolCallsType(field.type)) continue;
    const schema = structuredClone(typeJsonSchema(field.type));
    if (schema.$defs && typeof schema.$defs === 'object') {
      Object.assign(defs, schema.$defs);
      delete schema.$defs;
    }
    if (schema.title === undefined && schema.$ref === undefined) schema.title = pydanticFieldTitle(field.name);
    if (field.hasDefault && field.default !== undefined) schema.default = field.default;
    properties[field.name] = schema;
  }
  const root: JsonSchema = {
    additionalProperties: false,
    properties,
    required: Object.keys(properties),
    title: 'DSPyProgramOutputs',
    type: 'object',
  };
  if (Object.keys(defs).length > 0) root.$defs = defs;
  enforceRequired(root);
  return root;
}
