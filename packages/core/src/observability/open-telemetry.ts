import type { Attributes, Span, Tracer, TracerProvider } from '@opentelemetry/api';
import type { LanguageModelV1, LMRequest, LMResponse } from '../lm/spec.ts';
import { type Callback, type CallFrame, type CallKind, currentCallFrame } from '../settings/callbacks.ts';

type OtelApi = typeof import('@opentelemetry/api');

/** Options of {@link createOpenTelemetryCallback}. */
export interface OpenTelemetryOptions {
  /** Where spans go. Default: the globally registered provider (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider;
  /** Name of the tracer. Default `@dspy-ts/core`. */
  tracerName?: string;
  /**
   * Record message contents (`gen_ai.input.messages`, `gen_ai.output.messages`) and module inputs/outputs on spans.
   * Off by default: prompts may hold private data.
   */
  captureContent?: boolean;
  /** Kinds of calls that get spans. Default: all of them. */
  kinds?: readonly CallKind[];
}

const START_KINDS: Record<string, CallKind> = {
  onModuleStart: 'module',
  onLmStart: 'lm',
  onAdapterFormatStart: 'adapterFormat',
  onAdapterParseStart: 'adapterParse',
  onToolStart: 'tool',
  onEvaluateStart: 'evaluate',
  onCompileStart: 'compile',
};

function providerName(modelId: string): string | undefined {
  const slash = modelId.indexOf('/');
  return slash > 0 ? modelId.slice(0, slash) : undefined;
}

function nameOf(instance: object): string {
  const name = (instance as { name?: unknown }).name;
  return typeof name === 'string' && name ? name : instance.constructor.name;
}

function json(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function lmRequestAttributes(lm: LanguageModelV1, request: LMRequest, captureContent: boolean): Attributes {
  const attributes: Attributes = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.request.model': lm.modelId,
  };
  const provider = providerName(lm.modelId);
  if (provider) attributes['gen_ai.provider.name'] = provider;
  if (request.temperature !== undefined) attributes['gen_ai.request.temperature'] = request.temperature;
  if (request.maxTokens !== undefined) attributes['gen_ai.request.max_tokens'] = request.maxTokens;
  if (request.topP !== undefined) attributes['gen_ai.request.top_p'] = request.topP;
  if (request.stop !== undefined) attributes['gen_ai.request.stop_sequences'] = request.stop;
  if (request.seed !== undefined) attributes['gen_ai.request.seed'] = request.seed;
  if (request.n !== undefined && request.n !== 1) attributes['gen_ai.request.choice.count'] = request.n;
  if (request.responseFormat && request.responseFormat.type !== 'text') {
    attributes['gen_ai.output.type'] = 'json';
  }
  if (captureContent) attributes['gen_ai.input.messages'] = json(request.messages);
  return attributes;
}

function lmResponseAttributes(response: LMResponse, captureContent: boolean): Attributes {
  const attributes: Attributes = {
    'gen_ai.response.model': response.modelId,
    'gen_ai.response.finish_reasons': response.choices.map((c) => c.finishReason),
    'dspy.lm.cache_hit': response.cacheHit === true,
  };
  const { usage } = response;
  if (usage.inputTokens !== undefined) attributes['gen_ai.usage.input_tokens'] = usage.inputTokens;
  if (usage.outputTokens !== undefined) attributes['gen_ai.usage.output_tokens'] = usage.outputTokens;
  if (usage.cachedInputTokens !== undefined) {
    attributes['gen_ai.usage.cache_read.input_tokens'] = usage.cachedInputTokens;
  }
  if (usage.reasoningTokens !== undefined) attributes['gen_ai.usage.reasoning.output_tokens'] = usage.reasoningTokens;
  if (usage.costUsd !== undefined) attributes['dspy.lm.cost_usd'] = usage.costUsd;
  if (captureContent) {
    attributes['gen_ai.output.messages'] = json(
      response.choices.map((c) => ({ role: 'assistant', content: c.text, finish_reason: c.finishReason })),
    );
  }
  return attributes;
}

