import { AdapterParseError } from '../errors.ts';
import type { Field } from '../signature/field.ts';
import { annotationName, type TypeNode, typeJsonSchema } from '../signature/type-node.ts';
import { hasValue } from './adapter.ts';
import { ChatAdapter, errorText, type FieldWithValue, requireOutputs } from './chat-adapter.ts';
import { DSPY_BUILTIN_TYPE_NAMES, isStrType, translateFieldType } from './field-prompt.ts';
import { formatFieldValue } from './format-value.ts';
import { lenientJsonLoads, parseValue } from './parse-value.ts';
import {
  isPlainObject,
  type NumberStyleHint,
  pyStrip,
  pythonInterpolate,
  pythonRepr,
  pythonStr,
  toJsonable,
} from './python-text.ts';
import type { AssistantMessageOptions, SignatureView, UserMessageOptions } from './types.ts';
import { numberHintForType } from './value-shape.ts';
import { parseXml, type XmlElement, XmlParseError, xmlToString } from './xml-parser.ts';

type JsonSchema = Record<string, unknown>;

function escapeXmlText(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;');
}

// Python's xml.sax.saxutils.quoteattr.
function quoteAttr(value: string): string {
  let data = value.replaceAll('&', '&amp;').replaceAll('>', '&gt;').replaceAll('<', '&lt;');
  data = data.replaceAll('\n', '&#10;').replaceAll('\r', '&#13;').replaceAll('\t', '&#9;');
  if (data.includes('"')) {
    if (data.includes("'")) return `"${data.replaceAll('"', '&quot;')}"`;
    return `'${data}'`;
  }
  return `"${data}"`;
}

// Python's str.isidentifier(), for the characters LMs and JSON keys realistically contain.
function isIdentifier(name: string): boolean {
  return /^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*$/u.test(name);
}

/** True when the output is rendered and parsed as nested XML (lists, dicts and custom models). */
export function usesNestedXml(type: TypeNode): boolean {
  let t = type;
  if (t.kind === 'union') {
    const options = t.options.filter((o) => o.kind !== 'none');
    if (options.length === 1 && options[0]) t = options[0];
  }
  if (t.kind === 'list') {
    if (t.bare) return false;
    const item = t.item;
    return !(item.kind === 'history' || (item.kind === 'custom' && DSPY_BUILTIN_TYPE_NAMES.has(item.name)));
  }
  if (t.kind === 'dict') return !t.bare;
  return t.kind === 'custom' && !DSPY_BUILTIN_TYPE_NAMES.has(t.name);
}

/** DSPy's `_value_to_xml`: compact nested XML for a JSON-serialized value (`<item>` for list entries). */
export function valueToXml(value: unknown, tag: string, hint: NumberStyleHint, key?: string): string {
  const attrs = key !== undefined ? ` key=${quoteAttr(key)}` : '';
  const v = toJsonable(value);
  if (Array.isArray(v)) {
    const children = v.map((item, i) => valueToXml(item, 'item', hint.child(i, item))).join('');
    return children ? `<${tag}${attrs}>${children}</${tag}>` : `<${tag}${attrs} />`;
  }
  if (isPlainObject(v)) {
    const children = Object.entries(v).map(([name, child]) => {
      const valid = isIdentifier(name.slice(0, 1) + name.slice(1).replaceAll('-', '_').replaceAll('.', '_'));
      return valid
        ? valueToXml(child, name, hint.child(name, child))
        : valueToXml(child, 'entry', hint.child(name, child), name);
    });
    return `<${tag}${attrs}>${children.join('')}</${tag}>`;
  }
  if (v === null || v === undefined) return `<${tag}${attrs} />`;
  return `<${tag}${attrs}>${escapeXmlText(pythonStr(v, hint))}</${tag}>`;
}

function resolveRef(schema: JsonSchema, defs: Record<string, JsonSchema>): JsonSchema {
  const ref = schema.$ref;
  if (typeof ref !== 'string') return schema;
  return defs[ref.split('/').pop() ?? ''] ?? schema;
}

function schemaToXml(tag: string, schema: JsonSchema, defs: Record<string, JsonSchema>, seen: Set<string>): string {
  const ref = schema.$ref;
  if (typeof ref === 'string') {
    const name = ref.split('/').pop() ?? '';
    const target = defs[name];
    if (seen.has(name) || !target) return `<${tag}>...</${tag}>`;
    return schemaToXml(tag, target, defs, new Set([...seen, name]));
  }
  const choices = schema.anyOf as JsonSchema[] | undefined;
  if (Array.isArray(choices) && choices.length > 0) {
    const choice = choices.find((s) => s.type !== 'null') ?? choices[0] ?? {};
    return schemaToXml(tag, choice, defs, seen);
  }
  if (schema.type === 'array') {
    const item = schemaToXml('item', (schema.items as JsonSchema | undefined) ?? {}, defs, seen);
    return `<${tag}>${item}</${tag}>`;
  }
  const props = (schema.properties as Record<string, JsonSchema> | undefined) ?? {};
  const children = Object.entries(props)
    .map(([name, child]) => schemaToXml(name, child, defs, seen))
    .join('');
  return children ? `<${tag}>${children}</${tag}>` : `<${tag}>...</${tag}>`;
}

