/**
 * The code samples of the guides are the files in `snippets/`. This suite type-checks all of them and runs the
 * runnable ones against scripted LMs, so a guide cannot show code that no longer compiles or works.
 *
 * Snippets that call a hosted model get it from `lm()` of `@dspy-ts/lm-adapters`; here `lm()` is replaced by a
 * factory handing out `ScriptedLM`s, so the snippet file runs verbatim, offline.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { configure, type LanguageModelV1, type LMRequest } from '@dspy-ts/core';
import { ScriptedLM } from '@dspy-ts/core/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { docsDir, repoDir } from './paths.ts';

const lmFactory = vi.hoisted(() => ({
  create: (modelId: string): unknown => {
    throw new Error(`No scripted LM for ${modelId}`);
  },
  created: [] as string[],
}));

vi.mock('@dspy-ts/lm-adapters', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@dspy-ts/lm-adapters')>()),
  lm: (modelId: string) => {
    lmFactory.created.push(modelId);
    return lmFactory.create(modelId);
  },
}));

/** A ChatAdapter reply with the given output fields. */
function chatReply(fields: Record<string, string>): string {
  const sections = Object.entries(fields).map(([name, value]) => `[[ ## ${name} ## ]]\n${value}`);
  return [...sections, '[[ ## completed ## ]]'].join('\n\n');
}

function lastUserText(request: LMRequest): string {
  return String(request.messages.at(-1)?.content ?? '');
}

/** Imports `snippets/<name>.ts` fresh and returns what it printed with console.log, one entry per call. */
async function runSnippet(name: string): Promise<string[]> {
  const printed: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    printed.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
  });
  try {
    vi.resetModules();
    await import(`../snippets/${name}.ts`);
  } finally {
    log.mockRestore();
  }
  return printed;
}

function useLMs(make: (modelId: string) => LanguageModelV1): void {
  lmFactory.create = make;
}

beforeEach(() => {
  lmFactory.created = [];
});

afterEach(() => {
  configure({ lm: undefined, rm: undefined, adapter: undefined, trackUsage: undefined });
});

