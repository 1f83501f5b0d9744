/**
 * The dspy-ts language-model specification, version 1. Every LM implementation (the AI SDK bridge in
 * `@dspy-ts/lm-adapters`, the local runtime in `@dspy-ts/smt`, the test doubles in `@dspy-ts/core/testing`)
 * implements {@link LanguageModelV1}. Core never imports a provider SDK.
 *
 * @module
 */

/** A plain-text part of a message. */
export interface TextPart {
  /** Discriminator. */
  type: 'text';
  /** The text. */
  text: string;
}

/** An image part of a message: a URL (http(s) or `data:` URI). */
export interface ImagePart {
  /** Discriminator. */
  type: 'image';
  /** `https://…` or `data:image/png;base64,…`. */
  url: string;
  /** IANA media type when known, e.g. `image/png`. */
  mediaType?: string;
}

/** A part of a message's content. */
export type ContentPart = TextPart | ImagePart;

/** A tool call requested by the model. */
export interface ToolCall {
  /** Provider-assigned call id (used to match results). */
  id: string;
  /** Name of the tool. */
  name: string;
  /** Parsed JSON arguments. */
  args: Record<string, unknown>;
}

/** One chat message. `content` is either a plain string or a list of parts. */
export type LMMessage =
  | {
      /** Who wrote the message. */
      role: 'system' | 'user';
      /** Text or multi-part content. */
      content: string | ContentPart[];
    }
  | {
      /** An earlier model turn. */
      role: 'assistant';
      /** Text or multi-part content. */
      content: string | ContentPart[];
      /** Tool calls the model made in this turn. */
      toolCalls?: ToolCall[];
    }
  | {
      /** The result of a tool call. */
      role: 'tool';
      /** Id of the call this answers. */
      toolCallId: string;
      /** Name of the tool that ran. */
      toolName: string;
      /** Result rendered as text. */
      content: string;
    };

/** A tool the model may call, described by a JSON Schema for its arguments. */
export interface LMToolDefinition {
  /** Tool name (unique within a request). */
  name: string;
  /** What the tool does, for the model. */
  description?: string;
  /** JSON Schema (object) of the arguments. */
  parameters: Record<string, unknown>;
}

/** How the model may use tools. */
export type LMToolChoice =
  | 'auto'
  | 'none'
  | 'required'
  | {
      /** Force one specific tool. */
      type: 'tool';
      /** Name of the tool to call. */
      name: string;
    };

/** Requested output format. */
export type LMResponseFormat =
  | {
      /** Free text (the default). */
      type: 'text';
    }
  | {
      /** Any JSON object (provider "JSON mode"). */
      type: 'json';
    }
  | {
      /** Structured output that must validate against `schema`. */
      type: 'json_schema';
      /** Name of the schema (some providers require one). */
      name?: string;
      /** JSON Schema the output must match. */
      schema: Record<string, unknown>;
    };

/** One request to a language model. */
export interface LMRequest {
  /** The conversation. */
  messages: LMMessage[];
  /** Number of completions to sample (default 1). */
  n?: number;
  /** Sampling temperature. */
  temperature?: number;
  /** Maximum number of tokens to generate. */
  maxTokens?: number;
  /** Nucleus sampling probability mass. */
  topP?: number;
  /** Sequences that end generation. */
  stop?: string[];
  /** Structured-output request. */
  responseFormat?: LMResponseFormat;
  /** Tools the model may call. */
  tools?: LMToolDefinition[];
  /** Tool-use policy. */
  toolChoice?: LMToolChoice;
  /**
   * Distinguishes otherwise identical requests so that caches return fresh samples (DSPy's `rollout_id`).
   * Part of the cache key; never sent to the provider.
   */
  rolloutId?: number | string;
  /** Seed for providers (and local models) that support deterministic sampling. */
  seed?: number;
  /** Cancels the request. */
  signal?: AbortSignal;
  /** Options passed through untouched to the provider, keyed by provider name. */
  providerOptions?: Record<string, Record<string, unknown>>;
}

