/**
 * Streaming: run a program and receive its output fields as the LM writes them (DSPy's `dspy.streamify`).
 *
 * @module
 */
export { EventQueue } from './event-queue.ts';
export {
  createFieldStreamParser,
  type FieldChunk,
  type FieldStreamParser,
  type StreamFormat,
} from './field-stream-parser.ts';
export { StreamResponseBuilder } from './response-builder.ts';
export {
  activeStreamObserver,
  type LMCallStream,
  type LMStreamObserver,
  runWithStreamObserver,
} from './stream-context.ts';
export {
  DEFAULT_STATUS_MESSAGES,
  StatusMessage,
  type StatusMessageProvider,
  type StreamableProgram,
  type StreamEvent,
  type StreamifyOptions,
  StreamListener,
  type StreamListenerOptions,
  StreamResponse,
  streamify,
} from './streamify.ts';
