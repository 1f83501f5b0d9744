import { DspyError } from '../errors.ts';
import type { LanguageModelV1, LMRequest, LMResponse } from '../lm/spec.ts';
import { currentCallerModules } from '../modules/call-stack.ts';
import { Module, type ModuleCallOptions, PREDICTOR } from '../modules/module.ts';
import type { Predict } from '../modules/predict.ts';
import type { Callback } from '../settings/callbacks.ts';
import { context, getSetting } from '../settings/settings.ts';
import { EventQueue } from './event-queue.ts';
import {
  createFieldStreamParser,
  type FieldChunk,
  type FieldStreamParser,
  type StreamFormat,
} from './field-stream-parser.ts';
import { type LMCallStream, type LMStreamObserver, runWithStreamObserver } from './stream-context.ts';

/** A piece of one output field of one predictor, as the LM produced it (DSPy's `StreamResponse`). */
export class StreamResponse {
  /**
   * @param predictName Name of the predictor that produced it, as in `program.namedPredictors()` (`'self'` when the
   *   program is the predictor).
   * @param field The output field (DSPy's `signature_field_name`).
   * @param chunk The new text.
   * @param isLastChunk True for the field's final piece.
   */
  constructor(
    readonly predictName: string,
    readonly field: string,
    readonly chunk: string,
    readonly isLastChunk: boolean,
  ) {}
}

/** A human-readable progress note: a tool or module started or finished (DSPy's `StatusMessage`). */
export class StatusMessage {
  /** @param message The text to show. */
  constructor(readonly message: string) {}
}

/** What a stream yields: field chunks, status messages and finally the program's output. */
export type StreamEvent<TOutput> = StreamResponse | StatusMessage | TOutput;

/**
 * Texts of the {@link StatusMessage}s (DSPy's `StatusMessageProvider`). Each method returns the message, or
 * `undefined` for none. Methods left out use {@link DEFAULT_STATUS_MESSAGES}.
 */
export interface StatusMessageProvider {
  /** A tool is about to run. */
  toolStartStatusMessage?(tool: object, inputs: Record<string, unknown>): string | undefined;
  /** A tool finished. */
  toolEndStatusMessage?(outputs: unknown): string | undefined;
  /** A module other than a bare predictor is about to run. */
  moduleStartStatusMessage?(module: object, inputs: Record<string, unknown>): string | undefined;
  /** A module other than a bare predictor finished. */
  moduleEndStatusMessage?(outputs: unknown, module: object): string | undefined;
  /** An LM request is about to be sent. */
  lmStartStatusMessage?(lm: LanguageModelV1, request: LMRequest): string | undefined;
  /** An LM request finished. */
  lmEndStatusMessage?(response: LMResponse | undefined): string | undefined;
}

function nameOf(instance: object): string {
  const name = (instance as { name?: unknown }).name;
  return typeof name === 'string' && name ? name : instance.constructor.name;
}

/**
 * The default status texts: DSPy's tool messages (`Calling tool search...`, `Tool calling finished! Querying the
 * LLM with tool calling results...`) plus a start and end message for every module that is not a bare predictor.
 */
export const DEFAULT_STATUS_MESSAGES: Required<StatusMessageProvider> = {
  toolStartStatusMessage: (tool) => `Calling tool ${nameOf(tool)}...`,
  toolEndStatusMessage: () => 'Tool calling finished! Querying the LLM with tool calling results...',
  moduleStartStatusMessage: (module) => `Calling module ${module.constructor.name}...`,
  moduleEndStatusMessage: (_outputs, module) => `Module ${module.constructor.name} finished.`,
  lmStartStatusMessage: () => undefined,
  lmEndStatusMessage: () => undefined,
};

/** Options of {@link StreamListener}. */
export interface StreamListenerOptions {
  /** The output field to stream. */
  signatureFieldName: string;
  /** Only stream this predictor's output. */
  predict?: Predict<any, any>;
  /** Only stream the output of the predictor with this name (as in `program.namedPredictors()`). */
  predictName?: string;
  /**
   * Keep streaming the field every time the predictor runs (e.g. inside a ReAct loop). By default, as in DSPy, a
   * listener stops after the field's first complete value.
   */
  allowReuse?: boolean;
}

