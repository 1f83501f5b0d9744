import type {
  JSONSchema7,
  LanguageModelV4CallOptions,
  LanguageModelV4FunctionTool,
  LanguageModelV4Prompt,
  LanguageModelV4ToolChoice,
  SharedV4ProviderOptions,
} from '@ai-sdk/provider';
import {
  type ContentPart,
  LMError,
  type LMRequest,
  type LMResponseFormat,
  type LMToolChoice,
  type LMToolDefinition,
} from '@dspy-ts/core';
import { DSPY_PROVIDER_OPTIONS_KEY } from './canonical-request.ts';

function textOf(content: string | ContentPart[]): string {
  return typeof content === 'string'
    ? content
    : content
        .filter((part): part is Extract<ContentPart, { type: 'text' }> => part.type === 'text')
        .map((part) => part.text)
        .join('\n');
}

/** Converts tool definitions to LanguageModelV4 function tools (their parameters are the JSON Schema as given). */
export function toV4Tools(tools: readonly LMToolDefinition[] | undefined): LanguageModelV4FunctionTool[] | undefined {
  if (!tools?.length) return undefined;
  return tools.map((definition) => ({
    type: 'function',
    name: definition.name,
    inputSchema: definition.parameters as JSONSchema7,
    ...(definition.description === undefined ? {} : { description: definition.description }),
  }));
}

/** Converts core's tool choice to LanguageModelV4's. */
export function toV4ToolChoice(choice: LMToolChoice | undefined): LanguageModelV4ToolChoice | undefined {
  if (choice === undefined) return undefined;
  if (typeof choice === 'string') return { type: choice };
  return { type: 'tool', toolName: choice.name };
}

/**
 * The LanguageModelV4 response format of `format`: JSON (with the schema and its name for `json_schema`), or
 * `undefined` for text. The JSON comes back as raw text: parsing belongs to dspy-ts's adapters, which repair and
 * validate it with their own rules.
 */
export function toV4ResponseFormat(
  format: LMResponseFormat | undefined,
): LanguageModelV4CallOptions['responseFormat'] | undefined {
  if (format === undefined || format.type === 'text') return undefined;
  if (format.type === 'json') return { type: 'json' };
  return {
    type: 'json',
    schema: format.schema as JSONSchema7,
    ...(format.name === undefined ? {} : { name: format.name }),
  };
}

/** The per-call dspy options carried in `providerOptions.dspy`. */
export interface DspyCallOptions {
  /** `false` bypasses the cache (read and write) for this call. */
  cache?: boolean;
}

/** Reads `providerOptions.dspy`. */
export function dspyCallOptions(request: LMRequest): DspyCallOptions {
  const options = request.providerOptions?.[DSPY_PROVIDER_OPTIONS_KEY];
  return (options ?? {}) as DspyCallOptions;
}

/** Provider options without dspy-ts's own entry, or `undefined` when none remain. */
export function providerOptionsFor(request: LMRequest): SharedV4ProviderOptions | undefined {
  if (!request.providerOptions) return undefined;
  const entries = Object.entries(request.providerOptions).filter(([name]) => name !== DSPY_PROVIDER_OPTIONS_KEY);
  return entries.length ? (Object.fromEntries(entries) as SharedV4ProviderOptions) : undefined;
}

function invalidSetting(name: string, expected: string, value: unknown): LMError {
  return new LMError('invalid_request', `\`${name}\` must be ${expected}, got ${String(value)}.`);
}

/** The sampling settings of `request` under LanguageModelV4's names, with unset ones left out. */
export function callSettings(request: LMRequest): {
  temperature?: number;
  maxOutputTokens?: number;
  topP?: number;
  stopSequences?: string[];
  seed?: number;
} {
  const settings: ReturnType<typeof callSettings> = {};
  if (request.temperature !== undefined) settings.temperature = request.temperature;
  if (request.maxTokens !== undefined) {
    if (!Number.isInteger(request.maxTokens) || request.maxTokens < 1) {
      throw invalidSetting('maxTokens', 'an integer >= 1', request.maxTokens);
    }
    settings.maxOutputTokens = request.maxTokens;
  }
  if (request.topP !== undefined) settings.topP = request.topP;
  if (request.stop?.length) settings.stopSequences = [...request.stop];
  if (request.seed !== undefined) {
    if (!Number.isInteger(request.seed)) throw invalidSetting('seed', 'an integer', request.seed);
    settings.seed = request.seed;
  }
  return settings;
}

/**
 * The LanguageModelV4 call options of `request` over an already converted `prompt`. With tools and no tool choice the
 * choice is `auto`, stated explicitly (as the AI SDK's own calls do). `n` has no counterpart in the spec: the LM serves
 * it with parallel calls.
 */
export function toCallOptions(
  request: LMRequest,
  prompt: LanguageModelV4Prompt,
  abortSignal: AbortSignal,
): LanguageModelV4CallOptions {
  const options: LanguageModelV4CallOptions = { prompt, abortSignal, ...callSettings(request) };
  const tools = toV4Tools(request.tools);
  if (tools) options.tools = tools;
  const toolChoice = toV4ToolChoice(request.toolChoice) ?? (tools ? { type: 'auto' } : undefined);
  if (toolChoice) options.toolChoice = toolChoice;
  const responseFormat = toV4ResponseFormat(request.responseFormat);
  if (responseFormat) options.responseFormat = responseFormat;
  const providerOptions = providerOptionsFor(request);
  if (providerOptions) options.providerOptions = providerOptions;
  return options;
}

/** Rough token count of a request's prompt (4 characters per token) plus its output budget, for rate limiting. */
export function estimateTokens(request: LMRequest): number {
  let chars = 0;
  for (const message of request.messages) {
    chars += typeof message.content === 'string' ? message.content.length : textOf(message.content).length;
  }
  return Math.ceil(chars / 4) + (request.maxTokens ?? 0);
}
