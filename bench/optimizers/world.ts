/**
 * The simulated task family of the search-efficiency benchmark: a ticket-routing task whose hidden rules (which
 * topic goes to which queue code, and "reply with the bare code") a prompt can carry, and one scripted language
 * model that plays both the task model and the prompt / reflection model. Its behaviour is a known function of the
 * prompt it receives; see README.md ("The model of the world") for the rules and their parameters.
 */
import {
  Example,
  type LanguageModelV1,
  type LMMessage,
  type LMRequest,
  type LMResponse,
  type Module,
} from '@dspy-ts/core';

/** Tunable constants of the world (documented in README.md). */
export const WORLD = {
  /** Topics (one hidden routing rule each) and their Zipf exponent. */
  topics: [
    'refund',
    'shipping',
    'login',
    'invoice',
    'warranty',
    'outage',
    'privacy',
    'upgrade',
    'fraud',
    'returns',
    'billing',
    'accessibility',
  ],
  zipf: 1,
  // Task model: P(correct) = pKnow × pFormat. A rule in the instruction and a demo of the topic are worth the same.
  pKnowRule: 0.9, // the instruction holds the right rule for the ticket's topic (and no demo shows the topic)
  pKnowDemo: 0.9, // a demo shows a ticket of the topic with its code (and the instruction has no rule for it)
  pKnowBoth: 0.95, // both
  pKnowWrongRule: 0.05, // the instruction holds a wrong rule for the topic, no demo of it (misled)
  pKnowWrongRuleAndDemo: 0.5, // a wrong rule contradicted by a demo
  pKnowNothing: 0.15, // uninformed: a guess among the codes
  pFormatRule: 0.95, // the instruction says to reply with the bare code (no demos)
  pFormatDemos: 0.95, // demos show the bare-code format (no such instruction)
  pFormatBoth: 0.98,
  pFormatNothing: 0.7,
  // Prompt model: per proposal call.
  qKeep: 0.95, // a rule (or the format phrase) already in the prompt is carried over
  qLearn: 0.4, // a topic with evidence in the prompt (a ticket of that topic next to its right code) yields its rule
  // The same, when the evidence is a correction: the prompt shows an answer for a ticket of the topic together with
  // feedback stating the expected code ("The expected queue was mira-3"). Until 2026-11-26 this was qLearn (0.4).
  qLearnFeedback: 0.9,
  maxNewRules: 2, // at most this many learned / corrected rules per call (attention limit)
  qGuess: 0.02, // a topic without evidence gets a guessed (almost surely wrong) rule
  qFormatEvidence: 0.4, // the format phrase, when some labelled evidence is shown
  qFormatGuess: 0.15, // the format phrase, without evidence
  // The format phrase, when the prompt states the format requirement as feedback on an answer
  // ("the reply must be exactly the queue code"). Until 2026-11-26 this was qFormatEvidence (0.4).
  qFormatFeedback: 0.9,
  evidenceWindow: 400, // characters after "(topic: t)" in which the right code counts as evidence
  // Accounting: 1 = a request identical to an earlier one (same messages, n, temperature, rollout id) is answered by
  // the response cache and costs nothing, as with DSPy's default LM cache; 0 = every request is a paid call (the
  // accounting until 2026-11-26). The world's answers are a function of the request, so this changes no answer.
  cache: 1,
};

/** Applies `key=value,key=value` overrides of the numeric parameters of {@link WORLD} (for sensitivity runs). */
export function overrideWorld(spec: string): Record<string, number> {
  const applied: Record<string, number> = {};
  for (const pair of spec.split(',').filter(Boolean)) {
    const [key, raw] = pair.split('=');
    const value = Number(raw);
    if (!key || !(key in WORLD) || typeof (WORLD as Record<string, unknown>)[key] !== 'number' || Number.isNaN(value)) {
      throw new Error(`--world: unknown parameter or bad value in "${pair}"`);
    }
    (WORLD as Record<string, unknown>)[key] = value;
    applied[key] = value;
  }
  return applied;
}