/** Selects one output field to stream (DSPy's `dspy.streaming.StreamListener`). */
export class StreamListener {
  /** The output field to stream. */
  readonly signatureFieldName: string;
  /** The predictor it is bound to, if any. */
  readonly predict: Predict<any, any> | undefined;
  /** The predictor name it is bound to, if any. */
  readonly predictName: string | undefined;
  /** Whether it streams the field again on later calls. */
  readonly allowReuse: boolean;

  constructor(options: StreamListenerOptions) {
    this.signatureFieldName = options.signatureFieldName;
    this.predict = options.predict;
    this.predictName = options.predictName;
    this.allowReuse = options.allowReuse ?? false;
  }

  /** Whether this listener wants `field` of `predictor` (named `name`). */
  matches(predictor: object | undefined, name: string, field: string): boolean {
    if (field !== this.signatureFieldName) return false;
    if (this.predict !== undefined) return predictor === this.predict;
    if (this.predictName !== undefined) return name === this.predictName;
    return true;
  }
}

/** Options of {@link streamify}. */
export interface StreamifyOptions {
  /** Texts of the status messages; see {@link DEFAULT_STATUS_MESSAGES}. */
  statusMessageProvider?: StatusMessageProvider;
  /** Which fields to stream. Default: every output field of every predictor call. */
  streamListeners?: readonly StreamListener[];
  /** Yield the program's output as the last item (DSPy's `include_final_prediction_in_output_stream`). Default true. */
  includeFinalPrediction?: boolean;
}

/** Anything `streamify` can run: a module, or an async function taking inputs and call options. */
export type StreamableProgram<TInputs, TOutput> =
  | Module<TInputs & Record<string, unknown>, TOutput>
  | ((inputs: TInputs, options: ModuleCallOptions) => Promise<TOutput>);

interface PredictorLike {
  signature?: { outputFields?: readonly { name: string }[] };
}

function innermostPredictor(): PredictorLike | undefined {
  const stack = currentCallerModules();
  for (let i = stack.length - 1; i >= 0; i--) {
    const module = stack[i] as unknown as Record<symbol, unknown>;
    if (module[PREDICTOR] === true) return module as PredictorLike;
  }
  return undefined;
}

function streamFormat(request: LMRequest): StreamFormat {
  const format = request.responseFormat?.type;
  if (format === 'json' || format === 'json_schema') return 'json';
  const adapter = getSetting('adapter')?.name;
  if (adapter === 'JSONAdapter') return 'json';
  if (adapter === 'XMLAdapter') return 'xml';
  return 'chat';
}

/**
 * Wraps a program so that calling it returns an async iterable of its output as it is produced (DSPy's
 * `dspy.streamify`): {@link StreamResponse} chunks for each output field of each predictor call, as the LM writes
 * them (field boundaries found per adapter: `[[ ## field ## ]]` for Chat, `"field":` for JSON, `<field>` for XML,
 * whatever way the provider splits the text); {@link StatusMessage}s when tools and modules start and end; and
 * finally the program's output.
 *
 * LM calls go through `lm.stream()` where the LM has one; other LMs answer in one piece. Cache hits produce no chunks.
 * Each call of the returned function is its own stream: concurrent streams never mix. Stopping the iteration early
 * aborts the program run (its `signal` fires).
 *
 * @example
 * ```ts
 * const stream = streamify(new ChainOfThought('question -> answer'));
 * for await (const event of stream({ question: 'Why is the sky blue?' })) {
 *   if (event instanceof StreamResponse) process.stdout.write(event.chunk);
 *   else if (event instanceof Prediction) console.log('\n', event.answer);
 * }
 * ```
 */