/** DSPy's `_xml_schema`: the nested XML skeleton shown to the LM for a structured output type. */
export function xmlSchema(tag: string, type: TypeNode): string {
  const schema = typeJsonSchema(type);
  return schemaToXml(tag, schema, (schema.$defs as Record<string, JsonSchema> | undefined) ?? {}, new Set());
}

function groupChildren(element: XmlElement): Map<string, XmlElement[]> {
  const groups = new Map<string, XmlElement[]>();
  for (const child of element.children) {
    const name = child.tag === 'entry' ? (child.attrib.key ?? child.tag) : child.tag;
    const list = groups.get(name);
    if (list) list.push(child);
    else groups.set(name, [child]);
  }
  return groups;
}

// pydantic validates leaf text laxly ("3" → 3) even inside models; custom types here validate strictly with zod,
// so leaves whose schema is a number/integer/boolean/null are decoded as JSON first.
function leafValue(text: string, schema: JsonSchema): unknown {
  const t = schema.type;
  if (t === 'integer' || t === 'number' || t === 'boolean' || t === 'null') {
    const loaded = lenientJsonLoads(text);
    if (loaded.ok && typeof loaded.value !== 'string' && typeof loaded.value !== 'object') return loaded.value;
    if (loaded.ok && loaded.value === null) return null;
  }
  return text;
}

/** DSPy's `_elements_to_value`: maps same-named elements to a JSON-like value guided by a JSON schema. */
function elementsToValue(elements: XmlElement[], rawSchema: JsonSchema, defs: Record<string, JsonSchema>): unknown {
  let schema = resolveRef(rawSchema, defs);
  const first = elements[0];
  if (!first) return null;
  const choices = schema.anyOf as JsonSchema[] | undefined;
  if (Array.isArray(choices)) {
    const hasNull = choices.some((c) => c.type === 'null' && Object.keys(c).length === 1);
    if (hasNull && first.children.length === 0 && !pyStrip(first.text ?? '')) return null;
    const nonNull = choices.filter((c) => c.type !== 'null');
    schema = resolveRef(nonNull[0] ?? {}, defs);
    if (first.children.length > 0) {
      schema = resolveRef(nonNull.find((c) => c.type !== 'string') ?? schema, defs);
    }
  }
  if (schema.type === 'array') {
    let items = elements;
    if (elements.length === 1 && first.children.length === 0) {
      const text = pyStrip(first.text ?? '');
      if (!text) return [];
      if (text.startsWith('[')) return text;
    }
    const itemElements = elements.length === 1 ? groupChildren(first).get('item') : undefined;
    if (itemElements && itemElements.length > 0) items = itemElements;
    const itemSchema = (schema.items as JsonSchema | undefined) ?? {};
    return items.map((el) => elementsToValue([el], itemSchema, defs));
  }
  if (schema.type === 'string' && first.children.length > 0) {
    return (first.text ?? '') + first.children.map(xmlToString).join('');
  }
  const children = groupChildren(first);
  if (children.size === 0) {
    if (schema.type === 'object' && !pyStrip(first.text ?? '')) return {};
    const values = elements.map((el) => leafValue(pyStrip(el.text ?? ''), schema));
    return values.length === 1 ? values[0] : values;
  }
  const properties = (schema.properties as Record<string, JsonSchema> | undefined) ?? {};
  const extra = schema.additionalProperties;
  const childSchema = typeof extra === 'object' && extra !== null ? (extra as JsonSchema) : {};
  const out: Record<string, unknown> = {};
  for (const [name, items] of children) out[name] = elementsToValue(items, properties[name] ?? childSchema, defs);
  return out;
}

/** A pydantic-`FieldInfo`-like description of a field, as DSPy interpolates it into XML parse errors. */
function fieldInfoText(field: Field): string {
  const extra = `{'__dspy_field_type': '${field.kind}', 'desc': ${pythonRepr(field.desc)}, 'prefix': ${pythonRepr(field.prefix)}}`;
  const dflt = field.hasDefault ? ` default=${pythonRepr(field.default)}` : '';
  return `annotation=${annotationName(field.type)} required=${field.hasDefault ? 'False' : 'True'}${dflt} json_schema_extra=${extra}`;
}

/**
 * DSPy's `XMLAdapter` (`dspy/adapters/xml_adapter.py`): every field is wrapped in `<name>...</name>`; structured
 * outputs (lists, dicts, models) use nested XML with `<item>` list entries; string outputs escape `&` and `<`.
 * Replies are parsed as XML under a synthetic `<dspy_root>`.
 */
export class XMLAdapter extends ChatAdapter {
  /** DSPy class name. */
  override readonly name: string = 'XMLAdapter';

