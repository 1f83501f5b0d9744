import { DspyError } from '../errors.ts';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Earlier turns of a conversation, for a signature input field typed `History` (DSPy's `dspy.History`). Each
 * message maps field names to values, e.g. `{ question: 'Hi', answer: 'Hello!' }`; adapters render them as
 * prior user/assistant turns. Instances and their messages are frozen.
 *
 * @example
 * const history = new History({ messages: [{ question: 'What is 2+2?', answer: '4' }] });
 */
export class History {
  /** The messages, oldest first. */
  readonly messages: readonly Readonly<Record<string, unknown>>[];

  /**
   * @throws {DspyError} (`invalid_argument`) when `messages` is not a list of objects or unknown keys are given.
   */
  constructor(init: { messages: Record<string, unknown>[] }) {
    if (!isRecord(init)) {
      throw new DspyError('invalid_argument', 'History expects `{ messages: [...] }`, found a non-object.');
    }
    const extra = Object.keys(init).filter((k) => k !== 'messages');
    if (extra.length > 0) {
      throw new DspyError(
        'invalid_argument',
        `History accepts only \`messages\`, found extra keys: ${extra.join(', ')}.`,
      );
    }
    if (!Array.isArray(init.messages)) {
      throw new DspyError(
        'invalid_argument',
        `History \`messages\` must be a list of objects, found ${typeof init.messages}.`,
      );
    }
    this.messages = Object.freeze(
      init.messages.map((message, i) => {
        if (!isRecord(message)) {
          throw new DspyError(
            'invalid_argument',
            `History \`messages[${i}]\` must be an object mapping field names to values.`,
          );
        }
        return Object.freeze({ ...message });
      }),
    );
    Object.freeze(this);
  }

  /** `{ messages }`, as pydantic's `model_dump()` would give. */
  toJSON(): { messages: Record<string, unknown>[] } {
    return { messages: this.messages.map((m) => ({ ...m })) };
  }
}
