/**
 * {@link LocalLM}: the dspy-ts language-model interface over a local {@link LlamaModel}, plus the chat template
 * used to turn messages into a prompt (and, later, to format fine-tuning data the same way).
 *
 * @module
 */

import {
  type LanguageModelV1,
  type LMChoice,
  LMError,
  type LMMessage,
  type LMRequest,
  type LMResponse,
} from '@dspy-ts/core';
import type { LlamaModel } from './model/llama-model.ts';

/** Request options a {@link LocalLM} applies under every call. */
export type LocalLMDefaults = Partial<Omit<LMRequest, 'messages' | 'signal'>>;

/** Options of {@link LocalLM}. */
export interface LocalLMOptions {
  /** Model id reported in responses (default `local/<model.name>`, e.g. `local/stories260K`). */
  modelId?: string;
  /** Default request options (temperature, maxTokens, seed, stop, …). */
  defaults?: LocalLMDefaults;
}

/** Options of {@link renderChatTemplate}. */
export interface ChatTemplateOptions {
  /** End with an open `<|assistant|>` turn for the model to complete (default true). */
  addGenerationPrompt?: boolean;
}

/** Name of the chat template, recorded in saved state. */
export const CHAT_TEMPLATE_NAME = 'dspy-ts-local-v1';

const ROLES = ['system', 'user', 'assistant', 'tool'] as const;

/** Role markers that end the assistant's turn when the model starts a new one. */
const TURN_STOPS = ROLES.map((role) => `\n<|${role}|>`);

function messageText(message: LMMessage): string {
  if (typeof message.content === 'string') return message.content;
  return message.content
    .map((part) => {
      if (part.type === 'text') return part.text;
      throw new LMError('invalid_request', 'Local models accept text only; the request contains an image part.');
    })
    .join('\n');
}

/**
 * Renders messages with the local chat template: each message becomes a role marker line followed by its text
 * and a newline, and (by default) an open assistant turn is appended:
 *
 * ```text
 * <|system|>
 * You are terse.
 * <|user|>
 * Hi
 * <|assistant|>
 * ```
 *
 * Multi-part content is joined with newlines (text only). An assistant turn with tool calls appends one JSON
 * line `{"tool_calls":[…]}`; a tool result renders as `<|tool|>` then `name: result`. Fine-tuning data should be
 * rendered with `addGenerationPrompt: false` so the target assistant turn ends with its newline.
 *
 * @example
 * ```ts
 * renderChatTemplate([{ role: 'user', content: 'Hi' }]); // '<|user|>\nHi\n<|assistant|>\n'
 * ```
 */
export function renderChatTemplate(messages: readonly LMMessage[], options: ChatTemplateOptions = {}): string {
  let out = '';
  for (const message of messages) {
    let text: string;
    if (message.role === 'tool') text = `${message.toolName}: ${message.content}`;
    else {
      text = messageText(message);
      if (message.role === 'assistant' && message.toolCalls?.length) {
        text += `${text ? '\n' : ''}${JSON.stringify({ tool_calls: message.toolCalls })}`;
      }
    }
    out += `<|${message.role}|>\n${text}\n`;
  }
  if (options.addGenerationPrompt ?? true) out += '<|assistant|>\n';
  return out;
}

function isAbort(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError';
}

/**
 * A {@link LanguageModelV1} backed by a local LLaMA model. Messages are rendered with
 * {@link renderChatTemplate}; generation stops at the request's stop sequences, at the start of a new turn
 * (`\n<|user|>` and the other role markers), at BOS/EOS, or after `maxTokens`. Temperature defaults to 0
 * (greedy); `n > 1` samples choice `i` with seed `seed + i` (seed default 0), so results are reproducible.
 * Usage counts the prompt's tokens once and every generated token of every choice.
 *
 * @example
 * ```ts
 * const lm = new LocalLM(await loadLlama2c({ checkpoint, tokenizer }));
 * const { choices } = await lm.generate({ messages: [{ role: 'user', content: 'Tell a story' }], maxTokens: 64 });
 * ```
 */
export class LocalLM implements LanguageModelV1 {
  /** Implements version 1 of the LM specification. */
  readonly specificationVersion = 'v1' as const;
  /** e.g. `local/stories260K`. */
  readonly modelId: string;
  /** Default request options. */
  readonly defaults: LocalLMDefaults;
  /** Nothing beyond plain text generation is enforced natively; `n > 1` is served in one call. */
  readonly capabilities = { structuredOutputs: false, jsonMode: false, tools: false, multipleChoices: true };
  /** The model that generates. */
  readonly model: LlamaModel;

  /** Wraps `model`. */
  constructor(model: LlamaModel, options: LocalLMOptions = {}) {
    this.model = model;
    this.modelId = options.modelId ?? `local/${model.name}`;
    this.defaults = { ...options.defaults };
  }

  /** Generates `n` completions for the rendered conversation. */
  async generate(request: LMRequest): Promise<LMResponse> {
    const options = {
      ...this.defaults,
      ...Object.fromEntries(Object.entries(request).filter(([, v]) => v !== undefined)),
    } as LMRequest;
    const signal = request.signal;
    const prompt = renderChatTemplate(options.messages);
    const promptTokens = this.model.tokenizer.encode(prompt, { bos: true });
    if (promptTokens.length >= this.model.config.seqLen) {
      throw new LMError(
        'context_window_exceeded',
        `The prompt has ${promptTokens.length} tokens; ${this.modelId} has a context of ${this.model.config.seqLen}.`,
      );
    }
    const n = options.n ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new LMError('invalid_request', `n must be a positive integer, got ${n}.`);
    const seed = options.seed ?? 0;
    const choices: LMChoice[] = [];
    let outputTokens = 0;
    for (let i = 0; i < n; i++) {
      // Yield to the event loop between choices so timers and aborts are not starved by a long batch.
      await new Promise((resolve) => setImmediate(resolve));
      try {
        signal?.throwIfAborted();
        const result = this.model.generate(promptTokens, {
          maxNewTokens: options.maxTokens,
          temperature: options.temperature ?? 0,
          topP: options.topP ?? 1,
          seed: seed + i,
          stop: [...(options.stop ?? []), ...TURN_STOPS],
          signal,
        });
        outputTokens += result.tokens.length;
        choices.push({ text: result.text, finishReason: result.finishReason });
      } catch (error) {
        if (isAbort(error) || signal?.aborted)
          throw new LMError('aborted', 'The local generation was aborted.', { cause: error });
        throw error;
      }
    }
    return { choices, usage: { inputTokens: promptTokens.length, outputTokens }, modelId: this.modelId };
  }

  /** A LocalLM over the same model with `defaults` merged over this one's. */
  withDefaults(defaults: LocalLMDefaults): LocalLM {
    return new LocalLM(this.model, { modelId: this.modelId, defaults: { ...this.defaults, ...defaults } });
  }

  /** DSPy-style saved state: the model id, the chat template and the sampling defaults (snake_case). */
  dumpState(): Record<string, unknown> {
    const d = this.defaults;
    const state: Record<string, unknown> = {
      model: this.modelId,
      model_type: 'chat',
      chat_template: CHAT_TEMPLATE_NAME,
      temperature: d.temperature ?? 0,
      max_tokens: d.maxTokens ?? null,
    };
    if (d.topP !== undefined) state.top_p = d.topP;
    if (d.seed !== undefined) state.seed = d.seed;
    if (d.n !== undefined) state.n = d.n;
    if (d.stop !== undefined) state.stop = d.stop;
    if (d.rolloutId !== undefined) state.rollout_id = d.rolloutId;
    return state;
  }
}
