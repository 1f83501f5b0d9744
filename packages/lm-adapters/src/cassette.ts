import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type LanguageModelV1, LMError, type LMRequest, type LMResponse, type LMStreamPart } from '@dspy-ts/core';
import { requestIdentity, requestKey } from './canonical-request.ts';

/** One line of a cassette file. */
export interface CassetteEntry {
  /** SHA-256 of the canonical request (see `requestKey`). */
  key: string;
  /** Id of the LM that answered. */
  modelId: string;
  /** The request, without its signal or credentials, for humans reading the file. */
  request: Record<string, unknown>;
  /** The response exactly as the LM returned it. */
  response: LMResponse;
}

type Defaults = LanguageModelV1['defaults'];

function merged(defaults: Defaults, request: LMRequest): LMRequest {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(defaults ?? {})) if (value !== undefined) out[key] = value;
  for (const [key, value] of Object.entries(request)) if (value !== undefined) out[key] = value;
  return out as unknown as LMRequest;
}

/** The cassette key of `request`: independent of the model, so one cassette replays under any LM id. */
export function cassetteKey(request: LMRequest): string {
  return requestKey('', request, 'cassette');
}

const writeQueues = new Map<string, Promise<void>>();

function appendLine(file: string, line: string): Promise<void> {
  const previous = writeQueues.get(file) ?? Promise.resolve();
  const next = previous.then(() => appendFile(file, `${line}\n`, 'utf8'));
  // Lines of one file are written strictly in order; a failed write does not block the ones after it.
  const settled = next.catch(() => {});
  writeQueues.set(file, settled);
  void settled.then(() => {
    if (writeQueues.get(file) === settled) writeQueues.delete(file);
  });
  return next;
}

function* partsOf(response: LMResponse): Generator<LMStreamPart> {
  for (const [choiceIndex, choice] of response.choices.entries()) {
    if (choice.reasoning) yield { type: 'reasoning-delta', choiceIndex, delta: choice.reasoning };
    if (choice.text) yield { type: 'text-delta', choiceIndex, delta: choice.text };
    for (const toolCall of choice.toolCalls ?? []) yield { type: 'tool-call', choiceIndex, toolCall };
  }
  yield { type: 'finish', response };
}

/** An LM that forwards to another and appends every request/response pair to a JSONL cassette. */
export class RecordingLM implements LanguageModelV1 {
  /** Spec version. */
  readonly specificationVersion = 'v1' as const;
  /** The inner LM's id. */
  readonly modelId: string;
  /** The inner LM's defaults. */
  readonly defaults: Defaults;
  /** The inner LM's capabilities. */
  readonly capabilities: LanguageModelV1['capabilities'];
  /** Path of the cassette. */
  readonly file: string;
  /** Streams through the inner LM, recording the final response (present when the inner LM streams). */
  readonly stream?: (request: LMRequest) => AsyncIterable<LMStreamPart>;
  private readonly inner: LanguageModelV1;

  /** Prefer {@link recording}. */
  constructor(inner: LanguageModelV1, file: string) {
    this.inner = inner;
    this.file = file;
    this.modelId = inner.modelId;
    this.defaults = inner.defaults;
    this.capabilities = inner.capabilities;
    mkdirSync(dirname(file), { recursive: true });
    const innerStream = inner.stream?.bind(inner);
    if (innerStream) {
      const record = this.record.bind(this);
      const defaults = this.defaults;
      this.stream = async function* (request: LMRequest) {
        const full = merged(defaults, request);
        for await (const part of innerStream(full)) {
          if (part.type === 'finish') await record(full, part.response);
          yield part;
        }
      };
    }
  }

  /** Calls the inner LM and appends the pair to the cassette before returning. */
  async generate(request: LMRequest): Promise<LMResponse> {
    const full = merged(this.defaults, request);
    const response = await this.inner.generate(full);
    await this.record(full, response);
    return response;
  }

  /** A recording copy of the inner LM's `withDefaults` copy, writing to the same cassette. */
  withDefaults(defaults: NonNullable<Defaults>): LanguageModelV1 {
    if (!this.inner.withDefaults) throw new TypeError(`${this.modelId} does not support withDefaults.`);
    return new RecordingLM(this.inner.withDefaults(defaults), this.file);
  }

