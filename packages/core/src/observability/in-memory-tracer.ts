import {
  type Attributes,
  type AttributeValue,
  type Context,
  context as otelContext,
  type Span,
  type SpanContext,
  type SpanOptions,
  type SpanStatus,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';

/** A span as recorded by {@link InMemoryTracerProvider}. */
export interface RecordedSpan {
  /** The span's name. */
  name: string;
  /** Span id. */
  spanId: string;
  /** Trace id. */
  traceId: string;
  /** Id of the parent span, if any. */
  parentSpanId: string | undefined;
  /** Attributes set at start or later. */
  attributes: Attributes;
  /** The status set, if any. */
  status: SpanStatus | undefined;
  /** Recorded exceptions. */
  exceptions: unknown[];
  /** Whether `end()` was called. */
  ended: boolean;
}

let counter = 0;
const hexId = (length: number) => (++counter).toString(16).padStart(length, '0');

class RecordingSpan implements Span {
  constructor(
    private readonly record: RecordedSpan,
    private readonly context: SpanContext,
  ) {}
  spanContext(): SpanContext {
    return this.context;
  }
  setAttribute(key: string, value: AttributeValue): this {
    this.record.attributes[key] = value;
    return this;
  }
  setAttributes(attributes: Attributes): this {
    Object.assign(this.record.attributes, attributes);
    return this;
  }
  addEvent(): this {
    return this;
  }
  addLink(): this {
    return this;
  }
  addLinks(): this {
    return this;
  }
  setStatus(status: SpanStatus): this {
    this.record.status = status;
    return this;
  }
  updateName(name: string): this {
    this.record.name = name;
    return this;
  }
  end(): void {
    this.record.ended = true;
  }
  isRecording(): boolean {
    return !this.record.ended;
  }
  recordException(exception: unknown): void {
    this.record.exceptions.push(exception);
  }
}

/**
 * A `TracerProvider` that keeps every span in memory, implemented directly against the `@opentelemetry/api`
 * interfaces (no SDK needed). Test helper for the tracing integration.
 */
export class InMemoryTracerProvider implements TracerProvider {
  /** Every span started, in start order. */
  readonly spans: RecordedSpan[] = [];

  getTracer(): Tracer {
    const spans = this.spans;
    const startSpan = (name: string, options: SpanOptions = {}, ctx: Context = otelContext.active()): Span => {
      const parent = trace.getSpan(ctx)?.spanContext();
      const spanContext: SpanContext = {
        traceId: parent?.traceId ?? hexId(32),
        spanId: hexId(16),
        traceFlags: 1,
      };
      const record: RecordedSpan = {
        name,
        spanId: spanContext.spanId,
        traceId: spanContext.traceId,
        parentSpanId: parent?.spanId,
        attributes: { ...options.attributes },
        status: undefined,
        exceptions: [],
        ended: false,
      };
      spans.push(record);
      return new RecordingSpan(record, spanContext);
    };
    return {
      startSpan,
      startActiveSpan: ((name: string, ...rest: unknown[]) => {
        const fn = rest.pop() as (span: Span) => unknown;
        const [options, ctx] = rest as [SpanOptions | undefined, Context | undefined];
        const span = startSpan(name, options, ctx);
        return otelContext.with(trace.setSpan(ctx ?? otelContext.active(), span), () => fn(span));
      }) as Tracer['startActiveSpan'],
    };
  }

  /** The recorded span with this id. */
  byId(spanId: string | undefined): RecordedSpan | undefined {
    return this.spans.find((s) => s.spanId === spanId);
  }

  /** The chain of span names from `span` up to its root, innermost first. */
  ancestry(span: RecordedSpan): string[] {
    const names: string[] = [];
    for (let s: RecordedSpan | undefined = span; s; s = this.byId(s.parentSpanId)) names.push(s.name);
    return names;
  }
}
