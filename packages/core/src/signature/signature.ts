import type { z } from 'zod';
import { SignatureError, StateError } from '../errors.ts';
import { type Field, fieldsEqual } from './field.ts';
import { inferPrefix } from './infer-prefix.ts';
import type { InferInputs, InferOutputs } from './infer-signature-types.ts';
import { FIELD_NAME, parseSignatureString } from './parse-signature-string.ts';
import { parseTypeExpression } from './parse-type-expression.ts';
import { typeNodeFromZod } from './type-from-zod.ts';
import type { TypeNode } from './type-node.ts';
import { isOptionalType } from './type-node-utils.ts';
import { zodConstraints } from './zod-constraints.ts';

/** How to declare a field when building or editing a {@link Signature}. */
export interface FieldInit {
  /** Input (given to the LM) or output (produced by it). */
  kind: 'input' | 'output';
  /** A type tree, a zod schema, or a type expression such as `'list[str]'`; omitted means untyped `str`. */
  type?: TypeNode | z.ZodType | string;
  /** Description for the LM; defaults to the zod schema's `.describe()` text, else `'${name}'`. */
  desc?: string;
  /** Legacy prefix; defaults to `inferPrefix(name) + ':'`. */
  prefix?: string;
  /** Value used when the field is missing (an input not passed, an output the LM left out). */
  default?: unknown;
}

/** A signature's persisted state, as in DSPy's saved programs (`signature` key of a predictor). */
export interface SignatureState {
  /** The instructions. */
  instructions: string;
  /** One entry per field, inputs then outputs. */
  fields: { prefix: string; description: string }[];
}

/** Options for {@link Signature.parse}. */
export interface SignatureParseOptions<C extends Record<string, z.ZodType> = Record<string, z.ZodType>> {
  /** Custom type names usable in the text, each validated by its zod schema; they win over {@link registerType}. */
  types?: C;
}

function isZodSchema(value: unknown): value is z.ZodType {
  return typeof value === 'object' && value !== null && '_zod' in value;
}

function resolveType(type: TypeNode | z.ZodType | string): { node: TypeNode; schema?: z.ZodType } {
  if (typeof type === 'string') return { node: parseTypeExpression(type) };
  if (isZodSchema(type)) return { node: typeNodeFromZod(type), schema: type };
  return { node: type };
}

function zodDefault(schema: z.ZodType): { found: boolean; value?: unknown } {
  let def = (schema as unknown as { _zod: { def: { type: string; innerType?: z.ZodType; defaultValue?: unknown } } })
    ._zod.def;
  for (;;) {
    if (def.type === 'default' || def.type === 'prefault') return { found: true, value: def.defaultValue };
    if (!['optional', 'nullable', 'readonly', 'catch'].includes(def.type) || def.innerType === undefined) break;
    def = (def.innerType as unknown as { _zod: { def: typeof def } })._zod.def;
  }
  return { found: false };
}

/**
 * Builds a {@link Field} from a declaration, applying DSPy's defaults (`desc` `'${name}'`, prefix from
 * {@link inferPrefix}, untyped means `str`).
 *
 * @throws {SignatureError} when the name is not an identifier or a string type does not parse.
 */
export function createField(name: string, init: FieldInit): Field {
  if (!FIELD_NAME.test(name)) {
    throw new SignatureError(
      `Invalid field name ${JSON.stringify(name)}: expected an identifier (letters, digits and underscores, not starting with a digit), such as 'question'.`,
    );
  }
  if (init.kind !== 'input' && init.kind !== 'output') {
    throw new SignatureError(
      `Invalid kind ${JSON.stringify(init.kind)} for field '${name}': expected 'input' or 'output'.`,
    );
  }
  const resolved = init.type === undefined ? undefined : resolveType(init.type);
  const type: TypeNode = resolved?.node ?? { kind: 'str' };
  const schema = resolved?.schema;
  const fromZod = schema ? zodDefault(schema) : { found: false };
  const explicitDefault = init.default !== undefined || fromZod.found;
  const defaultValue = init.default !== undefined ? init.default : fromZod.found ? fromZod.value : null;
  const hasDefault = explicitDefault || isOptionalType(type);
  const constraints = schema ? zodConstraints(schema) : undefined;
  const field: Field = {
    name,
    kind: init.kind,
    type,
    typeUndefined: resolved === undefined,
    desc: init.desc ?? schema?.description ?? `\${${name}}`,
    prefix: init.prefix ?? `${inferPrefix(name)}:`,
    hasDefault,
    ...(hasDefault ? { default: defaultValue } : {}),
    ...(constraints !== undefined ? { constraints } : {}),
  };
  return Object.freeze(field);
}

