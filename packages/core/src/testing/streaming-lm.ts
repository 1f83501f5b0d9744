import type { LMRequest, LMStreamPart } from '../lm/spec.ts';
import { ScriptedLM, type ScriptedLMOptions, type ScriptedReply } from './scripted-lm.ts';

/** Options of {@link StreamingScriptedLM}. */
export interface StreamingScriptedLMOptions extends ScriptedLMOptions {
  /**
   * How each choice's text is cut into `text-delta` parts: a fixed piece length (default 3) or a function returning
   * the pieces (which must join back to the text).
   */
  chunks?: number | ((text: string, choiceIndex: number) => readonly string[]);
  /** Milliseconds to wait before each part, to interleave concurrent streams. Default 0 (no waiting). */
  delayMs?: number;
}

function split(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}

/**
 * A {@link ScriptedLM} that also implements `stream()`: the scripted reply is cut into `text-delta` parts (every
 * choice, in order) followed by the `finish` part with the full response. A cache-hit LM streams only `finish`, as
 * cached replies do.
 *
 * @example
 * ```ts
 * const lm = new StreamingScriptedLM(() => '[[ ## answer ## ]]\nParis', { chunks: 2 });
 * ```
 */
export class StreamingScriptedLM extends ScriptedLM {
  private readonly chunks: NonNullable<StreamingScriptedLMOptions['chunks']>;
  private readonly delayMs: number;

  constructor(
    respond: (request: LMRequest, callIndex: number) => ScriptedReply | Promise<ScriptedReply>,
    options: StreamingScriptedLMOptions = {},
  ) {
    super(respond, options);
    this.chunks = options.chunks ?? 3;
    this.delayMs = options.delayMs ?? 0;
  }

  /** Streams the scripted reply (recorded in `calls` like a `generate` call). */
  async *stream(request: LMRequest): AsyncGenerator<LMStreamPart> {
    const response = await this.generate(request);
    if (response.cacheHit !== true) {
      for (const [choiceIndex, choice] of response.choices.entries()) {
        const pieces =
          typeof this.chunks === 'number' ? split(choice.text, this.chunks) : this.chunks(choice.text, choiceIndex);
        for (const delta of pieces) {
          if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
          request.signal?.throwIfAborted();
          yield { type: 'text-delta', choiceIndex, delta };
        }
      }
    }
    yield { type: 'finish', response };
  }
}