describe('snippets type-check', () => {
  it('tsc -p tsconfig.snippets.json --noEmit passes', () => {
    const tsc = join(repoDir, 'node_modules', '.bin', 'tsc');
    const result = spawnSync(tsc, ['-p', 'tsconfig.snippets.json', '--noEmit'], { cwd: docsDir, encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('runnable snippets', () => {
  it('first-program: a ChainOfThought with a typed float output', async () => {
    const scripted = new ScriptedLM(() =>
      chatReply({ reasoning: 'From 9:40 to 11:15 is 1 hour 35 minutes, 95/60 hours.', hours: '1.5833' }),
    );
    useLMs(() => scripted);
    const printed = await runSnippet('first-program');

    expect(lmFactory.created).toEqual(['openai/gpt-4o-mini']);
    expect(printed).toEqual(['From 9:40 to 11:15 is 1 hour 35 minutes, 95/60 hours.', '1.58']);
    const system = String(scripted.lastRequest?.messages[0]?.content);
    expect(system).toContain('1. `reasoning` (str)');
    expect(system).toContain('2. `hours` (float)');
    expect(system).toContain('Compute how long the trip takes, in hours.');
  });

  it('signatures: parsing, zod schemas and edits', async () => {
    expect(await runSnippet('signatures')).toEqual([
      'context, question -> answer, confidence',
      'Given the fields `context`, `question`, produce the fields `answer`, `confidence`.',
      'queue, urgent, due',
      '1 (bad) to 5 (great)',
      'context, question -> answer, confidence, sources',
    ]);
  });

  it('rag-module: BM25 retrieval feeds the answer step', async () => {
    const scripted = new ScriptedLM(() => chatReply({ reasoning: 'The first passage says 1889.', answer: '1889' }));
    useLMs(() => scripted);
    const printed = await runSnippet('rag-module');

    expect(printed).toEqual(['1889', JSON.stringify(['respond.predict'])]);
    const user = lastUserText(scripted.requests[0] as LMRequest);
    expect(user).toContain('The Eiffel Tower was completed in 1889');
    expect(user).not.toContain('Statue of Liberty');
  });

  it('react-agent: the agent calls the tool, then finishes and extracts the total', async () => {
    const steps: Record<string, string>[] = [
      { next_thought: 'Price apples first.', next_tool_name: 'lookup_price', next_tool_args: '{"item": "apple"}' },
      { next_thought: 'Now pears.', next_tool_name: 'lookup_price', next_tool_args: '{"item": "pear"}' },
      { next_thought: '4 × 0.5 + 2 × 0.75 = 3.5.', next_tool_name: 'finish', next_tool_args: '{}' },
      { reasoning: '4 apples at 0.5 and 2 pears at 0.75.', total: '3.5' },
    ];
    const scripted = new ScriptedLM((_request, i) => chatReply(steps[i] ?? {}));
    useLMs(() => scripted);
    const printed = await runSnippet('react-agent');

    expect(printed[0]).toBe('3.5');
    expect(JSON.parse(printed[1] as string)).toEqual([
      ...['thought_0', 'tool_name_0', 'tool_args_0', 'observation_0'],
      ...['thought_1', 'tool_name_1', 'tool_args_1', 'observation_1'],
      ...['thought_2', 'tool_name_2', 'tool_args_2', 'observation_2'],
    ]);
    // The tool really ran: its results are in the trajectory the extraction step saw.
    const extract = lastUserText(scripted.requests[3] as LMRequest);
    expect(extract).toContain('0.5');
    expect(extract).toContain('0.75');
  });

  it('inspect-prompt: the ChatAdapter messages shown in the adapters guide', async () => {
    const printed = await runSnippet('inspect-prompt');
    const { messages } = await import('../snippets/inspect-prompt.ts');
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(String(messages[0]?.content)).toMatch(/^Your input fields are:\n1\. `context` \(list\[str\]\): \n/);
    expect(String(messages[3]?.content)).toContain('When was the Eiffel Tower completed?');
    expect(printed).toHaveLength(4);
  });

  it('evaluate: exact match over a three-question devset', async () => {
    const capitals: Record<string, string> = { France: 'Paris', Japan: 'Tokyo', Australia: 'Sydney' };
    useLMs(
      () =>
        new ScriptedLM((request) => {
          const country = /capital of (\w+)/.exec(lastUserText(request))?.[1] ?? '';
          return chatReply({ answer: capitals[country] ?? '?' });
        }),
    );
    const printed = await runSnippet('evaluate');
    expect(printed).toEqual([
      '66.67',
      'What is the capital of France? → Paris true',
      'What is the capital of Japan? → Tokyo true',
      'What is the capital of Australia? → Sydney false',
    ]);
  });

  it('optimize: BootstrapFewShot collects demos the metric accepts', async () => {
    const answers: Record<string, string> = { '7 + 5': '12', '9 × 3': '27', '40 / 8': '5' };
    useLMs(
      () =>
        new ScriptedLM((request) => {
          const sum = /What is (.+)\?/.exec(lastUserText(request))?.[1] ?? '';
          return chatReply({ reasoning: `Compute ${sum}.`, answer: answers[sum] ?? '?' });
        }),
    );
    const printed = await runSnippet('optimize');
    expect(printed[0]).toBe('3');
    expect(JSON.parse(printed[1] as string)).toMatchObject({ lmCalls: expect.any(Number) });
  });

  it('save-load: loads the DSPy-saved program and saves it again', async () => {
    expect(await runSnippet('save-load')).toEqual([
      'predict',
      '2',
      'Answer questions about films and people with a short factual answer.\n\nBe concise.',
    ]);
  });

  it('testing: the test doubles example passes its own assertions', async () => {
    expect(await runSnippet('testing')).toEqual(['ok']);
  });

  it('kernels: matmul and RMSNorm on the reference backend', async () => {
    expect(await runSnippet('kernels')).toEqual(['reference 2048 2048 2048']);
  });

  const storiesDir = process.env.STORIES260K_DIR ?? join(repoDir, '..', 'shared', 'models', 'stories260K');
  it.skipIf(!existsSync(join(storiesDir, 'stories260K.bin')))(
    'local-model: generates with stories260K and serves it as an LM',
    async () => {
      const before = process.env.STORIES260K_DIR;
      process.env.STORIES260K_DIR = storiesDir;
      try {
        const printed = await runSnippet('local-model');
        expect(printed[0]).toMatch(/ length$/);
        expect(printed[1]).toMatch(/^local\/stories260K \{"inputTokens":\d+,"outputTokens":40\}$/);
        expect(printed[2]).toBe('prompt -> story');
      } finally {
        if (before === undefined) delete process.env.STORIES260K_DIR;
        else process.env.STORIES260K_DIR = before;
      }
    },
  );
});
