import { z } from 'zod';
import { pythonRepr } from '../adapters/python-text.ts';
import { DspyError } from '../errors.ts';
import type { LMToolDefinition } from '../lm/spec.ts';
import { withCallbacks } from '../settings/callbacks.ts';
import { type JsonSchema, validateJsonSchema } from './json-schema-validate.ts';

/** What a tool function receives besides its arguments. */
export interface ToolContext {
  /** Cancels the tool's work (passed down from the module call). */
  signal?: AbortSignal;
}

/** A tool implementation: takes the (validated) arguments object and returns anything, sync or async. */
export type ToolFunction<A extends Record<string, unknown> = Record<string, any>, R = unknown> = (
  args: A,
  context: ToolContext,
) => R | Promise<R>;

/** Options of {@link Tool}. */
export interface ToolOptions {
  /** The name the LM uses to call the tool; defaults to the function's name. */
  name?: string;
  /** What the tool does, for the LM (DSPy takes the docstring; JavaScript functions have none). */
  description?: string;
  /**
   * The arguments: a zod object, a JSON Schema of an object (`{ type: 'object', properties, required }`), or a
   * map from argument name to JSON Schema (DSPy's `args`; every listed argument is then required). Omitted means
   * the tool takes no arguments.
   */
  args?: z.ZodObject | JsonSchema;
}

function isZodObject(value: unknown): value is z.ZodObject {
  return value instanceof z.ZodObject;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Drops zod's safe-integer bounds, which pydantic (and so DSPy's prompts) never show. */
function tidySchema(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(tidySchema);
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === '$schema') continue;
    if (key === 'maximum' && item === Number.MAX_SAFE_INTEGER) continue;
    if (key === 'minimum' && item === Number.MIN_SAFE_INTEGER) continue;
    out[key] = tidySchema(item);
  }
  return out;
}

interface ArgsSpec {
  properties: Record<string, JsonSchema>;
  required: string[];
  additional: boolean;
  defs: Record<string, unknown>;
}

function argsSpec(args: ToolOptions['args']): ArgsSpec {
  if (args === undefined) return { properties: {}, required: [], additional: false, defs: {} };
  if (isZodObject(args)) {
    const schema = tidySchema(z.toJSONSchema(args, { io: 'input', unrepresentable: 'any' })) as JsonSchema;
    return objectSpec(schema);
  }
  if (!isRecord(args)) {
    throw new DspyError(
      'invalid_argument',
      `Tool args must be a zod object or a JSON Schema object, found ${Array.isArray(args) ? 'an array' : typeof args}.`,
    );
  }
  if (args.type === 'object' || isRecord(args.properties)) return objectSpec(args);
  // DSPy's form: { argName: schema } — every argument is required.
  return {
    properties: { ...(args as Record<string, JsonSchema>) },
    required: Object.keys(args),
    additional: false,
    defs: {},
  };
}

function objectSpec(schema: JsonSchema): ArgsSpec {
  const properties = isRecord(schema.properties) ? (schema.properties as Record<string, JsonSchema>) : {};
  const required = Array.isArray(schema.required) ? schema.required.map(String) : [];
  const additional = schema.additionalProperties !== undefined && schema.additionalProperties !== false;
  const defs: Record<string, unknown> = {};
  if (isRecord(schema.$defs)) defs.$defs = schema.$defs;
  if (isRecord(schema.definitions)) defs.definitions = schema.definitions;
  return { properties: { ...properties }, required, additional, defs };
}

/**
 * A function an agent can call (DSPy's `dspy.Tool`): a name, a description and an argument schema. Arguments are
 * validated before the function runs — with the zod schema when one is given (so defaults and transforms apply),
 * otherwise with a JSON Schema validator — and invalid calls throw an error whose message the agent sees, e.g.
 * `Arg query is invalid: 5 is not of type 'string'`.
 *
 * @example
 * ```ts
 * const search = new Tool(async ({ query }) => index.search(query), {
 *   name: 'search',
 *   description: 'Searches the wiki.',
 *   args: z.object({ query: z.string() }),
 * });
 * String(search); // "search, whose description is <desc>Searches the wiki.</desc>. It takes arguments {'query': {'type': 'string'}}."
 * await search.call({ query: 'DSPy' });
 * ```
 */
export class Tool<A extends Record<string, unknown> = Record<string, any>, R = unknown> {
  /** The name the LM calls the tool by. */
  readonly name: string;
  /** What the tool does. */
  readonly description: string;
  /** JSON Schema of each argument, by name (DSPy's `Tool.args`). */
  readonly args: Record<string, JsonSchema>;
  /** Names of the required arguments. */
  readonly required: readonly string[];
  private readonly fn: ToolFunction<A, R>;
  private readonly zodSchema: z.ZodObject | undefined;
  private readonly spec: ArgsSpec;