export const FORMAT_PHRASE = 'Reply with the bare queue code only.';
/** The format requirement as the feedback metric states it on a wrong answer. */
export const FORMAT_FEEDBACK = 'the reply must be exactly the queue code';
const RULE_RE = /Tickets about ([a-z]+) go to queue ([A-Za-z0-9-]+)\./g;
const BASE_INSTRUCTION = 'Route the support ticket to the right queue.';

export function rulePhrase(topic: string, code: string): string {
  return `Tickets about ${topic} go to queue ${code}.`;
}

// ---------------------------------------------------------------------------------------------------------------
// Deterministic randomness

/** cyrb53-style 53-bit string hash → [0, 1). */
export function hashUnit(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)) / 2 ** 53;
}

/** A small seeded generator (mulberry32) for data generation and per-call sampling. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }
  static fromText(text: string): Rng {
    return new Rng(Math.floor(hashUnit(text) * 2 ** 32));
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j] as T, items[i] as T];
    }
    return items;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The task

const SYLLABLES = ['ka', 'lo', 'mi', 'ru', 'te', 'vo', 'zu', 'pe', 'na', 'si', 'do', 'fa'];
const FILLER = [
  'my order',
  'the account',
  'yesterday',
  'again',
  'the app',
  'please help',
  'urgent',
  'since Monday',
  'the website',
  'my card',
  'an email',
  'the team',
  'no reply',
  'twice',
];

/** One task instance: the hidden topic → code mapping and the data splits. */
export interface Task {
  seed: number;
  codes: Record<string, string>;
  allCodes: string[];
  trainset: Example[];
  valset: Example[];
  testset: Example[];
}

function makeTicket(rng: Rng, id: number, topic: string): string {
  const words = Array.from({ length: 3 }, () => rng.pick(FILLER)).join(', ');
  return `Ticket #${1000 + id} (topic: ${topic}): ${words}.`;
}

/** Builds the task of one seed: a fresh random code per topic, Zipf topic frequencies, seeded tickets. */
export function makeTask(seed: number, sizes = { train: 60, val: 40, test: 300 }): Task {
  const rng = new Rng(seed * 7919 + 17);
  const codes: Record<string, string> = {};
  const used = new Set<string>();
  for (const topic of WORLD.topics) {
    let code: string;
    do code = `${rng.pick(SYLLABLES)}${rng.pick(SYLLABLES)}-${1 + rng.int(9)}`;
    while (used.has(code));
    used.add(code);
    codes[topic] = code;
  }
  const weights = WORLD.topics.map((_, i) => 1 / (i + 1) ** WORLD.zipf);
  const total = weights.reduce((a, b) => a + b, 0);
  const drawTopic = () => {
    let u = rng.next() * total;
    for (const [i, w] of weights.entries()) {
      u -= w;
      if (u <= 0) return WORLD.topics[i] as string;
    }
    return WORLD.topics.at(-1) as string;
  };
  let id = 0;
  const make = (n: number) =>
    Array.from({ length: n }, () => {
      const topic = drawTopic();
      return new Example({ ticket: makeTicket(rng, id++, topic), queue: codes[topic] }).withInputs('ticket');
    });
  return {
    seed,
    codes,
    allCodes: [...used],
    trainset: make(sizes.train),
    valset: make(sizes.val),
    testset: make(sizes.test),
  };
}

export function topicOf(ticket: string): string | undefined {
  return /\(topic: ([a-z]+)\)/.exec(ticket)?.[1];
}

/** Rules in a text: topic → code of the last rule naming that topic (later text overrides earlier). */
export function parseRules(text: string): Map<string, string> {
  const rules = new Map<string, string>();
  for (const match of text.matchAll(RULE_RE)) rules.set(match[1] as string, match[2] as string);
  return rules;
}