function defaultInstructions(inputs: readonly Field[], outputs: readonly Field[]): string {
  const names = (fields: readonly Field[]) => fields.map((f) => `\`${f.name}\``).join(', ');
  return `Given the fields ${names(inputs)}, produce the fields ${names(outputs)}.`;
}

/**
 * What an LM program step takes and produces: named, typed input and output fields plus instructions.
 * Signatures are immutable; every edit returns a new one. The type parameters carry the input and output record
 * types for type-checked predictors.
 *
 * @example
 * const qa = Signature.parse('question: str -> answer: int', 'Answer with a number.');
 * qa.toString(); // 'question -> answer'
 */
export class Signature<
  I extends Record<string, unknown> = Record<string, unknown>,
  O extends Record<string, unknown> = Record<string, unknown>,
> {
  /** The task description given to the LM. */
  readonly instructions: string;
  /** Input fields, in declaration order. */
  readonly inputFields: readonly Field[];
  /** Output fields, in declaration order. */
  readonly outputFields: readonly Field[];
  /** Inputs then outputs. */
  readonly fields: readonly Field[];
  /** Type-level record of inputs and outputs; never set at runtime. */
  declare readonly __types?: { inputs: I; outputs: O };

  /**
   * A signature over `fields` (reordered as inputs then outputs, each keeping its relative order). Without
   * `instructions` DSPy's default text is generated from the field names.
   *
   * @throws {SignatureError} on duplicate or invalid field names.
   */
  constructor(fields: readonly Field[], instructions?: string) {
    const seen = new Set<string>();
    for (const field of fields) {
      if (!FIELD_NAME.test(field.name)) {
        throw new SignatureError(
          `Invalid field name ${JSON.stringify(field.name)}: expected an identifier such as 'question'.`,
        );
      }
      if (seen.has(field.name)) {
        throw new SignatureError(
          `Duplicate field '${field.name}': signature fields must have distinct names across inputs and outputs.`,
        );
      }
      seen.add(field.name);
    }
    this.inputFields = Object.freeze(fields.filter((f) => f.kind === 'input'));
    this.outputFields = Object.freeze(fields.filter((f) => f.kind === 'output'));
    this.fields = Object.freeze([...this.inputFields, ...this.outputFields]);
    this.instructions = instructions ?? defaultInstructions(this.inputFields, this.outputFields);
    Object.freeze(this);
  }

  /**
   * Parses DSPy's string syntax, `'question: str, context: list[str] -> answer: int'`. Fields without a type are
   * `str`. Types: `str int float bool Any None list[T] dict[K, V] tuple[...] Optional[T] Union[A, B] A | B
   * Literal[...] History`, bare `list`/`dict`, and custom names from `options.types` or {@link registerType}.
   * The result is typed from the text: `Signature<{ question: string; context: string[] }, { answer: number }>`.
   *
   * @throws {SignatureError} quoting the text with a `^` under the problem.
   */
  static parse<T extends string, C extends Record<string, z.ZodType> = {}>(
    text: T,
    instructions?: string,
    options?: SignatureParseOptions<C>,
  ): Signature<InferInputs<T, C>, InferOutputs<T, C>> {
    const parsed = parseSignatureString(text, options?.types);
    const fields = parsed.map((f) =>
      f.type === undefined
        ? createField(f.name, { kind: f.kind })
        : createField(f.name, { kind: f.kind, type: f.type }),
    );
    return new Signature(fields, instructions);
  }

  /** `value` itself when it is a signature, otherwise {@link Signature.parse}`(value)`. */
  static from(value: Signature | string): Signature {
    if (value instanceof Signature) return value;
    if (typeof value === 'string') return Signature.parse(value) as Signature;
    throw new SignatureError(
      `Expected a Signature or a signature string such as 'question -> answer', found ${typeof value}.`,
    );
  }

  /**
   * DSPy's dict form: a signature from `{ name: FieldInit }` in declaration order.
   *
   * @example Signature.fromFields({ question: { kind: 'input' }, answer: { kind: 'output', type: 'int' } })
   */
  static fromFields(fields: Record<string, FieldInit>, instructions?: string): Signature {
    return new Signature(
      Object.entries(fields).map(([name, init]) => createField(name, init)),
      instructions,
    );
  }

  /** The field called `name`, if any. */
  field(name: string): Field | undefined {
    return this.fields.find((f) => f.name === name);
  }

  /** A copy with different instructions. */
  withInstructions(instructions: string): Signature<I, O> {
    return new Signature<I, O>(this.fields, instructions);
  }

  /** A copy whose instructions are the old ones, a blank line, then `text`. */
  appendInstructions(text: string): Signature<I, O> {
    return this.withInstructions(`${this.instructions}\n\n${text}`);
  }

  /**
   * A copy with field `name` changed.
   *
   * @throws {SignatureError} when there is no such field.
   */
  withUpdatedFields(
    name: string,
    update: { type?: TypeNode | z.ZodType | string; desc?: string; prefix?: string },
  ): Signature {
    const old = this.requireField(name);
    let next: Field = { ...old, ...(update.desc !== undefined ? { desc: update.desc } : {}) };
    if (update.prefix !== undefined) next = { ...next, prefix: update.prefix };
    if (update.type !== undefined) {
      const explicitDefault = old.hasDefault && !(old.default === null && isOptionalType(old.type));
      const typed = createField(name, {
        kind: old.kind,
        type: update.type,
        desc: next.desc,
        prefix: next.prefix,
        ...(explicitDefault ? { default: old.default } : {}),
      });
      next = typed;
    }
    return new Signature(
      this.fields.map((f) => (f.name === name ? Object.freeze(next) : f)),
      this.instructions,
    );
  }

  /** A copy with a new field first among the inputs or outputs (by `init.kind`). */
  prepend(name: string, init: FieldInit): Signature {
    return this.insert(0, name, init);
  }

  /** A copy with a new field last among the inputs or outputs (by `init.kind`). */
  append(name: string, init: FieldInit): Signature {
    return this.insert(-1, name, init);
  }

  /**
   * A copy with a new field at `index` among the inputs or outputs (by `init.kind`). Negative indices count
   * from the end as in DSPy, where `-1` means after the last field.
   *
   * @throws {SignatureError} for an out-of-range index or a name already in use.
   */
  insert(index: number, name: string, init: FieldInit): Signature {
    const field = createField(name, init);
    const list = [...(field.kind === 'input' ? this.inputFields : this.outputFields)];
    const position = index < 0 ? index + list.length + 1 : index;
    if (!Number.isInteger(index) || position < 0 || position > list.length) {
      throw new SignatureError(
        `Invalid index to insert: ${index}, index must be in the range of [${-list.length - 1}, ${list.length}] for ${field.kind} fields, but received: ${index}.`,
      );
    }
    if (this.field(name)) {
      throw new SignatureError(
        `Cannot insert field '${name}': a field with that name exists; signature fields must have distinct names.`,
      );
    }
    list.splice(position, 0, field);
    const inputs = field.kind === 'input' ? list : this.inputFields;
    const outputs = field.kind === 'output' ? list : this.outputFields;
    return new Signature([...inputs, ...outputs], this.instructions);
  }

  /** A copy without field `name`; unchanged (but still a copy) when there is none. */
  delete(name: string): Signature {
    return new Signature(
      this.fields.filter((f) => f.name !== name),
      this.instructions,
    );
  }

  /** True when instructions and every field (name, kind, desc, prefix, type) are equal, in order. */
  equals(other: Signature): boolean {
    return (
      other instanceof Signature &&
      this.instructions === other.instructions &&
      this.fields.length === other.fields.length &&
      this.fields.every((f, i) => fieldsEqual(f, other.fields[i] as Field))
    );
  }

  /** DSPy's `.signature`: input names, `->`, output names, e.g. `'question, context -> answer'`. */
  toString(): string {
    const names = (fields: readonly Field[]) => fields.map((f) => f.name).join(', ');
    return `${names(this.inputFields)} -> ${names(this.outputFields)}`;
  }

  /** DSPy-compatible state: instructions and each field's prefix and description, inputs then outputs. */
  dumpState(): SignatureState {
    return {
      instructions: this.instructions,
      fields: this.fields.map((f) => ({ prefix: f.prefix, description: f.desc })),
    };
  }

  /**
   * A copy with instructions and, position by position, prefixes and descriptions taken from `state`.
   *
   * @throws {StateError} when `state` is not shaped like {@link SignatureState}.
   */
  loadState(state: SignatureState): Signature<I, O> {
    if (typeof state !== 'object' || state === null) {
      throw new StateError('signature', 'Expected signature state to be an object with `instructions` and `fields`.');
    }
    if (typeof state.instructions !== 'string') {
      throw new StateError('signature.instructions', `Expected a string, found ${typeof state.instructions}.`);
    }
    if (!Array.isArray(state.fields)) {
      throw new StateError(
        'signature.fields',
        `Expected a list of {prefix, description}, found ${typeof state.fields}.`,
      );
    }
    const fields = this.fields.map((field, i) => {
      const saved = state.fields[i];
      if (saved === undefined) return field;
      if (typeof saved.prefix !== 'string' || typeof saved.description !== 'string') {
        throw new StateError(`signature.fields[${i}]`, 'Expected `prefix` and `description` strings.');
      }
      return Object.freeze({ ...field, prefix: saved.prefix, desc: saved.description });
    });
    return new Signature<I, O>(fields, state.instructions);
  }

  private requireField(name: string): Field {
    const field = this.field(name);
    if (!field) {
      throw new SignatureError(
        `No field named '${name}' in signature '${this.toString()}'; fields are: ${this.fields.map((f) => f.name).join(', ')}.`,
      );
    }
    return field;
  }
}

