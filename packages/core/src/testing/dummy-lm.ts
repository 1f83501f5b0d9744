import { formatFieldValue, pythonJsonDumps } from '../adapters/format-value.ts';
import type { LMMessage, LMRequest } from '../lm/spec.ts';
import { ScriptedLM } from './scripted-lm.ts';

/** Options of {@link DummyLM}. */
export interface DummyLMOptions {
  /**
   * Answer with the assistant demo whose preceding user message contains the current input block, ignoring the
   * scripted answers (DSPy's `follow_examples=True`). No matching demo → empty text.
   */
  followExamples?: boolean;
  /** Add `reasoning: 'Some reasoning'` to every choice (DSPy's `reasoning=True`). */
  reasoning?: boolean;
  /** Which reply format to mimic: `chat` (`[[ ## field ## ]]` sections, the default) or `json` (indent-2 JSON). */
  adapter?: 'chat' | 'json';
}

const FIELD_HEADER_AT_START = /^\[\[ ## (\w+) ## \]\]/;

function messageText(message: LMMessage): string {
  if (typeof message.content === 'string') return message.content;
  return message.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

/** Renders one answer object the way the chosen adapter writes an assistant turn. */
function formatAnswer(values: Record<string, unknown>, format: 'chat' | 'json'): string {
  if (format === 'json') return pythonJsonDumps(values, { indent: 2 });
  return Object.entries(values)
    .map(([name, value]) => `[[ ## ${name} ## ]]\n${formatFieldValue(value, undefined)}`)
    .join('\n\n');
}

/**
 * The LM double DSPy's own tests use (`dspy.utils.DummyLM`): model id `dummy`, zero usage, finish reason `stop`.
 *
 * - **List mode** `new DummyLM([{ answer: 'red' }, { answer: 'blue' }])`: each call, and each of `n` choices,
 *   consumes the next object, rendered as `[[ ## answer ## ]]\nred` sections joined by blank lines (values formatted
 *   like an un-annotated output field). Once exhausted it answers `{ answer: 'No more responses' }`.
 * - **Dict mode** `new DummyLM({ 'What is 1+1?': { answer: '2' } })`: the first key that occurs in the last message
 *   wins; none → the raw, unparseable text `No more responses`.
 * - **followExamples**: see {@link DummyLMOptions.followExamples}.
 *
 * Every call is recorded in `calls`; `getConvo(i)` returns the messages and outputs of call `i`.
 */
export class DummyLM extends ScriptedLM {
  /**
   * @param answers A list of answers consumed in order, or a map from a substring of the last message to the answer.
   * @param options Follow examples, reasoning text, reply format.
   */
  constructor(
    answers: readonly Record<string, unknown>[] | Record<string, Record<string, unknown>>,
    options: DummyLMOptions = {},
  ) {
    const queue = Array.isArray(answers) ? [...(answers as readonly Record<string, unknown>[])] : undefined;
    const byKey = Array.isArray(answers) ? undefined : (answers as Record<string, Record<string, unknown>>);
    const format = options.adapter ?? 'chat';
    super(
      (request) => {
        const n = request.n ?? 1;
        const texts: string[] = [];
        for (let i = 0; i < n; i++) {
          if (options.followExamples) {
            texts.push(DummyLM.useExample(request.messages));
          } else if (byKey) {
            const last = request.messages.at(-1);
            const content = last ? messageText(last) : '';
            const key = Object.keys(byKey).find((k) => content.includes(k));
            texts.push(
              key === undefined ? 'No more responses' : formatAnswer(byKey[key] as Record<string, unknown>, format),
            );
          } else {
            texts.push(formatAnswer(queue?.shift() ?? { answer: 'No more responses' }, format));
          }
        }
        return {
          choices: texts.map((text) =>
            options.reasoning
              ? { text, reasoning: 'Some reasoning', finishReason: 'stop' as const }
              : { text, finishReason: 'stop' as const },
          ),
        };
      },
      { modelId: 'dummy', usage: { inputTokens: 0, outputTokens: 0 } },
    );
  }

  /** The messages and the choice texts of call `index` (DSPy's `get_convo`). */
  getConvo(index: number): [LMRequest['messages'], string[]] {
    const call = this.calls.at(index);
    if (!call) throw new RangeError(`DummyLM has no call ${index}; it was called ${this.calls.length} times.`);
    return [call.request.messages, call.response.choices.map((choice) => choice.text)];
  }

  private static useExample(messages: readonly LMMessage[]): string {
    // Output headers appear only in assistant turns, so they start fewer messages than the input headers do.
    const counts = new Map<string, number>();
    for (const message of messages) {
      const match = FIELD_HEADER_AT_START.exec(messageText(message));
      if (match) counts.set(match[0], (counts.get(match[0]) ?? 0) + 1);
    }
    if (counts.size === 0) return '';
    const max = Math.max(...counts.values());
    const outputHeaders = [...counts].filter(([, count]) => count !== max).map(([header]) => header);
    const last = messages.at(-1);
    const finalInput = last ? (messageText(last).split('\n\n')[0] ?? '') : '';
    for (let i = messages.length - 1; i >= 1; i--) {
      const input = messageText(messages[i - 1] as LMMessage);
      const output = messageText(messages[i] as LMMessage);
      if (outputHeaders.some((header) => output.includes(header)) && input.includes(finalInput)) return output;
    }
    return '';
  }
}
