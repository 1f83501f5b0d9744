import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AdapterParseError, DspyError, LMError } from '../errors.ts';
import type { LanguageModelV1, LMChoice, LMRequest, LMResponse } from '../lm/spec.ts';
import { Signature } from '../signature/signature.ts';
import { ChatAdapter } from './chat-adapter.ts';
import { JSONAdapter } from './json-adapter.ts';
import { TwoStepAdapter } from './two-step-adapter.ts';
import { XMLAdapter } from './xml-adapter.ts';

type Reply = string | LMChoice[] | Error;

/** An LM that answers from a script and records every request it receives. */
function scriptedLM(replies: Reply[], capabilities?: LanguageModelV1['capabilities']) {
  const requests: LMRequest[] = [];
  const lm: LanguageModelV1 = {
    specificationVersion: 'v1',
    modelId: 'test/scripted',
    ...(capabilities ? { capabilities } : {}),
    async generate(request: LMRequest): Promise<LMResponse> {
      requests.push(request);
      const reply = replies.shift();
      if (reply === undefined) throw new Error('script exhausted');
      if (reply instanceof Error) throw reply;
      const choices = typeof reply === 'string' ? [{ text: reply, finishReason: 'stop' as const }] : reply;
      return { choices, usage: {}, modelId: 'test/scripted' };
    },
  };
  return { lm, requests };
}

const sig = Signature.parse('question -> answer, score: int');

describe('ChatAdapter.call', () => {
  it('parses every choice', async () => {
    const { lm, requests } = scriptedLM([
      [
        { text: '[[ ## answer ## ]]\na\n[[ ## score ## ]]\n1', finishReason: 'stop' },
        { text: '[[ ## answer ## ]]\nb\n[[ ## score ## ]]\n2', finishReason: 'stop' },
      ],
    ]);
    const result = await new ChatAdapter().call(lm, { n: 2, tools: [{ name: 't', parameters: {} }] }, sig, [], {
      question: 'q',
    });
    expect(result.outputs).toEqual([
      { answer: 'a', score: 1 },
      { answer: 'b', score: 2 },
    ]);
    expect(result.adapter.name).toBe('ChatAdapter');
    expect(requests[0]?.n).toBe(2);
    expect(requests[0]?.tools).toBeUndefined();
    expect(requests[0]?.messages).toEqual(result.messages);
  });

  it('falls back to JSONAdapter with a second LM call when the reply cannot be parsed', async () => {
    const { lm, requests } = scriptedLM(['I think the answer is Paris.', '{"answer": "Paris", "score": 5}']);
    const result = await new ChatAdapter().call(lm, {}, sig, [], { question: 'q' });
    expect(result.outputs).toEqual([{ answer: 'Paris', score: 5 }]);
    expect(result.adapter.name).toBe('JSONAdapter');
    expect(requests).toHaveLength(2);
    expect(String(requests[1]?.messages.at(-1)?.content)).toContain('Respond with a JSON object');
  });

  it('lets LM errors through without a retry', async () => {
    const failure = new LMError('rate_limit', 'slow down');
    const { lm, requests } = scriptedLM([failure, '{"answer": "x", "score": 1}']);
    await expect(new ChatAdapter().call(lm, {}, sig, [], { question: 'q' })).rejects.toBe(failure);
    expect(requests).toHaveLength(1);
  });

  it('raises the parse error when the fallback is disabled', async () => {
    const { lm, requests } = scriptedLM(['no markers here', '{"answer": "x", "score": 1}']);
    const adapter = new ChatAdapter({ useJsonAdapterFallback: false });
    await expect(adapter.call(lm, {}, sig, [], { question: 'q' })).rejects.toSatisfy(AdapterParseError.isInstance);
    expect(requests).toHaveLength(1);
  });

  it('fails on empty replies (and the JSON retry fails the same way)', async () => {
    const { lm, requests } = scriptedLM(['', '']);
    await expect(new ChatAdapter().call(lm, {}, sig, [], { question: 'q' })).rejects.toThrow(
      /^The LM returned an empty or null response\.\n\nAdapter JSONAdapter failed to parse the LM response\. /,
    );
    expect(requests).toHaveLength(2);
  });

  it('XMLAdapter falls back to JSON too', async () => {
    const { lm } = scriptedLM(['<answer>a</answer>', '{"answer": "a", "score": 2}']);
    const result = await new XMLAdapter().call(lm, {}, sig, [], { question: 'q' });
    expect(result.outputs).toEqual([{ answer: 'a', score: 2 }]);
    expect(result.adapter.name).toBe('JSONAdapter');
  });

  it('fills a ToolCalls output from native tool calls', async () => {
    const ToolCallsSig = Signature.parse('question -> answer, calls: ToolCalls', undefined, {
      types: { ToolCalls: z.object({ tool_calls: z.array(z.any()) }) },
    });
    const { lm, requests } = scriptedLM([
      [
        {
          text: '[[ ## answer ## ]]\nwait',
          finishReason: 'tool-calls',
          toolCalls: [{ id: 'c1', name: 'search', args: { q: 'x' } }],
        },
      ],
    ]);
    const adapter = new ChatAdapter({ useNativeFunctionCalling: true });
    const result = await adapter.call(lm, { tools: [{ name: 'search', parameters: {} }] }, ToolCallsSig, [], {
      question: 'q',
    });
    expect(result.outputs[0]).toEqual({
      answer: 'wait',
      calls: { tool_calls: [{ name: 'search', args: { q: 'x' }, id: 'c1' }] },
    });
    expect(requests[0]?.tools).toHaveLength(1);
    expect(String(requests[0]?.messages[0]?.content)).not.toContain('[[ ## calls ## ]]');
  });
});