  /** The inner LM's state. */
  dumpState(): Record<string, unknown> {
    return this.inner.dumpState?.() ?? { model: this.modelId };
  }

  private async record(request: LMRequest, response: LMResponse): Promise<void> {
    const entry: CassetteEntry = {
      key: cassetteKey(request),
      modelId: this.modelId,
      request: requestIdentity(request),
      response,
    };
    await appendLine(this.file, JSON.stringify(entry));
  }
}

/**
 * Wraps `lm` so that every request and its response are appended to the JSONL file `file` (created if needed).
 * Replay the file with {@link replaying}.
 *
 * @example
 * ```ts
 * const lm = recording(fromAISDK(openai('gpt-4o-mini')), 'test/cassettes/qa.jsonl');
 * ```
 */
export function recording(lm: LanguageModelV1, file: string): RecordingLM {
  return new RecordingLM(lm, file);
}

/** Options of {@link replaying}. */
export interface ReplayOptions {
  /** Model id the replaying LM reports. Default: the id recorded on the cassette's first line. */
  modelId?: string;
  /** Capabilities to advertise (they steer adapters, so match the recorded LM). Default: none. */
  capabilities?: LanguageModelV1['capabilities'];
}

/**
 * An LM that answers from a cassette. Requests are matched by their canonical key; a request recorded several times
 * gets its recorded responses in order, then the last one again. An unrecorded request fails with a non-retryable
 * `LMError` (kind `invalid_request`) that says how to re-record.
 */
export class ReplayingLM implements LanguageModelV1 {
  /** Spec version. */
  readonly specificationVersion = 'v1' as const;
  /** Model id (from the cassette or the options). */
  readonly modelId: string;
  /** Advertised capabilities. */
  readonly capabilities: LanguageModelV1['capabilities'];
  /** Path of the cassette. */
  readonly file: string;
  private readonly entries = new Map<string, LMResponse[]>();
  private readonly served = new Map<string, number>();

  /** Prefer {@link replaying}. */
  constructor(file: string, options: ReplayOptions = {}) {
    this.file = file;
    if (!existsSync(file)) {
      throw new LMError(
        'invalid_request',
        `The cassette ${file} does not exist. Record it first with recording(lm, file).`,
        {
          isRetryable: false,
        },
      );
    }
    let firstModel: string | undefined;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      let entry: CassetteEntry;
      try {
        entry = JSON.parse(line) as CassetteEntry;
      } catch {
        // A line cut short by a crash while recording carries no usable response.
        continue;
      }
      firstModel ??= entry.modelId;
      const list = this.entries.get(entry.key) ?? [];
      list.push(entry.response);
      this.entries.set(entry.key, list);
    }
    this.modelId = options.modelId ?? firstModel ?? 'replay';
    this.capabilities = options.capabilities;
  }

  /** Number of distinct recorded requests. */
  get size(): number {
    return this.entries.size;
  }

  /** The recorded response to `request` (a deep copy). */
  async generate(request: LMRequest): Promise<LMResponse> {
    request.signal?.throwIfAborted();
    const key = cassetteKey(request);
    const list = this.entries.get(key);
    if (!list?.length) {
      throw new LMError(
        'invalid_request',
        `No recorded response in ${this.file} for this request (key ${key.slice(0, 12)}; the cassette holds ` +
          `${this.entries.size} distinct requests). The prompt or request options changed since recording: re-record ` +
          'with recording(lm, file).',
        { isRetryable: false },
      );
    }
    const index = this.served.get(key) ?? 0;
    this.served.set(key, index + 1);
    return structuredClone(list[Math.min(index, list.length - 1)] as LMResponse);
  }

  /** Replays the recorded response as stream parts. */
  async *stream(request: LMRequest): AsyncGenerator<LMStreamPart> {
    yield* partsOf(await this.generate(request));
  }

  /** `{ model }`. */
  dumpState(): Record<string, unknown> {
    return { model: this.modelId };
  }
}

/** An LM serving the responses recorded in `file` by {@link recording}, deterministically and offline. */
export function replaying(file: string, options?: ReplayOptions): ReplayingLM {
  return new ReplayingLM(file, options);
}
