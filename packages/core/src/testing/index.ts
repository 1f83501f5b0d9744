/**
 * Test doubles for dspy-ts programs (`@dspy-ts/core/testing`): scripted LMs that never touch the network.
 *
 * @module
 */
export { CapturingLM } from './capturing-lm.ts';
export { DummyLM, type DummyLMOptions } from './dummy-lm.ts';
export { type RecordedCall, ScriptedLM, type ScriptedLMOptions, type ScriptedReply } from './scripted-lm.ts';
export { StreamingScriptedLM, type StreamingScriptedLMOptions } from './streaming-lm.ts';
