import type { LMChoice, LMResponse, LMStreamPart, ToolCall } from '../lm/spec.ts';

/**
 * Rebuilds the full {@link LMResponse} of a streamed call from its parts (DSPy's `stream_chunk_builder`). The
 * `finish` part's response is authoritative; choices it lacks are filled from the accumulated deltas, and a stream
 * that ended without `finish` yields the accumulated text with finish reason `unknown` and unknown usage.
 */
export class StreamResponseBuilder {
  private readonly texts: string[] = [];
  private readonly reasoning: (string | undefined)[] = [];
  private readonly toolCalls: (ToolCall[] | undefined)[] = [];
  private finished: LMResponse | undefined;

  constructor(private readonly modelId: string) {}

  /** Records one part. */
  add(part: LMStreamPart): void {
    switch (part.type) {
      case 'text-delta':
        this.texts[part.choiceIndex] = (this.texts[part.choiceIndex] ?? '') + part.delta;
        break;
      case 'reasoning-delta':
        this.reasoning[part.choiceIndex] = (this.reasoning[part.choiceIndex] ?? '') + part.delta;
        break;
      case 'tool-call':
        this.toolCalls[part.choiceIndex] = [...(this.toolCalls[part.choiceIndex] ?? []), part.toolCall];
        break;
      case 'finish':
        this.finished = part.response;
        break;
    }
  }

  /** The response of the whole stream. */
  build(): LMResponse {
    const count = Math.max(this.texts.length, this.reasoning.length, this.toolCalls.length);
    const accumulated: LMChoice[] = Array.from({ length: count }, (_, i) => {
      const choice: LMChoice = { text: this.texts[i] ?? '', finishReason: 'unknown' };
      if (this.reasoning[i] !== undefined) choice.reasoning = this.reasoning[i];
      if (this.toolCalls[i] !== undefined) choice.toolCalls = this.toolCalls[i];
      return choice;
    });
    if (!this.finished) return { choices: accumulated, usage: {}, modelId: this.modelId };
    const choices = [...this.finished.choices];
    for (let i = choices.length; i < accumulated.length; i++) choices.push(accumulated[i] as LMChoice);
    return { ...this.finished, choices };
  }
}