/** The probability that the task model answers a ticket of `topic` right under this prompt. */
export function pCorrect(
  task: Task,
  instruction: string,
  demos: readonly { ticket: string; queue: string }[],
  topic: string,
): number {
  const rules = parseRules(instruction);
  const code = task.codes[topic];
  const demoCovers = demos.some((d) => topicOf(d.ticket) === topic && d.queue.trim() === code);
  const rule = rules.get(topic);
  let pKnow: number;
  if (rule === code) pKnow = demoCovers ? WORLD.pKnowBoth : WORLD.pKnowRule;
  else if (rule !== undefined) pKnow = demoCovers ? WORLD.pKnowWrongRuleAndDemo : WORLD.pKnowWrongRule;
  else pKnow = demoCovers ? WORLD.pKnowDemo : WORLD.pKnowNothing;
  const formatRule = instruction.includes(FORMAT_PHRASE);
  const formatDemos = demos.length > 0;
  const pFormat =
    formatRule && formatDemos
      ? WORLD.pFormatBoth
      : formatRule
        ? WORLD.pFormatRule
        : formatDemos
          ? WORLD.pFormatDemos
          : WORLD.pFormatNothing;
  return pKnow * pFormat;
}

/** Expected accuracy (0–100) of a one-predictor program on a data set: the mean of `pCorrect`, no sampling. */
export function expectedAccuracy(task: Task, program: Module<any, any, any>, data: readonly Example[]): number {
  const predictor = program.predictors()[0];
  if (!predictor) throw new Error('expected a one-predictor program');
  const instruction = predictor.signature.instructions;
  const demos = predictor.demos.map((d) => {
    const get = (k: string) => String((d instanceof Example ? d.get(k) : (d as Record<string, unknown>)[k]) ?? '');
    return { ticket: get('ticket'), queue: get('queue') };
  });
  let sum = 0;
  for (const example of data) sum += pCorrect(task, instruction, demos, topicOf(String(example.ticket)) as string);
  return (100 * sum) / data.length;
}

/** Describes a program's prompt for the report: right / wrong rules, format phrase, demo topics covered. */
export function describeProgram(task: Task, program: Module<any, any, any>) {
  const predictor = program.predictors()[0]!;
  const rules = parseRules(predictor.signature.instructions);
  let right = 0;
  let wrong = 0;
  for (const [topic, code] of rules) task.codes[topic] === code ? right++ : wrong++;
  const demoTopics = new Set(
    predictor.demos.map((d) => topicOf(String(d instanceof Example ? d.get('ticket') : (d as any).ticket))),
  );
  return {
    rightRules: right,
    wrongRules: wrong,
    format: predictor.signature.instructions.includes(FORMAT_PHRASE),
    demos: predictor.demos.length,
    demoTopics: demoTopics.size,
  };
}

/** The metric every optimizer scores with: exact match of the queue code. */
export function exactMatch(example: Example, prediction: any): boolean {
  return String(prediction?.queue ?? '').trim() === String(example.queue);
}

