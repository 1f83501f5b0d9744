/**
 * Observability: the helpers that make any call observable through callbacks (`withCallbacks`), the call tree seen
 * from inside a hook (`currentCallFrame`), and OpenTelemetry spans with the GenAI semantic conventions.
 * (`Callback`, `fireCallbacks` and `trackUsage` are exported from the package root.)
 *
 * @module
 */
export {
  CALL_HOOKS,
  type CallFrame,
  type CallKind,
  type CallKindTypes,
  currentCallFrame,
  type WithCallbacksOptions,
  withCallbacks,
  withCallbacksSync,
} from '../settings/callbacks.ts';
export {
  createOpenTelemetryCallback,
  type OpenTelemetryOptions,
  openTelemetryCallback,
} from './open-telemetry.ts';
