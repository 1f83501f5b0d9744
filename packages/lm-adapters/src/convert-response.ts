import type { LMChoice, LMFinishReason, LMUsage, ToolCall } from '@dspy-ts/core';
import type { FinishReason, LanguageModelUsage } from 'ai';

/** Maps the AI SDK's finish reason to core's (`interrupted` becomes `other`). */
export function toFinishReason(reason: FinishReason | undefined): LMFinishReason {
  switch (reason) {
    case 'stop':
    case 'length':
    case 'content-filter':
    case 'tool-calls':
    case 'error':
    case 'other':
      return reason;
    case 'interrupted':
      return 'other';
    default:
      return 'unknown';
  }
}

/** Maps the AI SDK's usage to core's, leaving unknown numbers out (unknown is not zero). */
export function toUsage(usage: LanguageModelUsage | undefined): LMUsage {
  const out: LMUsage = {};
  if (!usage) return out;
  if (usage.inputTokens !== undefined) out.inputTokens = usage.inputTokens;
  if (usage.outputTokens !== undefined) out.outputTokens = usage.outputTokens;
  const cached = usage.inputTokenDetails?.cacheReadTokens;
  if (cached !== undefined) out.cachedInputTokens = cached;
  const reasoning = usage.outputTokenDetails?.reasoningTokens;
  if (reasoning !== undefined) out.reasoningTokens = reasoning;
  return out;
}

/** Converts an AI SDK tool call to core's. */
export function toToolCall(call: { toolCallId: string; toolName: string; input: unknown }): ToolCall {
  const args =
    typeof call.input === 'object' && call.input !== null && !Array.isArray(call.input)
      ? (call.input as Record<string, unknown>)
      : { value: call.input };
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