export function streamify<TInputs extends Record<string, unknown>, TOutput>(
  program: StreamableProgram<TInputs, TOutput>,
  options: StreamifyOptions = {},
): (inputs: TInputs, callOptions?: ModuleCallOptions) => AsyncGenerator<StreamEvent<TOutput>, void, undefined> {
  const provider = { ...DEFAULT_STATUS_MESSAGES, ...options.statusMessageProvider };
  const listeners = options.streamListeners;
  const includeFinal = options.includeFinalPrediction ?? true;
  const names = new Map<object, string>(
    program instanceof Module ? program.namedPredictors().map(([name, p]) => [p as object, name]) : [],
  );

  return async function* run(inputs, callOptions = {}) {
    const queue = new EventQueue<StreamEvent<TOutput>>();
    const controller = new AbortController();
    const signal = callOptions.signal ? AbortSignal.any([callOptions.signal, controller.signal]) : controller.signal;
    const finished = new Set<StreamListener>();

    const observer: LMStreamObserver = {
      open(_lm, request): LMCallStream | undefined {
        const predictor = innermostPredictor();
        const predictName = predictor ? (names.get(predictor) ?? predictor.constructor.name) : 'lm';
        const outputFields = predictor?.signature?.outputFields?.map((f) => f.name);
        const format = streamFormat(request);
        if (!listeners) return callStream(createFieldStreamParser(format, outputFields), predictName, () => {});
        const wanted = listeners.filter(
          (l) =>
            !finished.has(l) &&
            (outputFields === undefined || outputFields.includes(l.signatureFieldName)) &&
            l.matches(predictor, predictName, l.signatureFieldName),
        );
        if (wanted.length === 0) return undefined;
        const parser = createFieldStreamParser(
          format,
          wanted.map((l) => l.signatureFieldName),
        );
        return callStream(parser, predictName, (field) => {
          for (const l of wanted) if (l.signatureFieldName === field && !l.allowReuse) finished.add(l);
        });
      },
    };

    function callStream(parser: FieldStreamParser, predictName: string, onFieldDone: (field: string) => void) {
      let written = false;
      // The newest chunk waits for the next one, so a field's final text and its end arrive as one last chunk
      // instead of a chunk followed by an empty last chunk.
      let held: FieldChunk | undefined;
      const send = (c: FieldChunk) => {
        queue.push(new StreamResponse(predictName, c.field, c.chunk, c.isLastChunk));
        if (c.isLastChunk) onFieldDone(c.field);
      };
      const emit = (chunks: readonly FieldChunk[]) => {
        for (const c of chunks) {
          if (held && held.field === c.field && c.isLastChunk) {
            held = { field: c.field, chunk: held.chunk + c.chunk, isLastChunk: true };
          } else {
            if (held) send(held);
            held = c;
          }
          if (held.isLastChunk) {
            send(held);
            held = undefined;
          }
        }
      };
      return {
        write(delta: string) {
          written = true;
          emit(parser.push(delta));
        },
        close() {
          if (written) emit(parser.finish());
          if (held) send(held);
          held = undefined;
        },
      };
    }

    const starts = new Map<string, object>();
    const status = (message: string | undefined) => {
      if (message) queue.push(new StatusMessage(message));
    };
    const statusCallback: Callback = {
      onModuleStart(callId, instance, moduleInputs) {
        if ((instance as Record<symbol, unknown>)[PREDICTOR] === true) return;
        starts.set(callId, instance);
        status(provider.moduleStartStatusMessage(instance, moduleInputs));
      },
      onModuleEnd(callId, outputs, exception) {
        const instance = starts.get(callId);
        starts.delete(callId);
        if (instance && exception === undefined) status(provider.moduleEndStatusMessage(outputs, instance));
      },
      onToolStart: (_id, tool, args) => status(provider.toolStartStatusMessage(tool, args)),
      onToolEnd: (_id, outputs, exception) => {
        if (exception === undefined) status(provider.toolEndStatusMessage(outputs));
      },
      onLmStart: (_id, lm, request) => status(provider.lmStartStatusMessage(lm, request)),
      onLmEnd: (_id, response, exception) => {
        if (exception === undefined) status(provider.lmEndStatusMessage(response));
      },
    };

    const task = runWithStreamObserver(observer, () =>
      context({ callbacks: [...getSetting('callbacks'), statusCallback] }, () =>
        program instanceof Module
          ? program.call(inputs, { ...callOptions, signal })
          : program(inputs, { ...callOptions, signal }),
      ),
    );
    let settled = false;
    task.then(
      (output) => {
        settled = true;
        if (includeFinal) queue.push(output);
        queue.close();
      },
      (error: unknown) => {
        settled = true;
        queue.fail(error);
      },
    );

    try {
      for await (const event of queue) yield event;
    } finally {
      if (!settled) {
        controller.abort(new DspyError('aborted', 'The stream was closed before the program finished.'));
        task.catch(() => {});
      }
    }
  };
}
