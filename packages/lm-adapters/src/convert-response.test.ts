import { afterEach, describe, expect, it, vi } from 'vitest';
import { choiceFromContent, reportWarnings, toFinishReason, toUsage } from './convert-response.ts';

describe('toFinishReason and toUsage', () => {
  it('maps unified finish reasons, interrupted to other and a missing one to unknown', () => {
    expect(toFinishReason({ unified: 'length', raw: 'max_tokens' })).toBe('length');
    expect(toFinishReason({ unified: 'interrupted', raw: undefined })).toBe('other');
    expect(toFinishReason(undefined)).toBe('unknown');
  });

  it('keeps known token counts and leaves unknown ones out', () => {
    expect(
      toUsage({
        inputTokens: { total: 9, noCache: 9, cacheRead: undefined, cacheWrite: undefined },
        outputTokens: { total: undefined, text: undefined, reasoning: 0 },
      }),
    ).toEqual({ inputTokens: 9, reasoningTokens: 0 });
    expect(toUsage(undefined)).toEqual({});
  });
});

describe('choiceFromContent', () => {
  it('joins text and reasoning parts in order and ignores other content', () => {
    const choice = choiceFromContent(
      [
        { type: 'reasoning', text: 'a' },
        { type: 'text', text: 'Hel' },
        { type: 'source', sourceType: 'url', id: 's', url: 'https://example.com' },
        { type: 'reasoning', text: 'b' },
        { type: 'text', text: 'lo' },
      ],
      { unified: 'stop', raw: 'stop' },
      { json: false, structuredOutputText: '{"ignored": true}' },
    );
    expect(choice).toEqual({ text: 'Hello', reasoning: 'ab', finishReason: 'stop' });
  });

  it('takes structured output text for JSON unless the model stopped without text for another reason', () => {
    const structured = { json: true, structuredOutputText: '{}' };
    expect(choiceFromContent([], { unified: 'stop', raw: undefined }, structured).text).toBe('{}');
    expect(choiceFromContent([], { unified: 'length', raw: undefined }, structured).text).toBe('');
    expect(
      choiceFromContent([{ type: 'text', text: 'partial' }], { unified: 'length', raw: undefined }, structured).text,
    ).toBe('{}');
    expect(
      choiceFromContent(
        [{ type: 'text', text: 'x' }],
        { unified: 'stop', raw: undefined },
        {
          json: true,
          structuredOutputText: undefined,
        },
      ).text,
    ).toBe('x');
  });
});

describe('reportWarnings', () => {
  const global = globalThis as { AI_SDK_LOG_WARNINGS?: unknown };
  const previous = global.AI_SDK_LOG_WARNINGS;
  afterEach(() => {
    global.AI_SDK_LOG_WARNINGS = previous;
    vi.restoreAllMocks();
  });

  it('emits process warnings by default and nothing when the AI SDK logger is switched off', () => {
    const emit = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    delete global.AI_SDK_LOG_WARNINGS;
    reportWarnings([{ type: 'unsupported', feature: 'seed', details: 'not honoured' }], 'acme.chat', 'm1');
    expect(emit).toHaveBeenCalledWith(
      'AI SDK Warning (acme.chat / m1): The feature "seed" is not supported. not honoured',
      'Warning',
    );
    global.AI_SDK_LOG_WARNINGS = false;
    reportWarnings([{ type: 'other', message: 'x' }], 'acme.chat', 'm1');
    reportWarnings([], 'acme.chat', 'm1');
    expect(emit).toHaveBeenCalledTimes(1);
  });
});