/** Why generation ended. */
export type LMFinishReason = 'stop' | 'length' | 'tool-calls' | 'content-filter' | 'error' | 'other' | 'unknown';

/** One sampled completion. */
export interface LMChoice {
  /** The generated text (may be empty when only tool calls were produced). */
  text: string;
  /** Tool calls, if the model made any. */
  toolCalls?: ToolCall[];
  /** Reasoning text from models that expose it. */
  reasoning?: string;
  /** Why generation ended. */
  finishReason: LMFinishReason;
}

/** Token usage of one request. Missing numbers are unknown, not zero. */
export interface LMUsage {
  /** Prompt tokens. */
  inputTokens?: number;
  /** Completion tokens. */
  outputTokens?: number;
  /** Prompt tokens served from the provider's prompt cache. */
  cachedInputTokens?: number;
  /** Tokens spent on hidden reasoning. */
  reasoningTokens?: number;
  /** Cost in US dollars, when the implementation knows prices. */
  costUsd?: number;
}

/** The reply to an {@link LMRequest}. */
export interface LMResponse {
  /** One entry per requested completion. */
  choices: LMChoice[];
  /** Token usage; empty (`{}`) for cache hits. */
  usage: LMUsage;
  /** The model that answered, as the provider names it. */
  modelId: string;
  /** True when the response came from a cache rather than the provider. */
  cacheHit?: boolean;
}

/** A streamed piece of a response. */
export type LMStreamPart =
  | {
      /** More generated text. */
      type: 'text-delta';
      /** Which completion the text belongs to. */
      choiceIndex: number;
      /** The new text. */
      delta: string;
    }
  | {
      /** More reasoning text. */
      type: 'reasoning-delta';
      /** Which completion the reasoning belongs to. */
      choiceIndex: number;
      /** The new reasoning text. */
      delta: string;
    }
  | {
      /** A complete tool call. */
      type: 'tool-call';
      /** Which completion made the call. */
      choiceIndex: number;
      /** The call. */
      toolCall: ToolCall;
    }
  | {
      /** The end of the stream. */
      type: 'finish';
      /** The full response, as `generate` would have returned it. */
      response: LMResponse;
    };

/**
 * A language model as dspy-ts sees it. Implementations are plain objects or classes; all state that affects
 * output belongs in {@link LanguageModelV1.dumpState} so programs can be saved.
 */
export interface LanguageModelV1 {
  /** Version of this specification the object implements. */
  readonly specificationVersion: 'v1';
  /** Identifier of the model, e.g. `openai/gpt-4o-mini` or `local/stories260K`. */
  readonly modelId: string;
  /** Default request options merged under every call's options. */
  readonly defaults?: Partial<Omit<LMRequest, 'messages' | 'signal'>>;
  /** Which optional request features the model honours natively. */
  readonly capabilities?: {
    /** `responseFormat: json_schema` is enforced by the provider. */
    structuredOutputs?: boolean;
    /** `responseFormat: json` is honoured. */
    jsonMode?: boolean;
    /** Native tool calling. */
    tools?: boolean;
    /** `n > 1` in one request. */
    multipleChoices?: boolean;
  };
  /** Run one request to completion. */
  generate(request: LMRequest): Promise<LMResponse>;
  /** Stream one request; the last part is always `finish` with the full response. */
  stream?(request: LMRequest): AsyncIterable<LMStreamPart>;
  /** A copy with different defaults (e.g. `{ rolloutId: 3, temperature: 1 }`), sharing caches and limits. */
  withDefaults?(defaults: Partial<Omit<LMRequest, 'messages' | 'signal'>>): LanguageModelV1;
  /** Serializable state for DSPy-compatible saving (`lm` key of a predictor's state). */
  dumpState?(): Record<string, unknown>;
}

/** Shorthand for {@link LanguageModelV1}. */
export type LM = LanguageModelV1;

/** True when `value` looks like an object implementing {@link LanguageModelV1}. */
export function isLanguageModel(value: unknown): value is LanguageModelV1 {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as LanguageModelV1).specificationVersion === 'v1' &&
    typeof (value as LanguageModelV1).generate === 'function'
  );
}
