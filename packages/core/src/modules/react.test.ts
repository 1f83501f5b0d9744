import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { AdapterParseError, LMError } from '../errors.ts';
import type { LMRequest } from '../lm/spec.ts';
import { DummyLM } from '../testing/dummy-lm.ts';
import { ScriptedLM } from '../testing/scripted-lm.ts';
import { ReAct } from './react.ts';
import { Tool } from './tool.ts';

const search = new Tool(({ query }: { query: string }) => `Results for ${query}: Paris is the capital of France.`, {
  name: 'search',
  description: 'Searches the wiki.',
  args: { query: { type: 'string' } },
});

const EXPECTED_INSTRUCTIONS = [
  'Given the fields `question`, produce the fields `answer`.\n',
  'You are an Agent. In each episode, you will be given the fields `question` as input. And you can see your past trajectory so far.',
  'Your goal is to use one or more of the supplied tools to collect any necessary information for producing `answer`.\n',
  'To do this, you will interleave next_thought, next_tool_name, and next_tool_args in each turn, and also when finishing the task.',
  'After each tool call, you receive a resulting observation, which gets appended to your trajectory.\n',
  'When writing next_thought, you may reason about the current situation and plan for future steps.',
  'When selecting the next_tool_name and its next_tool_args, the tool must be one of:\n',
  "(1) search, whose description is <desc>Searches the wiki.</desc>. It takes arguments {'query': {'type': 'string'}}.",
  '(2) finish, whose description is <desc>Marks the task as complete. That is, signals that all information for producing the outputs, i.e. `answer`, are now available to be extracted.</desc>. It takes arguments {}.',
  'When providing `next_tool_args`, the value inside the field must be in JSON format',
].join('\n');

