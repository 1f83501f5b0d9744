import type {
  LanguageModelV4Content,
  LanguageModelV4FinishReason,
  LanguageModelV4Usage,
  SharedV4Warning,
} from '@ai-sdk/provider';
import {
  type LMChoice,
  LMError,
  type LMFinishReason,
  type LMToolChoice,
  type LMUsage,
  type ToolCall,
} from '@dspy-ts/core';

/** Maps a LanguageModelV4 finish reason to core's (`interrupted` becomes `other`). */
export function toFinishReason(reason: LanguageModelV4FinishReason | undefined): LMFinishReason {
  switch (reason?.unified) {
    case 'stop':
    case 'length':
    case 'content-filter':
    case 'tool-calls':
    case 'error':
    case 'other':
      return reason.unified;
    case 'interrupted':
      return 'other';
    default:
      return 'unknown';
  }
}

/** Maps LanguageModelV4 usage to core's, leaving unknown numbers out (unknown is not zero). */
export function toUsage(usage: LanguageModelV4Usage | undefined): LMUsage {
  const out: LMUsage = {};
  if (!usage) return out;
  const input = usage.inputTokens?.total;
  if (input !== undefined && input !== null) out.inputTokens = input;
  const output = usage.outputTokens?.total;
  if (output !== undefined && output !== null) out.outputTokens = output;
  const cached = usage.inputTokens?.cacheRead;
  if (cached !== undefined && cached !== null) out.cachedInputTokens = cached;
  const reasoning = usage.outputTokens?.reasoning;
  if (reasoning !== undefined && reasoning !== null) out.reasoningTokens = reasoning;
  return out;
}

/**
 * The arguments of a tool call from the JSON text the model produced: empty input is `{}`; input that is not JSON is
 * kept as the raw string (the AI SDK's rule for calls it cannot parse), so the caller sees what the model wrote.
 */
export function parseToolInput(input: string): unknown {
  if (input.trim() === '') return {};
  try {
    return JSON.parse(input);
  } catch {
    return input;
  }
}

/** Converts a LanguageModelV4 tool call (input as JSON text) to core's; non-object arguments become `{ value }`. */
export function toToolCall(call: { toolCallId: string; toolName: string; input: string }): ToolCall {
  const input = parseToolInput(call.input);
  const args =
    typeof input === 'object' && input !== null && !Array.isArray(input)
      ? (input as Record<string, unknown>)
      : { value: input };
  return { id: call.toolCallId, name: call.toolName, args };
}

/** Builds one choice, leaving out empty optional parts. */
export function toChoice(parts: {
  text: string;
  reasoning?: string | undefined;
  toolCalls?: ToolCall[] | undefined;
  finishReason: LMFinishReason;
}): LMChoice {
  const choice: LMChoice = { text: parts.text, finishReason: parts.finishReason };
  if (parts.reasoning) choice.reasoning = parts.reasoning;
  if (parts.toolCalls?.length) choice.toolCalls = parts.toolCalls;
  return choice;
}

/**
 * The choice of a `doGenerate` result: text parts joined, reasoning parts joined, tool calls in order. When JSON was
 * requested and the provider delivered the JSON out of band (`structuredOutputText`), that is the text, unless the
 * model stopped for tool calls or produced nothing (the AI SDK's rule).
 */
export function choiceFromContent(
  content: readonly LanguageModelV4Content[],
  finishReason: LanguageModelV4FinishReason | undefined,
  structured: { json: boolean; structuredOutputText: string | undefined },
): LMChoice {
  let text = '';
  let reasoning = '';
  const toolCalls: ToolCall[] = [];
  for (const part of content) {
    if (part.type === 'text') text += part.text;
    else if (part.type === 'reasoning') reasoning += part.text;
    else if (part.type === 'tool-call') toolCalls.push(toToolCall(part));
  }
  const unified = finishReason?.unified;
  if (
    structured.json &&
    structured.structuredOutputText !== undefined &&
    (unified === 'stop' || (unified !== 'tool-calls' && text.length > 0))
  ) {
    text = structured.structuredOutputText;
  }
  return toChoice({ text, reasoning, toolCalls, finishReason: toFinishReason(finishReason) });
}

/**
 * Fails a response that ignored a tool choice other than `auto`, as the AI SDK's own calls do: `none` with tool calls,
 * or `required` / a named tool without a (matching) call, unless the response was interrupted. Not retryable.
 */
export function checkToolChoice(
  toolChoice: LMToolChoice | undefined,
  toolCalls: readonly ToolCall[] | undefined,
  finishReason: LanguageModelV4FinishReason | undefined,
  modelId: string,
): void {
  if (toolChoice === undefined || toolChoice === 'auto') return;
  const calls = toolCalls ?? [];
  let expected: string | undefined;
  if (toolChoice === 'none') {
    if (calls.length > 0) expected = 'no tool calls';
  } else if (finishReason?.unified !== 'interrupted') {
    if (toolChoice === 'required' && calls.length === 0) expected = 'a tool call';
    if (typeof toolChoice === 'object' && !calls.some((call) => call.name === toolChoice.name)) {
      expected = `a call to the tool "${toolChoice.name}"`;
    }
  }
  if (expected === undefined) return;
  const found = calls.length
    ? `calls to ${calls.map((call) => `"${call.name}"`).join(', ')}`
    : `no tool call (finish reason ${finishReason?.unified ?? 'unknown'})`;
  throw new LMError('unknown', `${modelId} did not follow the tool choice: expected ${expected}, got ${found}.`, {
    isRetryable: false,
  });
}

/** The AI SDK's warning logger setting (`globalThis.AI_SDK_LOG_WARNINGS`): `false` silences, a function receives. */
type WarningLogger =
  | false
  | ((options: { warnings: SharedV4Warning[]; provider: string; model: string }) => void)
  | undefined;

function formatWarning(warning: SharedV4Warning, provider: string, model: string): string {
  const prefix = `AI SDK Warning (${provider} / ${model}):`;
  switch (warning.type) {
    case 'unsupported':
      return `${prefix} The feature "${warning.feature}" is not supported.${warning.details ? ` ${warning.details}` : ''}`;
    case 'compatibility':
      return `${prefix} The feature "${warning.feature}" is used in a compatibility mode.${warning.details ? ` ${warning.details}` : ''}`;
    case 'deprecated':
      return `${prefix} Deprecated: "${warning.setting}". ${warning.message}`;
    case 'other':
      return `${prefix} ${warning.message}`;
    default:
      return `${prefix} ${JSON.stringify(warning)}`;
  }
}

/**
 * Reports a call's warnings (unsupported settings and the like) the way the AI SDK's own calls do: through
 * `globalThis.AI_SDK_LOG_WARNINGS` when it is a function, not at all when it is `false`, else as process warnings.
 */
export function reportWarnings(
  warnings: readonly SharedV4Warning[] | undefined,
  provider: string,
  model: string,
): void {
  if (!warnings?.length) return;
  const logger = (globalThis as { AI_SDK_LOG_WARNINGS?: WarningLogger }).AI_SDK_LOG_WARNINGS;
  if (logger === false) return;
  if (typeof logger === 'function') {
    logger({ warnings: [...warnings], provider, model });
    return;
  }
  for (const warning of warnings) process.emitWarning(formatWarning(warning, provider, model), 'Warning');
}
