import { ScriptedLM, type ScriptedLMOptions } from './scripted-lm.ts';

/**
 * Records every request and answers with scripted replies in order — one entry per call, a string (repeated for
 * each of `n` choices) or one string per choice — and with empty text once they run out. Use it to assert the exact
 * messages and options a module sends (DSPy's `CapturingLM`).
 *
 * @example
 * ```ts
 * const lm = new CapturingLM(['[[ ## answer ## ]]\nParis']);
 * await new Predict('question -> answer').call({ question: 'Capital of France?' }, { lm });
 * lm.requests[0].messages; // the exact system and user messages
 * ```
 */
export class CapturingLM extends ScriptedLM {
  /**
   * @param replies Replies used by successive calls.
   * @param options Model id (default `capturing`), usage and defaults.
   */
  constructor(replies: readonly (string | readonly string[])[] = [], options: ScriptedLMOptions = {}) {
    super((_request, index) => replies[index] ?? '', { modelId: 'capturing', ...options });
  }
}