/** The same metric with textual feedback (GEPA's and SIMBA's `{ score, feedback }` form). */
export function feedbackMetric(example: Example, prediction: any): { score: number; feedback: string } {
  const right = exactMatch(example, prediction);
  return {
    score: right ? 1 : 0,
    feedback: right ? 'Correct.' : `Incorrect. The expected queue was ${String(example.queue)}; ${FORMAT_FEEDBACK}.`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The scripted language model

function messageText(message: LMMessage | undefined): string {
  if (!message) return '';
  if (typeof message.content === 'string') return message.content;
  return message.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

function field(text: string, name: string): string | undefined {
  const match = new RegExp(`\\[\\[ ## ${name} ## \\]\\]\\n([\\s\\S]*?)(?=\\n\\n\\[\\[ ## |\\n\\nRespond with|$)`).exec(
    text,
  );
  return match?.[1];
}

/** Call counters shared by an LM and its `withDefaults` copies (and their response cache). */
export interface CallCounter {
  /** Paid calls: requests not answered by the cache (every request when `WORLD.cache` is 0). */
  calls: number;
  /** Every `generate` request, cached or not. */
  requests: number;
  /** Characters of the paid calls' messages. */
  promptChars: number;
  /** Keys of the requests answered so far (the response cache). */
  seen: Set<string>;
}

export function newCounter(): CallCounter {
  return { calls: 0, requests: 0, promptChars: 0, seen: new Set() };
}

/**
 * The world's language model. `role: 'task'` answers the ticket-routing prompts; `role: 'prompt'` answers every
 * proposer / reflection / advice prompt the optimizers send. Each instance counts its calls (one `generate` is one
 * call, whatever `n`; a request identical to an earlier one is a free cache hit unless `WORLD.cache` is 0). Answers are deterministic given (task seed, full prompt, rollout id, temperature).
 */
export class WorldLM implements LanguageModelV1 {
  readonly specificationVersion = 'v1' as const;
  readonly modelId: string;

  constructor(
    readonly task: Task,
    readonly role: 'task' | 'prompt',
    readonly counter: CallCounter = newCounter(),
    readonly defaults: LanguageModelV1['defaults'] = undefined,
  ) {
    this.modelId = `world-${role}`;
  }

  withDefaults(defaults: LanguageModelV1['defaults']): LanguageModelV1 {
    return new WorldLM(this.task, this.role, this.counter, { ...this.defaults, ...defaults });
  }

  async generate(request: LMRequest): Promise<LMResponse> {
    request.signal?.throwIfAborted();
    const texts = request.messages.map(messageText);
    const all = texts.join('\n\n');
    const n = request.n ?? 1;
    const key = `${this.task.seed}|${request.rolloutId ?? ''}|${request.temperature ?? ''}|${all}`;
    this.counter.requests++;
    const cacheKey = `${n}|${request.messages.map((m) => m.role).join(',')}|${key}`;
    const cacheHit = WORLD.cache !== 0 && this.counter.seen.has(cacheKey);
    if (!cacheHit) {
      this.counter.seen.add(cacheKey);
      this.counter.calls++;
      this.counter.promptChars += all.length;
    }
    const choices = Array.from({ length: n }, (_, i) => {
      const rng = Rng.fromText(`${i}|${key}`);
      const text =
        this.role === 'task' ? this.answerTask(request.messages, texts, rng) : this.answerPrompt(texts, all, rng);
      return { text, finishReason: 'stop' as const };
    });
    return cacheHit
      ? { choices, usage: {}, modelId: this.modelId, cacheHit: true }
      : { choices, usage: { inputTokens: Math.ceil(all.length / 4), outputTokens: 20 }, modelId: this.modelId };
  }

  private answerTask(messages: readonly LMMessage[], texts: readonly string[], rng: Rng): string {
    const system = texts[0] ?? '';
    const demos: { ticket: string; queue: string }[] = [];
    for (let i = 1; i + 1 < messages.length; i += 2) {
      if (messages[i]?.role === 'user' && messages[i + 1]?.role === 'assistant') {
        demos.push({ ticket: field(texts[i] ?? '', 'ticket') ?? '', queue: field(texts[i + 1] ?? '', 'queue') ?? '' });
      }
    }
    const ticket = field(texts.at(-1) ?? '', 'ticket') ?? '';
    const topic = topicOf(ticket) ?? '';
    const p = pCorrect(this.task, system, demos, topic);
    const code = this.task.codes[topic] ?? 'unknown';
    let answer: string;
    if (rng.next() < p) answer = code;
    else if (rng.next() < 0.5)
      answer = `The ticket should go to ${code}.`; // a format failure
    else answer = rng.pick(this.task.allCodes.filter((c) => c !== code)); // a wrong queue
    return `[[ ## queue ## ]]\n${answer}\n\n[[ ## completed ## ]]`;
  }

  /**
   * The proposal step shared by every prompt kind: which rules (and the format phrase) the reply carries, given the
   * rules already in the prompt and the evidence it shows.
   */
  private propose(all: string, rng: Rng, onlyNew: boolean): string[] {
    const existing = parseRules(all);
    const evidence = new Set<string>();
    const corrected = new Set<string>();
    for (const topic of WORLD.topics) {
      const code = this.task.codes[topic] as string;
      const marker = `(topic: ${topic})`;
      const correction = new RegExp(`expected[^\\n]{0,40}?${code}`, 'i');
      for (let at = all.indexOf(marker); at >= 0; at = all.indexOf(marker, at + 1)) {
        const window = all.slice(at, at + WORLD.evidenceWindow);
        if (window.includes(code)) evidence.add(topic);
        if (correction.test(window)) corrected.add(topic);
      }
    }
    const phrases: string[] = [];
    let learned = 0;
    for (const topic of rng.shuffle([...WORLD.topics])) {
      const code = this.task.codes[topic] as string;
      const had = existing.get(topic);
      const qLearn = corrected.has(topic) ? WORLD.qLearnFeedback : WORLD.qLearn;
      if (evidence.has(topic) && had !== code && learned < WORLD.maxNewRules && rng.next() < qLearn) {
        learned++;
        phrases.push(rulePhrase(topic, code));
      } else if (had !== undefined) {
        if (!onlyNew && rng.next() < WORLD.qKeep) phrases.push(rulePhrase(topic, had));
      } else if (!evidence.has(topic) && rng.next() < WORLD.qGuess) {
        phrases.push(rulePhrase(topic, `${rng.pick(SYLLABLES)}${rng.pick(SYLLABLES)}-${1 + rng.int(9)}`));
      }
    }
    if (all.includes(FORMAT_PHRASE)) {
      if (!onlyNew && rng.next() < WORLD.qKeep) phrases.push(FORMAT_PHRASE);
    } else if (
      rng.next() <
      (all.includes(FORMAT_FEEDBACK)
        ? WORLD.qFormatFeedback
        : evidence.size > 0
          ? WORLD.qFormatEvidence
          : WORLD.qFormatGuess)
    ) {
      phrases.push(FORMAT_PHRASE);
    }
    return phrases;
  }

  private answerPrompt(texts: readonly string[], all: string, rng: Rng): string {
    const system = texts[0] ?? '';
    // GEPA's reflection prompt: one user message, the new instruction in a fenced block.
    if (!system.includes('[[ ## ') && system.startsWith('I provided an assistant')) {
      const phrases = this.propose(all, rng, false);
      return `Here is the improved instruction:\n\`\`\`\n${[BASE_INSTRUCTION, ...phrases].join(' ')}\n\`\`\``;
    }
    const outputs = /Your output fields are:\n([\s\S]*?)\nAll interactions/.exec(system)?.[1] ?? '';
    const has = (name: string) => outputs.includes(`\`${name}\``);
    if (has('observations')) {
      const withPrior = system.includes('prior_observations');
      const phrases = this.propose(all, rng, withPrior);
      if (withPrior && phrases.length === 0) return '[[ ## observations ## ]]\nCOMPLETE\n\n[[ ## completed ## ]]';
      const lead = withPrior
        ? ''
        : 'The examples are support tickets, each tagged with a topic and routed to a queue code. ';
      return `[[ ## observations ## ]]\n${lead}${phrases.join(' ')}\n\n[[ ## completed ## ]]`;
    }
    if (has('summary')) {
      const kept = this.propose(all, rng, false);
      return `[[ ## summary ## ]]\nSupport tickets tagged with topics are routed to queue codes. ${kept.join(' ')}\n\n[[ ## completed ## ]]`;
    }
    if (has('program_description')) {
      return '[[ ## program_description ## ]]\nThe program routes a support ticket to a queue.\n\n[[ ## completed ## ]]';
    }
    if (has('module_description')) {
      return '[[ ## module_description ## ]]\nThe module reads the ticket and outputs the queue code.\n\n[[ ## completed ## ]]';
    }
    if (has('proposed_instruction')) {
      const phrases = this.propose(all, rng, false);
      const instruction = [BASE_INSTRUCTION, ...phrases].join(' ');
      const prefix = has('proposed_prefix_for_output_field')
        ? '\n\n[[ ## proposed_prefix_for_output_field ## ]]\nQueue:'
        : '';
      return `[[ ## proposed_instruction ## ]]\n${instruction}${prefix}\n\n[[ ## completed ## ]]`;
    }
    if (has('module_advice')) {
      const names = JSON.parse(field(texts.at(-1) ?? '', 'module_names') ?? '[]') as string[];
      const advice = this.propose(all, rng, true).join(' ') || 'Read the topic of the ticket carefully.';
      const dict = Object.fromEntries(names.map((name) => [name, advice]));
      return `[[ ## discussion ## ]]\nThe worse run picked a wrong queue.\n\n[[ ## module_advice ## ]]\n${JSON.stringify(dict)}\n\n[[ ## completed ## ]]`;
    }
    throw new Error(`WorldLM: unrecognised prompt (outputs: ${outputs.slice(0, 200)})`);
  }
}