function spanStart(
  kind: CallKind,
  instance: object,
  inputs: unknown,
  captureContent: boolean,
): { name: string; attributes: Attributes; client: boolean } {
  switch (kind) {
    case 'lm': {
      const lm = instance as LanguageModelV1;
      return {
        name: `chat ${lm.modelId}`,
        attributes: lmRequestAttributes(lm, inputs as LMRequest, captureContent),
        client: true,
      };
    }
    case 'tool': {
      const name = nameOf(instance);
      const attributes: Attributes = { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name };
      const description = (instance as { desc?: unknown; description?: unknown }).desc;
      if (typeof description === 'string') attributes['gen_ai.tool.description'] = description;
      if (captureContent) attributes['gen_ai.tool.call.arguments'] = json(inputs);
      return { name: `execute_tool ${name}`, attributes, client: false };
    }
    case 'module': {
      const attributes: Attributes = { 'dspy.call.kind': 'module', 'dspy.module.class': instance.constructor.name };
      if (captureContent) attributes['dspy.module.inputs'] = json(inputs);
      return { name: `${instance.constructor.name}.call`, attributes, client: false };
    }
    case 'adapterFormat':
    case 'adapterParse': {
      const step = kind === 'adapterFormat' ? 'format' : 'parse';
      return {
        name: `${nameOf(instance)}.${step}`,
        attributes: { 'dspy.call.kind': kind, 'dspy.adapter.name': nameOf(instance) },
        client: false,
      };
    }
    default:
      return {
        name: `${instance.constructor.name}.${kind}`,
        attributes: { 'dspy.call.kind': kind },
        client: false,
      };
  }
}

/**
 * Turns dspy-ts calls into OpenTelemetry spans: one per module call, LM request (with the GenAI semantic conventions:
 * `gen_ai.operation.name`, `gen_ai.request.model`, `gen_ai.usage.input_tokens`, `gen_ai.usage.output_tokens`,
 * `gen_ai.response.finish_reasons`, ...), tool call, adapter format/parse, evaluation and compilation, each parented
 * to the call it runs inside (the outermost to the span active in the caller's OpenTelemetry context).
 *
 * `@opentelemetry/api` is an optional peer dependency loaded here on first use; without it (or without a registered
 * SDK) the returned callback does nothing. Register it like any callback:
 *
 * @example
 * ```ts
 * configure({ callbacks: [await createOpenTelemetryCallback()] });
 * ```
 */
export async function createOpenTelemetryCallback(options: OpenTelemetryOptions = {}): Promise<Callback> {
  let api: OtelApi;
  try {
    api = await import('@opentelemetry/api');
  } catch {
    return {};
  }
  return openTelemetryCallback(api, options);
}

/** {@link createOpenTelemetryCallback} with an already loaded `@opentelemetry/api` module. */
export function openTelemetryCallback(api: OtelApi, options: OpenTelemetryOptions = {}): Callback {
  const tracerName = options.tracerName ?? '@dspy-ts/core';
  const captureContent = options.captureContent ?? false;
  const kinds = new Set(options.kinds ?? Object.values(START_KINDS));
  let tracer: Tracer | undefined;
  const getTracer = () => {
    tracer ??= (options.tracerProvider ?? api.trace.getTracerProvider()).getTracer(tracerName);
    return tracer;
  };
  const spans = new Map<string, { span: Span; kind: CallKind }>();

  const parentContext = (frame: CallFrame | undefined) => {
    for (let f = frame?.parent; f; f = f.parent) {
      const parent = spans.get(f.callId);
      if (parent) return api.trace.setSpan(api.context.active(), parent.span);
    }
    return api.context.active();
  };

  const start = (hook: string) => (callId: string, instance: object, inputs: unknown) => {
    const kind = START_KINDS[hook] as CallKind;
    if (!kinds.has(kind)) return;
    const frame = currentCallFrame();
    const { name, attributes, client } = spanStart(kind, instance, inputs, captureContent);
    attributes['dspy.call_id'] = callId;
    const span = getTracer().startSpan(
      name,
      { kind: client ? api.SpanKind.CLIENT : api.SpanKind.INTERNAL, attributes },
      parentContext(frame?.callId === callId ? frame : undefined),
    );
    spans.set(callId, { span, kind });
  };

  const end = (callId: string, outputs: unknown, exception: unknown) => {
    const entry = spans.get(callId);
    if (!entry) return;
    spans.delete(callId);
    const { span, kind } = entry;
    if (exception !== undefined) {
      const error = exception instanceof Error ? exception : new Error(String(exception));
      span.recordException(error);
      span.setAttribute('error.type', error.name || 'Error');
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: error.message });
    } else if (kind === 'lm' && outputs) {
      span.setAttributes(lmResponseAttributes(outputs as LMResponse, captureContent));
    } else if (captureContent && outputs !== undefined) {
      span.setAttribute(kind === 'tool' ? 'gen_ai.tool.call.result' : 'dspy.outputs', json(outputs));
    }
    span.end();
  };

  return {
    onModuleStart: start('onModuleStart'),
    onModuleEnd: end,
    onLmStart: start('onLmStart'),
    onLmEnd: end,
    onAdapterFormatStart: start('onAdapterFormatStart'),
    onAdapterFormatEnd: end,
    onAdapterParseStart: start('onAdapterParseStart'),
    onAdapterParseEnd: end,
    onToolStart: start('onToolStart'),
    onToolEnd: end,
    onEvaluateStart: start('onEvaluateStart'),
    onEvaluateEnd: end,
    onCompileStart: start('onCompileStart'),
    onCompileEnd: end,
  };
}
