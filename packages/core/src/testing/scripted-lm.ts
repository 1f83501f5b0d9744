import type { LanguageModelV1, LMChoice, LMRequest, LMResponse, LMUsage } from '../lm/spec.ts';

/**
 * What a {@link ScriptedLM} handler may return: one text (used for every requested choice), one text per choice, or a
 * partial response whose missing parts are filled in.
 */
export type ScriptedReply = string | readonly string[] | (Partial<LMResponse> & { choices: LMChoice[] });

/** Options of {@link ScriptedLM}. */
export interface ScriptedLMOptions {
  /** Model id reported by the LM and its responses. Default `scripted`. */
  modelId?: string;
  /** Usage reported for every call. Default zeros. */
  usage?: LMUsage;
  /** Mark every response as a cache hit (usage is then reported as `{}`). */
  cacheHit?: boolean;
  /** Request defaults, merged under each call by `callLM`. */
  defaults?: LanguageModelV1['defaults'];
}

/** One recorded call of a scripted LM. */
export interface RecordedCall {
  /** The request exactly as the LM received it. */
  request: LMRequest;
  /** What the LM returned. */
  response: LMResponse;
}

/**
 * An LM whose replies come from a function, for tests. Every request and response is recorded in `calls`;
 * `requests` lists just the requests. Honours `request.signal`: an aborted request rejects with the signal's reason.
 *
 * @example
 * ```ts
 * const lm = new ScriptedLM((request) => `[[ ## answer ## ]]\n${request.messages.length}`);
 * ```
 */
export class ScriptedLM implements LanguageModelV1 {
  /** Spec version. */
  readonly specificationVersion = 'v1' as const;
  /** Model id. */
  readonly modelId: string;
  /** Request defaults. */
  readonly defaults: LanguageModelV1['defaults'];
  /** Every call so far, oldest first. */
  readonly calls: RecordedCall[] = [];
  private readonly usage: LMUsage;
  private readonly cacheHit: boolean;

  constructor(
    private readonly respond: (request: LMRequest, callIndex: number) => ScriptedReply | Promise<ScriptedReply>,
    options: ScriptedLMOptions = {},
  ) {
    this.modelId = options.modelId ?? 'scripted';
    this.usage = options.usage ?? { inputTokens: 0, outputTokens: 0 };
    this.cacheHit = options.cacheHit ?? false;
    this.defaults = options.defaults;
  }

  /** The requests received so far, oldest first. */
  get requests(): LMRequest[] {
    return this.calls.map((call) => call.request);
  }

  /** The most recent request, if any. */
  get lastRequest(): LMRequest | undefined {
    return this.calls.at(-1)?.request;
  }

  /** Answers one request with the scripted reply. */
  async generate(request: LMRequest): Promise<LMResponse> {
    request.signal?.throwIfAborted();
    const reply = await this.respond(request, this.calls.length);
    request.signal?.throwIfAborted();
    const n = request.n ?? 1;
    let response: LMResponse;
    if (typeof reply === 'string' || Array.isArray(reply)) {
      const texts = typeof reply === 'string' ? Array.from({ length: n }, () => reply) : (reply as readonly string[]);
      response = {
        choices: texts.map((text) => ({ text, finishReason: 'stop' })),
        usage: this.cacheHit ? {} : { ...this.usage },
        modelId: this.modelId,
      };
    } else {
      const partial = reply as Partial<LMResponse> & { choices: LMChoice[] };
      response = { usage: this.cacheHit ? {} : { ...this.usage }, modelId: this.modelId, ...partial };
    }
    if (this.cacheHit) response.cacheHit = true;
    this.calls.push({ request, response });
    return response;
  }

  /** Serializable state: the model id (so saved programs show which double was used). */
  dumpState(): Record<string, unknown> {
    return { model: this.modelId };
  }
}
