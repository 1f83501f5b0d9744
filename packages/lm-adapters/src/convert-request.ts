import type {
  ContentPart,
  LMMessage,
  LMRequest,
  LMResponseFormat,
  LMToolChoice,
  LMToolDefinition,
} from '@dspy-ts/core';
import { jsonSchema, type ModelMessage, type OutputInterface, type ToolChoice, type ToolSet, tool } from 'ai';
import { DSPY_PROVIDER_OPTIONS_KEY } from './canonical-request.ts';

type UserContent = Exclude<Extract<ModelMessage, { role: 'user' }>['content'], string>;
type AssistantContent = Exclude<Extract<ModelMessage, { role: 'assistant' }>['content'], string>;

function textOf(content: string | ContentPart[]): string {
  return typeof content === 'string'
    ? content
    : content
        .filter((part): part is Extract<ContentPart, { type: 'text' }> => part.type === 'text')
        .map((part) => part.text)
        .join('\n');
}

function userParts(content: ContentPart[]): UserContent {
  return content.map((part) => {
    if (part.type === 'text') return { type: 'text' as const, text: part.text };
    // URL objects let the AI SDK decide per provider whether to pass the URL through or download it first; data
    // URIs are decoded by the SDK.
    // A `file` part with an image media type (the SDK's replacement for `image` parts); `image` alone lets the SDK
    // or provider detect the exact subtype.
    return { type: 'file' as const, data: new URL(part.url), mediaType: part.mediaType ?? 'image' };
  });
}

/** Converts core messages to AI SDK `ModelMessage`s (system, user with text and image parts, assistant, tool). */
export function toModelMessages(messages: readonly LMMessage[]): ModelMessage[] {
  return messages.map(toModelMessage);
}

function toModelMessage(message: LMMessage): ModelMessage {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: textOf(message.content) };
    case 'user':
      return {
        role: 'user',
        content: typeof message.content === 'string' ? message.content : userParts(message.content),
      };
    case 'assistant': {
      if (!message.toolCalls?.length) {
        return { role: 'assistant', content: textOf(message.content) };
      }
      const parts: AssistantContent = [];
      const text = textOf(message.content);
      if (text) parts.push({ type: 'text', text });
      for (const call of message.toolCalls) {
        parts.push({ type: 'tool-call', toolCallId: call.id, toolName: call.name, input: call.args });
      }
      return { role: 'assistant', content: parts };
    }
    case 'tool':
      return {
        role: 'tool',
        content: [
          {
            type: 'tool-result',
            toolCallId: message.toolCallId,
            toolName: message.toolName,
            output: { type: 'text', value: message.content },
          },
        ],
      };
  }
}

/** Converts tool definitions to an AI SDK tool set without `execute`, so calls come back to the caller. */
export function toToolSet(tools: readonly LMToolDefinition[] | undefined): ToolSet | undefined {
  if (!tools?.length) return undefined;
  const set: ToolSet = {};
  for (const definition of tools) {
    set[definition.name] = tool({
      ...(definition.description === undefined ? {} : { description: definition.description }),
      inputSchema: jsonSchema(definition.parameters as Parameters<typeof jsonSchema>[0]),
    });
  }
  return set;
}

/** Converts core's tool choice to the AI SDK's. */
export function toToolChoice(choice: LMToolChoice | undefined): ToolChoice<ToolSet> | undefined {
  if (choice === undefined) return undefined;
  if (typeof choice === 'string') return choice;
  return { type: 'tool', toolName: choice.name };
}

/**
 * An AI SDK output specification that requests JSON (optionally with a schema) from the provider but returns the raw
 * text unparsed: parsing belongs to dspy-ts's adapters, which repair and validate it with their own rules.
 */
export function rawJsonOutput(format: LMResponseFormat): OutputInterface<string, string, never> | undefined {
  if (format.type === 'text') return undefined;
  const responseFormat =
    format.type === 'json'
      ? { type: 'json' as const }
      : {
          type: 'json' as const,
          schema: format.schema as never,
          ...(format.name === undefined ? {} : { name: format.name }),
        };
  return {
    name: 'dspy-raw-json',
    responseFormat: Promise.resolve(responseFormat),
    parseCompleteOutput: async ({ text }) => text,
    parsePartialOutput: async ({ text }) => ({ partial: text }),
    createElementStreamTransform: () => undefined,
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
export function providerOptionsFor(request: LMRequest): Record<string, Record<string, never>> | undefined {
  if (!request.providerOptions) return undefined;
  const entries = Object.entries(request.providerOptions).filter(([name]) => name !== DSPY_PROVIDER_OPTIONS_KEY);
  return entries.length ? (Object.fromEntries(entries) as Record<string, Record<string, never>>) : undefined;
}

/** The sampling settings of `request` under the AI SDK's names, with unset ones left out. */
export function callSettings(request: LMRequest): {
  temperature?: number;
  maxOutputTokens?: number;
  topP?: number;
  stopSequences?: string[];
  seed?: number;
} {
  const settings: ReturnType<typeof callSettings> = {};
  if (request.temperature !== undefined) settings.temperature = request.temperature;
  if (request.maxTokens !== undefined) settings.maxOutputTokens = request.maxTokens;
  if (request.topP !== undefined) settings.topP = request.topP;
  if (request.stop?.length) settings.stopSequences = [...request.stop];
  if (request.seed !== undefined) settings.seed = request.seed;
  return settings;
}

/** Rough token count of a request's prompt (4 characters per token) plus its output budget, for rate limiting. */
export function estimateTokens(request: LMRequest): number {
  let chars = 0;
  for (const message of request.messages) {
    chars += typeof message.content === 'string' ? message.content.length : textOf(message.content).length;
  }
  return Math.ceil(chars / 4) + (request.maxTokens ?? 0);
}