describe('JSONAdapter.call response formats', () => {
  const reply = '{"answer": "a", "score": 1}';

  it('sends a strict schema to LMs with structured outputs', async () => {
    const { lm, requests } = scriptedLM([reply], { structuredOutputs: true, jsonMode: true });
    await new JSONAdapter().call(lm, {}, sig, [], { question: 'q' });
    expect(requests[0]?.responseFormat).toEqual({
      type: 'json_schema',
      name: 'DSPyProgramOutputs',
      schema: {
        additionalProperties: false,
        properties: { answer: { type: 'string', title: 'Answer' }, score: { type: 'integer', title: 'Score' } },
        required: ['answer', 'score'],
        title: 'DSPyProgramOutputs',
        type: 'object',
      },
    });
  });

  it('uses JSON mode for open-ended dict outputs, JSON-mode-only LMs, and after a structured failure', async () => {
    const dictSig = Signature.parse('q -> data: dict[str, int]');
    const a = scriptedLM(['{"data": {"x": 1}}'], { structuredOutputs: true });
    await new JSONAdapter().call(a.lm, {}, dictSig, [], { q: 'q' });
    expect(a.requests[0]?.responseFormat).toEqual({ type: 'json' });

    const b = scriptedLM([reply], { jsonMode: true });
    await new JSONAdapter().call(b.lm, {}, sig, [], { question: 'q' });
    expect(b.requests[0]?.responseFormat).toEqual({ type: 'json' });

    const c = scriptedLM(['not json', reply], { structuredOutputs: true });
    const result = await new JSONAdapter().call(c.lm, {}, sig, [], { question: 'q' });
    expect(result.outputs).toEqual([{ answer: 'a', score: 1 }]);
    expect(c.requests.map((r) => r.responseFormat?.type)).toEqual(['json_schema', 'json']);
  });

  it('sends no response format to plain LMs', async () => {
    const { lm, requests } = scriptedLM([reply]);
    await new JSONAdapter().call(lm, {}, sig, [], { question: 'q' });
    expect(requests[0]?.responseFormat).toBeUndefined();
  });
});

describe('TwoStepAdapter', () => {
  it('prompts naturally, then extracts with a ChatAdapter call on the extraction LM', async () => {
    const main = scriptedLM(['The answer is Paris, with score 9.']);
    const extractor = scriptedLM(['[[ ## answer ## ]]\nParis\n[[ ## score ## ]]\n9']);
    const adapter = new TwoStepAdapter(extractor.lm);
    const qa = Signature.parse('question -> answer, score: int', 'Answer well.');
    const result = await adapter.call(main.lm, {}, qa, [{ question: 'dq', answer: 'da', score: 1 }], { question: 'q' });
    expect(result.outputs).toEqual([{ answer: 'Paris', score: 9 }]);
    expect(main.requests[0]?.messages).toEqual([
      {
        role: 'system',
        content:
          'You are a helpful assistant that can solve tasks based on user input.\nAs input, you will be provided with:\n1. `question` (str):\nYour outputs must contain:\n1. `answer` (str): \n2. `score` (int):\nYou should lay out your outputs in detail so that your answer can be understood by another agent\nSpecific instructions: Answer well.',
      },
      { role: 'user', content: 'question: dq' },
      { role: 'assistant', content: 'answer: da\n\nscore: 1' },
      { role: 'user', content: 'question: q' },
    ]);
    const extraction = extractor.requests[0]?.messages ?? [];
    expect(extraction[0]?.content).toContain(
      'Your input fields are:\n1. `text` (str):\nYour output fields are:\n1. `answer` (str): \n2. `score` (int):',
    );
    expect(extraction[0]?.content).toContain(
      'objective is: \n        The input is a text that should contain all the necessary information to produce the fields `answer`, `score`.             Your job is to extract the fields from the text verbatim. Extract precisely the appropriate value (content) for each field.',
    );
    expect(extraction[1]?.content).toContain('[[ ## text ## ]]\nThe answer is Paris, with score 9.');
  });

  it('wraps extraction failures and refuses synchronous parsing', async () => {
    const main = scriptedLM(['free text']);
    const extractor = scriptedLM(['nothing useful', 'still nothing']);
    const adapter = new TwoStepAdapter(extractor.lm);
    await expect(adapter.call(main.lm, {}, sig, [], { question: 'q' })).rejects.toThrow(
      /^Failed to parse response from the original completion: free text\n\nAdapter TwoStepAdapter failed/,
    );
    expect(() => adapter.parse(sig, 'x')).toThrow(DspyError);
    expect(() => new TwoStepAdapter({} as LanguageModelV1)).toThrow('LanguageModelV1');
  });
});