  /**
   * @param fn The implementation; receives the validated arguments object and a context with the abort signal.
   * @param options Name, description and argument schema.
   * @throws {DspyError} (`invalid_argument`) when no name can be found or the schema is not an object schema.
   */
  constructor(fn: ToolFunction<A, R>, options: ToolOptions = {}) {
    if (typeof fn !== 'function') {
      throw new DspyError('invalid_argument', `Tool expects a function, found ${typeof fn}.`);
    }
    const name = options.name ?? fn.name;
    if (!name) {
      throw new DspyError(
        'invalid_argument',
        'Tool needs a name: pass `{ name }` or use a named function (anonymous arrow functions have none).',
      );
    }
    this.fn = fn;
    this.name = name;
    this.description = options.description ?? '';
    this.zodSchema = isZodObject(options.args) ? options.args : undefined;
    this.spec = argsSpec(options.args);
    this.args = this.spec.properties;
    this.required = this.spec.required;
  }

  /** JSON Schema of the whole arguments object, as sent to LMs with native tool calling. */
  get parameters(): JsonSchema {
    return {
      type: 'object',
      properties: this.args,
      ...(this.required.length > 0 ? { required: [...this.required] } : {}),
      ...(this.spec.additional ? {} : { additionalProperties: false }),
      ...this.spec.defs,
    };
  }

  /** The tool as an {@link LMToolDefinition} for `LMRequest.tools`. */
  toDefinition(): LMToolDefinition {
    return {
      name: this.name,
      ...(this.description ? { description: this.description } : {}),
      parameters: this.parameters,
    };
  }

  /**
   * Validates `args` and runs the tool.
   *
   * @throws {DspyError} (`invalid_argument`) for unknown, missing or invalid arguments; whatever the tool throws.
   */
  async call(args: Record<string, unknown> = {}, context: ToolContext = {}): Promise<R> {
    return withCallbacks('tool', this, args, async () => {
      const validated = this.validate(args);
      return await this.fn(validated as A, context);
    });
  }

  /**
   * Checks `args` against the schema and returns what the function receives (zod output, so defaults and
   * transforms apply).
   *
   * @throws {DspyError} (`invalid_argument`) naming the offending argument.
   */
  validate(args: Record<string, unknown>): Record<string, unknown> {
    if (!isRecord(args)) {
      throw new DspyError(
        'invalid_argument',
        `Tool ${this.name} expects its arguments as an object, found ${pythonRepr(args)}.`,
      );
    }
    for (const key of Object.keys(args)) {
      if (!Object.hasOwn(this.args, key) && !this.spec.additional) {
        throw new DspyError('invalid_argument', `Arg ${key} is not in the tool's args.`);
      }
    }
    for (const key of this.required) {
      if (args[key] === undefined) {
        throw new DspyError(
          'invalid_argument',
          `Arg ${key} is required but missing. The tool's args are: ${pythonRepr(this.args)}.`,
        );
      }
    }
    if (this.zodSchema) {
      const parsed = this.zodSchema.safeParse(args);
      if (parsed.success) return parsed.data as Record<string, unknown>;
      const issue = parsed.error.issues[0] as z.core.$ZodIssue;
      const [key, ...rest] = issue.path.map(String);
      const where = rest.length > 0 ? ` (at ${rest.join('.')})` : '';
      throw new DspyError('invalid_argument', `Arg ${key ?? '(arguments)'} is invalid${where}: ${issue.message}`);
    }
    const root = { ...this.spec.defs };
    for (const [key, value] of Object.entries(args)) {
      const schema = this.args[key];
      if (schema === undefined) continue;
      const error = validateJsonSchema(value, schema, { ...root, ...schema });
      if (error) throw new DspyError('invalid_argument', `Arg ${key} is invalid: ${error}`);
    }
    return { ...args };
  }

  /**
   * DSPy's `str(tool)`, used in ReAct's instructions:
   * `"{name}, whose description is <desc>{desc}</desc>. It takes arguments {args}."` with a Python dict repr of
   * the argument schemas (newlines in the description become two spaces; no description gives `"{name}. It takes…"`).
   */
  toString(): string {
    const desc = this.description
      ? `, whose description is <desc>${this.description}</desc>.`.replaceAll('\n', '  ')
      : '.';
    return `${this.name}${desc} It takes arguments ${pythonRepr(this.args)}.`;
  }
}