  /** `<name>\nvalue\n</name>` blocks (nested XML for structured output values), joined by blank lines. */
  override formatFieldWithValue(fieldsWithValues: readonly FieldWithValue[]): string {
    const blocks = fieldsWithValues.map(([field, value]) => {
      const isOutput = field.kind === 'output';
      const jsonable = toJsonable(value);
      if (isOutput && usesNestedXml(field.type) && (Array.isArray(jsonable) || isPlainObject(jsonable))) {
        return valueToXml(jsonable, field.name, numberHintForType(field.type));
      }
      let formatted = formatFieldValue(value, field.type);
      if (isOutput && isStrType(field.type)) formatted = escapeXmlText(formatted);
      return `<${field.name}>\n${formatted}\n</${field.name}>`;
    });
    return pyStrip(blocks.join('\n\n'));
  }

  /** Input placeholders, then output placeholders (nested skeletons for structured outputs); no `completed`. */
  override formatFieldStructure(signature: SignatureView): string {
    const formatField = (field: Field) =>
      field.kind === 'output' && usesNestedXml(field.type)
        ? xmlSchema(field.name, field.type)
        : this.formatFieldWithValue([[field, translateFieldType(field)]]);
    const groups = [signature.inputFields, signature.outputFields].map((group) => group.map(formatField).join('\n\n'));
    return [
      'All interactions will be structured in the following way, with the appropriate values filled in.',
      ...groups,
    ].join('\n\n');
  }

  /** Prefix, present inputs as XML blocks, requirements (main request), suffix. */
  override formatUserMessageContent(
    signature: SignatureView,
    inputs: Record<string, unknown>,
    options: UserMessageOptions = {},
  ): string {
    const present = signature.inputFields.filter((f) => hasValue(inputs, f.name));
    const parts = [options.prefix ?? '', this.formatFieldWithValue(present.map((f) => [f, inputs[f.name]] as const))];
    if (options.mainRequest) parts.push(this.userMessageOutputRequirements(signature));
    parts.push(options.suffix ?? '');
    return pyStrip(parts.join('\n\n'));
  }

  /** Every output field as an XML block (no `completed` marker). */
  override formatAssistantMessageContent(
    signature: SignatureView,
    outputs: Record<string, unknown>,
    options: AssistantMessageOptions = {},
  ): string {
    const missing = options.missingFieldMessage ?? null;
    return this.formatFieldWithValue(
      signature.outputFields.map((f) => [f, hasValue(outputs, f.name) ? outputs[f.name] : missing] as const),
    );
  }

  /** "Respond with the corresponding output fields wrapped in XML tags `<a>`, then `<b>`." plus nested skeletons. */
  override userMessageOutputRequirements(signature: SignatureView): string {
    const fields = signature.outputFields.map((f) => `\`<${f.name}>\``).join(', then ');
    const schemas = signature.outputFields.filter((f) => usesNestedXml(f.type)).map((f) => xmlSchema(f.name, f.type));
    const nested = schemas.length > 0 ? ` Use this nested XML structure: ${schemas.join(' ')}` : '';
    return `Respond with the corresponding output fields wrapped in XML tags ${fields}.${nested}`;
  }

  /**
   * Parses the reply as XML under `<dspy_root>`, maps each output element to a value guided by the field's JSON
   * schema (trying each `anyOf` option), then applies `parse_value`.
   *
   * @throws {AdapterParseError} "Failed to parse XML: ..." for malformed XML, or a field/missing-field error.
   */
  override parse(signature: SignatureView, completion: string): Record<string, unknown> {
    let root: XmlElement;
    try {
      root = parseXml(`<dspy_root>${completion}</dspy_root>`);
    } catch (error) {
      if (!(error instanceof XmlParseError)) throw error;
      throw new AdapterParseError({
        adapterName: this.name,
        signature: signature.toString(),
        lmResponse: completion,
        message: `Failed to parse XML: ${error.message}`,
        expectedFields: signature.outputFields.map((f) => f.name),
        cause: error,
      });
    }
    const elements = groupChildren(root);
    const fields: Record<string, unknown> = {};
    for (const field of signature.outputFields) {
      const found = elements.get(field.name);
      if (!found) continue;
      const schema = typeJsonSchema(field.type);
      const defs = (schema.$defs as Record<string, JsonSchema> | undefined) ?? {};
      const candidates = [schema, ...((schema.anyOf as JsonSchema[] | undefined) ?? [])];
      let value: unknown = null;
      let lastError: unknown;
      let parsed = false;
      for (const candidate of candidates) {
        try {
          value = elementsToValue(found, candidate, defs);
          fields[field.name] = parseValue(value, field.type);
          parsed = true;
          break;
        } catch (error) {
          lastError = error;
        }
      }
      if (!parsed) {
        throw new AdapterParseError({
          adapterName: this.name,
          signature: signature.toString(),
          lmResponse: completion,
          message: `Failed to parse field ${fieldInfoText(field)} with value ${pythonInterpolate(value)}: ${errorText(lastError)}`,
          expectedFields: signature.outputFields.map((f) => f.name),
          cause: lastError,
        });
      }
    }
    return requireOutputs(this.name, signature, completion, fields);
  }
}