function lastUserMessage(request: LMRequest | undefined): string {
  const content = request?.messages.at(-1)?.content;
  return typeof content === 'string' ? content : '';
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('ReAct', () => {
  it('builds DSPy’s react and extract signatures with the exact instructions', () => {
    const agent = new ReAct('question -> answer', { tools: [search] });
    expect(agent.react.signature.instructions).toBe(EXPECTED_INSTRUCTIONS);
    expect(agent.react.signature.toString()).toBe(
      'question, trajectory -> next_thought, next_tool_name, next_tool_args',
    );
    expect(agent.react.signature.field('next_tool_name')?.type).toEqual({
      kind: 'literal',
      values: ['search', 'finish'],
    });
    expect(agent.extract.signature.toString()).toBe('question, trajectory -> reasoning, answer');
    expect(agent.extract.signature.instructions).toBe('Given the fields `question`, produce the fields `answer`.');
    expect(agent.namedPredictors().map(([name]) => name)).toEqual(['react', 'extract.predict']);
    expect(agent.maxIters).toBe(20);
  });

  it('runs a two-step tool trajectory and extracts the answer', async () => {
    const lm = new DummyLM([
      { next_thought: 'I should search.', next_tool_name: 'search', next_tool_args: { query: 'France' } },
      { next_thought: 'I know the answer.', next_tool_name: 'finish', next_tool_args: {} },
      { reasoning: 'The search says Paris.', answer: 'Paris' },
    ]);
    const agent = new ReAct('question -> answer', { tools: [search] });
    const pred = await agent.call({ question: 'What is the capital of France?' }, { lm });

    expect(pred.answer).toBe('Paris');
    expect(pred.reasoning).toBe('The search says Paris.');
    expect(pred.trajectory).toEqual({
      thought_0: 'I should search.',
      tool_name_0: 'search',
      tool_args_0: { query: 'France' },
      observation_0: 'Results for France: Paris is the capital of France.',
      thought_1: 'I know the answer.',
      tool_name_1: 'finish',
      tool_args_1: {},
      observation_1: 'Completed.',
    });
    expect(lm.calls).toHaveLength(3);
    expect(lastUserMessage(lm.requests[0])).toBe(
      '[[ ## question ## ]]\nWhat is the capital of France?\n\n[[ ## trajectory ## ]]\n\n\n' +
        'Respond with the corresponding output fields, starting with the field `[[ ## next_thought ## ]]`, then ' +
        "`[[ ## next_tool_name ## ]]` (must be formatted as a valid Python Literal['search', 'finish']), then " +
        '`[[ ## next_tool_args ## ]]` (must be formatted as a valid Python dict[str, Any]), and then ending with the ' +
        'marker for `[[ ## completed ## ]]`.',
    );
    expect(lastUserMessage(lm.requests[2])).toContain(
      '[[ ## trajectory ## ]]\n[[ ## thought_0 ## ]]\nI should search.\n\n[[ ## tool_name_0 ## ]]\nsearch\n\n' +
        '[[ ## tool_args_0 ## ]]\n{"query": "France"}\n\n[[ ## observation_0 ## ]]\n' +
        'Results for France: Paris is the capital of France.\n\n[[ ## thought_1 ## ]]\nI know the answer.',
    );
  });

  it('turns tool failures and invalid arguments into observations', async () => {
    const failing = new Tool(
      () => {
        throw new Error('index offline');
      },
      { name: 'lookup', args: z.object({ id: z.number() }) },
    );
    const lm = new DummyLM([
      { next_thought: 't0', next_tool_name: 'lookup', next_tool_args: { id: 1 } },
      { next_thought: 't1', next_tool_name: 'search', next_tool_args: { query: 5 } },
      { next_thought: 't2', next_tool_name: 'finish', next_tool_args: {} },
      { reasoning: 'r', answer: 'unknown' },
    ]);
    const agent = new ReAct('question -> answer', { tools: [failing, search] });
    const pred = await agent.call({ question: 'q' }, { lm });
    const trajectory = pred.trajectory as Record<string, string>;
    expect(trajectory.observation_0).toMatch(/^Execution error in lookup: \nError: index offline\n {4}at /);
    expect(trajectory.observation_1).toMatch(
      /^Execution error in search: \nDspyError: Arg query is invalid: 5 is not of type 'string'\n {4}at /,
    );
    expect(trajectory.observation_2).toBe('Completed.');
  });

  it('stops after maxIters steps (overridable per call) and still extracts', async () => {
    const step = { next_thought: 'again', next_tool_name: 'search', next_tool_args: { query: 'x' } };
    const lm = new DummyLM([step, step, { reasoning: 'r', answer: 'a' }]);
    const agent = new ReAct('question -> answer', { tools: [search], maxIters: 5 });
    const pred = await agent.call({ question: 'q' }, { lm, maxIters: 2 });
    expect(Object.keys(pred.trajectory as object)).toEqual([
      'thought_0',
      'tool_name_0',
      'tool_args_0',
      'observation_0',
      'thought_1',
      'tool_name_1',
      'tool_args_1',
      'observation_1',
    ]);
    expect(pred.answer).toBe('a');
  });

  it('propagates a tool name outside the Literal as an AdapterParseError', async () => {
    const lm = new DummyLM(
      Array.from({ length: 2 }, () => ({ next_thought: 't', next_tool_name: 'delete_everything', next_tool_args: {} })),
    );
    const agent = new ReAct('question -> answer', { tools: [search] });
    await expect(agent.call({ question: 'q' }, { lm })).rejects.toBeInstanceOf(AdapterParseError);
  });

  it('drops the oldest tool call and retries when the context window overflows', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const replies = [
      '[[ ## next_thought ## ]]\nfirst\n\n[[ ## next_tool_name ## ]]\nsearch\n\n[[ ## next_tool_args ## ]]\n{"query": "a"}',
      '[[ ## next_thought ## ]]\nsecond\n\n[[ ## next_tool_name ## ]]\nsearch\n\n[[ ## next_tool_args ## ]]\n{"query": "b"}',
      '[[ ## next_thought ## ]]\ndone\n\n[[ ## next_tool_name ## ]]\nfinish\n\n[[ ## next_tool_args ## ]]\n{}',
      '[[ ## reasoning ## ]]\nr\n\n[[ ## answer ## ]]\nParis',
    ];
    let next = 0;
    const lm = new ScriptedLM((request) => {
      const user = lastUserMessage(request);
      // The prompt only fits while it carries at most one earlier tool call.
      if (user.includes('[[ ## thought_0 ## ]]') && user.includes('[[ ## thought_1 ## ]]')) {
        throw new LMError('context_window_exceeded', 'prompt too long');
      }
      return replies[next++] ?? '';
    });
    const agent = new ReAct('question -> answer', { tools: [search] });
    const pred = await agent.call({ question: 'q' }, { lm });

    expect(pred.trajectory).toEqual({
      thought_1: 'second',
      tool_name_1: 'search',
      tool_args_1: { query: 'b' },
      observation_1: 'Results for b: Paris is the capital of France.',
      thought_2: 'done',
      tool_name_2: 'finish',
      tool_args_2: {},
      observation_2: 'Completed.',
    });
    expect(lm.calls).toHaveLength(4);
    expect(lm.requests).toHaveLength(4);
    expect(warn).toHaveBeenCalledWith(
      'Trajectory exceeded the context window, truncating the oldest tool call information.',
    );
  });

  it('ends the loop when the trajectory cannot be truncated further, and gives up after three overflows', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const overflow = new ScriptedLM(() => {
      throw new LMError('context_window_exceeded', 'prompt too long');
    });
    const agent = new ReAct('question -> answer', { tools: [search] });
    const error = await agent.call({ question: 'q' }, { lm: overflow }).catch((e: unknown) => e);
    // The react step ends the loop (nothing to drop); the extract step then fails the same way and surfaces.
    expect(warn.mock.calls.some(([msg]) => String(msg).startsWith('Ending the trajectory: Agent failed'))).toBe(true);
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).toContain('cannot be truncated because it only has one tool call');
  });

  it('saves and loads its predictors in DSPy’s layout', async () => {
    const agent = new ReAct('question -> answer', { tools: [search] });
    agent.react.demos = [
      { question: 'q', trajectory: '', next_thought: 't', next_tool_name: 'finish', next_tool_args: {} },
    ];
    const state = agent.dumpState();
    expect(Object.keys(state)).toEqual(['react', 'extract.predict']);
    expect((state['extract.predict'] as { signature: { fields: unknown[] } }).signature.fields).toEqual([
      { prefix: 'Question:', description: '${question}' },
      { prefix: 'Trajectory:', description: '${trajectory}' },
      { prefix: "Reasoning: Let's think step by step in order to", description: '${reasoning}' },
      { prefix: 'Answer:', description: '${answer}' },
    ]);
    const dir = await mkdtemp(join(tmpdir(), 'dspy-ts-react-'));
    const path = join(dir, 'agent.json');
    await agent.save(path);
    const restored = await new ReAct('question -> answer', { tools: [search] }).load(path);
    expect(restored.dumpState()).toEqual(state);
    expect(JSON.parse(await readFile(path, 'utf8')).react.demos).toHaveLength(1);
  });

  describe('native tool calling', () => {
    class ToolCallingLM extends ScriptedLM {
      readonly capabilities = { tools: true };
    }

    it('sends the tools and reads the tool call when the LM supports it and it is enabled', async () => {
      const lm = new ToolCallingLM((_request, index) => {
        if (index === 0) {
          return {
            choices: [
              {
                text: 'Let me search.',
                toolCalls: [{ id: 'c1', name: 'search', args: { query: 'France' } }],
                finishReason: 'tool-calls',
              },
            ],
          };
        }
        if (index === 1) {
          return {
            choices: [{ text: '', toolCalls: [{ id: 'c2', name: 'finish', args: {} }], finishReason: 'tool-calls' }],
          };
        }
        return '[[ ## reasoning ## ]]\nFound it.\n\n[[ ## answer ## ]]\nParis';
      });
      const agent = new ReAct('question -> answer', { tools: [search], nativeToolCalling: true });
      const pred = await agent.call({ question: 'Capital of France?' }, { lm });

      expect(lm.requests[0]?.tools).toEqual([
        {
          name: 'search',
          description: 'Searches the wiki.',
          parameters: {
            type: 'object',
            properties: { query: { type: 'string' } },
            required: ['query'],
            additionalProperties: false,
          },
        },
        {
          name: 'finish',
          description: expect.stringContaining('Marks the task as complete.'),
          parameters: { type: 'object', properties: {}, additionalProperties: false },
        },
      ]);
      expect(lm.requests[0]?.toolChoice).toBe('required');
      expect(lastUserMessage(lm.requests[0])).toContain('starting with the field `[[ ## next_thought ## ]]`, and then');
      expect(lm.requests[2]?.tools).toBeUndefined();
      expect(pred.trajectory).toEqual({
        thought_0: 'Let me search.',
        tool_name_0: 'search',
        tool_args_0: { query: 'France' },
        observation_0: 'Results for France: Paris is the capital of France.',
        thought_1: null,
        tool_name_1: 'finish',
        tool_args_1: {},
        observation_1: 'Completed.',
      });
      expect(pred.answer).toBe('Paris');
    });

    it('keeps the text protocol by default', async () => {
      const lm = new ToolCallingLM((_request, index) =>
        index === 0
          ? '[[ ## next_thought ## ]]\nt\n\n[[ ## next_tool_name ## ]]\nfinish\n\n[[ ## next_tool_args ## ]]\n{}'
          : '[[ ## reasoning ## ]]\nr\n\n[[ ## answer ## ]]\na',
      );
      const pred = await new ReAct('question -> answer', { tools: [search] }).call({ question: 'q' }, { lm });
      expect(lm.requests[0]?.tools).toBeUndefined();
      expect(pred.answer).toBe('a');
    });
  });
});