/** The input record type of a signature. */
export type SignatureInputs<S> = S extends Signature<infer I, infer _O> ? I : never;
/** The output record type of a signature. */
export type SignatureOutputs<S> = S extends Signature<infer _I, infer O> ? O : never;

/**
 * Builds a typed signature from zod schemas. Field types, descriptions (`.describe()`), defaults (`.default()`),
 * optionality and constraints (`.gt()`, `.min()`...) come from the schemas.
 *
 * @example
 * const qa = signature({
 *   instructions: 'Answer the question.',
 *   inputs: { question: z.string() },
 *   outputs: { answer: z.string().describe('often between 1 and 5 words') },
 * });
 */
export function signature<TI extends Record<string, z.ZodType>, TO extends Record<string, z.ZodType>>(def: {
  instructions?: string;
  inputs: TI;
  outputs: TO;
}): Signature<{ [K in keyof TI]: z.infer<TI[K]> }, { [K in keyof TO]: z.infer<TO[K]> }> {
  const fields = [
    ...Object.entries(def.inputs).map(([name, schema]) => createField(name, { kind: 'input', type: schema })),
    ...Object.entries(def.outputs).map(([name, schema]) => createField(name, { kind: 'output', type: schema })),
  ];
  return new Signature(fields, def.instructions);
}

export { registerType, unregisterType } from './type-registry.ts';
