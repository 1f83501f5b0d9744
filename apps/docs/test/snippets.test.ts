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

/** The output field names of a ChatAdapter request, read from its system message. */
function outputFields(request: LMRequest): string[] {
  const system = String(request.messages[0]?.content ?? '');
  const section = system.split('Your output fields are:')[1]?.split('All interactions')[0] ?? '';
  return [...section.matchAll(/^\d+\. `(\w+)`/gm)].map((m) => m[1] as string);
}

/** A scripted LM answering any ChatAdapter request: `answers` fills the fields it knows, the rest get filler text. */
function anyFieldLM(answers: (request: LMRequest) => Record<string, string>, modelId?: string): ScriptedLM {
  return new ScriptedLM(
    (request) => {
      const known = answers(request);
      return chatReply(Object.fromEntries(outputFields(request).map((name) => [name, known[name] ?? `Some ${name}.`])));
    },
    modelId === undefined ? {} : { modelId },
  );
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

  it('optimize-mipro: MIPROv2 estimates, proposes and searches; the TPE sampler finds the best pair', async () => {
    const sum = (request: LMRequest) => {
      const [a, b] = (/What is (\d+) \+ (\d+)\?/.exec(lastUserText(request)) ?? []).slice(1).map(Number);
      return String((a ?? 0) + (b ?? 0));
    };
    const task = anyFieldLM((request) => ({ reasoning: 'Add the numbers.', answer: sum(request) }), 'task');
    const prompt = anyFieldLM(() => ({ proposed_instruction: 'Add the two numbers and give only the sum.' }), 'prompt');
    useLMs((modelId) => (modelId === 'openai/gpt-4o' ? prompt : task));
    const printed = await runSnippet('optimize-mipro');

    expect(lmFactory.created).toEqual(['openai/gpt-4o-mini', 'openai/gpt-4o']);
    // auto 'light' on 4 train / 16 val examples: 10 trials (DSPy's formula), each on the whole valset (≤ 50).
    expect(printed).toContain('evaluate the baseline on 16 example(s) 16 16');
    expect(printed).toContain('10 trial(s) on 16 example(s) 160 160');
    expect(printed).toContain('propose instructions (prompt model) 6 6');
    const [score, counts, best] = printed.slice(-3);
    expect(Number(score)).toBe(100);
    expect(counts).toBe('3 6');
    expect(JSON.parse(best as string)).toEqual({ instruction: 2, demos: 4 });
    expect(prompt.calls.length).toBeGreaterThan(0);
  });

  it('optimize-simba: SIMBA estimate formula and a two-step compile', async () => {
    const capitals: Record<string, string> = {
      France: 'Paris',
      Japan: 'Tokyo',
      Australia: 'Canberra',
      Canada: 'Ottawa',
      Brazil: 'Brasília',
      Kenya: 'Nairobi',
    };
    const country = (request: LMRequest) => /capital of (\w+)/.exec(lastUserText(request))?.[1] ?? '';
    useLMs(() => anyFieldLM((request) => ({ answer: capitals[country(request)] ?? '?' })));
    const printed = await runSnippet('optimize-simba');
    expect(printed[0]).toBe('64');
    expect(printed[1]).toBe('1 2');
  });

  it('optimize-gepa: the auto budget, a reflective compile and the too-small-budget error', async () => {
    const task = anyFieldLM((request) => {
      const system = String(request.messages[0]?.content);
      const review = lastUserText(request);
      // Right only once the instruction mentions neutral reviews.
      const sentiment = /neutral/i.test(system)
        ? /love|best/i.test(review)
          ? 'positive'
          : /died|nobody/i.test(review)
            ? 'negative'
            : 'neutral'
        : 'negative';
      return { reasoning: 'Read the tone.', sentiment };
    }, 'task');
    const reflection = new ScriptedLM(
      () => '```\nClassify the review as positive, negative or neutral (plain facts are neutral).\n```',
      { modelId: 'reflection' },
    );
    useLMs((modelId) => (modelId === 'openai/gpt-4o' ? reflection : task));
    const printed = await runSnippet('optimize-gepa');
    expect(printed[0]).toBe('388');
    expect(printed[1]).toBe('Classify the review as positive, negative or neutral (plain facts are neutral).');
    expect(Number(printed[2])).toBeGreaterThanOrEqual(20);
    expect(printed[3]).toMatch(/^GEPA's budget of 6 metric calls is too small to make a single proposal\. .*needs 8/);
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

  it('kernels-resident: the block-sparse gradient over arrays resident in the wasm memory', async () => {
    expect(await runSnippet('kernels-resident')).toEqual(['true false 8192']);
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
  /** Runs a snippet that reads stories260K from `STORIES260K_DIR`. */
  async function runWithStories(name: string): Promise<string[]> {
    const before = process.env.STORIES260K_DIR;
    process.env.STORIES260K_DIR = storiesDir;
    try {
      return await runSnippet(name);
    } finally {
      if (before === undefined) delete process.env.STORIES260K_DIR;
      else process.env.STORIES260K_DIR = before;
    }
  }

  it.skipIf(!existsSync(join(storiesDir, 'stories260K.bin')))(
    'fine-tune: SMT, DoRA, abort/resume and export on stories260K in a few steps',
    async () => {
      const printed = await runWithStories('fine-tune');
      expect(printed.slice(0, 3)).toEqual([
        expect.stringMatching(/^train 10 \d+\.\d{3}$/),
        expect.stringMatching(/^train 20 /),
        expect.stringMatching(/^train 30 /),
      ]);
      const first = Number(printed[0]?.split(' ')[2]);
      const last = Number(printed[2]?.split(' ')[2]);
      expect(last).toBeLessThan(first);
      // 10 % of the 640 8×8 blocks of Q, K and V in 5 layers.
      expect(printed[3]).toMatch(/^64 \[\d+,\d+,\d+,\d+,\d+\]$/);
      expect(printed[4]).toMatch(/^4096 \d+$/);
      expect(printed[5]).toBe('10');
      expect(printed[6]).toBe('Fine-tuning was aborted before step 4 of 6');
      expect(printed[7]).toBe('6 6');
      expect(printed[8]).toMatch(/^Sue/);
    },
  );

  it.skipIf(!existsSync(join(storiesDir, 'stories260K.bin')))(
    'optimize-finetune: BootstrapFinetune trains stories260K on teacher traces; BetterTogether estimates',
    async () => {
      const names: Record<string, string> = { 'Tim gave the ball to Sue.': 'Sue', 'The cat ran to Ben.': 'Ben' };
      // The teacher answers two of the three stories right: two records.
      const teacher = anyFieldLM((request) => {
        const story = /\[\[ ## story ## \]\]\n(.*)/.exec(lastUserText(request))?.[1] ?? '';
        return { answer: names[story] ?? 'Nobody' };
      });
      useLMs(() => teacher);
      const info = vi.spyOn(console, 'info').mockImplementation(() => {});
      try {
        const printed = await runWithStories('optimize-finetune');
        expect(printed[0]).toBe('3');
        expect(printed[1]).toBe('false 3');
        expect(info).toHaveBeenCalledWith('BootstrapFinetune: using 2 records to fine-tune local/stories260K.');
        expect(printed.slice(2)).toEqual([
          'evaluate the student on the valset 1',
          expect.stringMatching(/^step 1 \(p\): BootstrapFewShot \d+$/),
          'step 1: evaluate on the valset 1',
          'step 2 (w): BootstrapFinetune 2',
          'step 2: evaluate on the valset 1',
          expect.stringMatching(/^step 3 \(p\): BootstrapFewShot \d+$/),
          'step 3: evaluate on the valset 1',
        ]);
      } finally {
        info.mockRestore();
      }
    },
  );
});
