import {
  Example,
  type LanguageModelV1,
  LMError,
  type LMMessage,
  type LMRequest,
  Module,
  type ModuleCallOptions,
  Predict,
  type Prediction,
} from '@dspy-ts/core';
import { ScriptedLM } from '@dspy-ts/core/testing';

/** The text of a message. */
export function text(message: LMMessage | undefined): string {
  if (!message) return '';
  return typeof message.content === 'string'
    ? message.content
    : message.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

/** The question of the current input (the last user message), parsed from ChatAdapter's `[[ ## question ## ]]`. */
export function currentField(request: LMRequest, field: string): string {
  const last = text(request.messages.at(-1));
  const match = new RegExp(`\\[\\[ ## ${field} ## \\]\\]\\n([^\\n]*)`).exec(last);
  return match?.[1] ?? '';
}

/**
 * A scripted LM that counts the calls it answers, can fail once at a given call, and supports `withDefaults` (the
 * copy shares the counter and records the defaults it was asked for).
 */
export class CountingLM extends ScriptedLM {
  /** Calls answered (a call that failed or was aborted is not counted). */
  answered = 0;
  /** Throw at this (1-based) call attempt. */
  failAt: number | undefined;
  /** Abort this controller at the first request after this many calls were answered. */
  abortAfter: { calls: number; controller: AbortController } | undefined;
  private attempts = 0;
  /** Defaults requested through `withDefaults`. */
  readonly derived: Record<string, unknown>[] = [];

  constructor(reply: (request: LMRequest) => string) {
    super(
      async (request) => {
        this.attempts++;
        if (this.failAt === this.attempts) throw new LMError('server', 'provider exploded');
        if (this.abortAfter && this.answered >= this.abortAfter.calls) {
          // Cancelled while in flight: the request is dropped before the provider answers (and charges) it.
          this.abortAfter.controller.abort();
          return '';
        }
        this.answered++;
        return reply(request);
      },
      { modelId: 'counting', usage: { inputTokens: 10, outputTokens: 2, costUsd: 0.001 } },
    );
  }

  /** A copy with defaults merged into every request; it answers through this LM. */
  withDefaults(defaults: LanguageModelV1['defaults']): LanguageModelV1 {
    this.derived.push({ ...defaults });
    return {
      specificationVersion: 'v1',
      modelId: this.modelId,
      defaults: { ...this.defaults, ...defaults },
      generate: (request) => this.generate(request),
      withDefaults: (more) => this.withDefaults({ ...defaults, ...more }),
    };
  }
}

/**
 * `question -> draft`, then `draft -> answer`: two chained predictors, so one program run makes two LM calls.
 */
export class TwoStep extends Module<{ question: string }, Prediction> {
  first = new Predict('question -> draft');
  second = new Predict('draft -> answer');

  override async forward(inputs: { question: string }, options?: ModuleCallOptions): Promise<Prediction> {
    const draft = await this.first.call({ question: inputs.question }, options);
    return this.second.call({ draft: draft.draft }, options);
  }
}

/** Replies for {@link TwoStep}: the draft repeats the question; the answer is `answers[draft]`. */
export function twoStepReply(answers: Record<string, string>): (request: LMRequest) => string {
  return (request) => {
    const question = currentField(request, 'question');
    if (question) return `[[ ## draft ## ]]\n${question}`;
    const draft = currentField(request, 'draft');
    return `[[ ## answer ## ]]\n${answers[draft] ?? 'unknown'}`;
  };
}

/** `n` question/answer examples: `q0 → a0`, … */
export function qaExamples(n: number): Example[] {
  return Array.from({ length: n }, (_, i) =>
    new Example({ question: `q${i}`, answer: `a${i}` }).withInputs('question'),
  );
}

/** Exact match on `answer`. */
export function exactAnswer(example: Example, prediction: { answer?: unknown }): boolean {
  return example.answer === prediction.answer;
}
