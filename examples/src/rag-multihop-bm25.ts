/**
 * Multi-hop retrieval-augmented generation over BM25, after DSPy's multi-hop search tutorial: the program writes a
 * search query, retrieves passages, writes a follow-up query from what it found, retrieves again, and answers from
 * everything it gathered. Each question here needs two hops: "In which country was X born?" is answered by one
 * passage naming X's birth city and another naming that city's country, and no single passage holds both.
 *
 * The corpus is generated (a small invented world, so no model could know the answers beforehand), BM25 runs in
 * memory, and by default the LM is scripted, so the example runs offline with no keys:
 *
 *   NODE_OPTIONS=--conditions=@dspy-ts/source npx tsx examples/src/rag-multihop-bm25.ts
 *
 * To run it against a real model, call `runMultiHopExample({ lm })` with any `LanguageModelV1` (for instance one
 * from `@dspy-ts/lm-adapters`).
 */
import { pathToFileURL } from 'node:url';
import {
  ChainOfThought,
  context,
  type LanguageModelV1,
  type LMRequest,
  Module,
  Prediction,
  Retrieve,
} from '@dspy-ts/core';
import { ScriptedLM } from '@dspy-ts/core/testing';
import { BM25Retriever, type CorpusPassage } from '@dspy-ts/retrieval';

/** One two-hop question about the generated world, with its answer. */
export interface MultiHopQuestion {
  /** The question. */
  question: string;
  /** The expected answer (a country). */
  answer: string;
}

/** A generated corpus and questions over it. */
export interface MultiHopWorld {
  /** Passages: birthplaces, city–country facts and distractors. */
  corpus: CorpusPassage[];
  /** Two-hop questions. */
  questions: MultiHopQuestion[];
}

const FIRST = [
  'Ilse',
  'Tomas',
  'Wren',
  'Odile',
  'Kasimir',
  'Maren',
  'Anouk',
  'Bram',
  'Sefa',
  'Linnea',
  'Corin',
  'Yara',
];
const LAST = ['Marrow', 'Quell', 'Ashgrove', 'Tembe', 'Varga', 'Lindqvist', 'Okafor', 'Delacroix', 'Haldane', 'Rusu'];
const CITIES = ['Tolvik', 'Brenmoor', 'Castellane', 'Dunhallow', 'Esperon', 'Fairhollow', 'Gildrin', 'Harrowgate'];
const COUNTRIES = ['Meridia', 'Norvale', 'Ostrand', 'Pellucia'];
const JOBS = ['baker', 'cartographer', 'violinist', 'engineer', 'beekeeper', 'lighthouse keeper'];
const SIGHTS = ['its glass bridge', 'a winter market', 'an old observatory', 'salt marshes', 'a clock tower'];

/**
 * Generates the world: `people` people, each born in a city, each city in a country, plus a job per person and a
 * sight per city as distractors. Deterministic, so runs are reproducible.
 */
export function generateWorld(people = 24): MultiHopWorld {
  const corpus: CorpusPassage[] = [];
  const questions: MultiHopQuestion[] = [];
  CITIES.forEach((city, i) => {
    const country = COUNTRIES[i % COUNTRIES.length]!;
    corpus.push({ id: `city-${i}`, text: `${city} is a city in ${country}.`, metadata: { kind: 'geography' } });
    corpus.push({
      id: `sight-${i}`,
      text: `${city} is known for ${SIGHTS[i % SIGHTS.length]}.`,
      metadata: { kind: 'travel' },
    });
  });
  for (let p = 0; p < people; p++) {
    const name = `${FIRST[p % FIRST.length]} ${LAST[(p * 7) % LAST.length]}`;
    const cityIndex = (p * 5 + 3) % CITIES.length;
    const city = CITIES[cityIndex]!;
    corpus.push({ id: `born-${p}`, text: `${name} was born in ${city}.`, metadata: { kind: 'biography' } });
    corpus.push({
      id: `job-${p}`,
      text: `${name} works as a ${JOBS[p % JOBS.length]}.`,
      metadata: { kind: 'biography' },
    });
    questions.push({
      question: `In which country was ${name} born?`,
      answer: COUNTRIES[cityIndex % COUNTRIES.length]!,
    });
  }
  return { corpus, questions };
}

/**
 * DSPy's multi-hop program: `hops` rounds of (write a query from the question and the notes so far → retrieve),
 * then an answer from the collected notes.
 */
export class MultiHopRAG extends Module<{ question: string }, Prediction<{ reasoning: string; answer: string }>> {
  /** One query writer per hop, so an optimizer can tune each separately. */
  readonly generateQuery: ChainOfThought[];
  /** The retrieval step, using the configured `rm`. */
  readonly retrieve: Retrieve;
  /** Answers from the collected context. */
  readonly generateAnswer = new ChainOfThought('context: list[str], question: str -> answer: str');

  constructor(options: { hops?: number; passagesPerHop?: number } = {}) {
    super();
    this.generateQuery = Array.from(
      { length: options.hops ?? 2 },
      () => new ChainOfThought('context: list[str], question: str -> search_query: str'),
    );
    this.retrieve = new Retrieve({ k: options.passagesPerHop ?? 3 });
  }

  override async forward({ question }: { question: string }) {
    let notes: string[] = [];
    for (const hop of this.generateQuery) {
      const { search_query } = await hop.call({ context: notes, question });
      const { passages } = await this.retrieve.call({ query: String(search_query) });
      notes = [...new Set([...notes, ...passages])];
    }
    const answer = await this.generateAnswer.call({ context: notes, question });
    return new Prediction({ reasoning: String(answer.reasoning), answer: String(answer.answer) });
  }
}

/** The text of every message of a request, joined. */
function requestText(request: LMRequest): string {
  return request.messages
    .map((message) => (typeof message.content === 'string' ? message.content : JSON.stringify(message.content)))
    .join('\n');
}

/** The value of one `[[ ## field ## ]]` block in the last user message. */
function field(request: LMRequest, name: string): string {
  const user = [...request.messages].reverse().find((message) => message.role === 'user');
  const text = typeof user?.content === 'string' ? user.content : '';
  const match = new RegExp(`\\[\\[ ## ${name} ## \\]\\]\\n([\\s\\S]*?)(?=\\n\\n\\[\\[ ## |\\n\\nRespond with|$)`).exec(
    text,
  );
  return match?.[1]?.trim() ?? '';
}

/**
 * A scripted stand-in for a model, answering in the ChatAdapter's format. It reads only what the program shows it
 * (the question and the retrieved context), so it answers correctly only when retrieval found both hops' passages.
 */
export function scriptedMultiHopLM(): ScriptedLM {
  return new ScriptedLM((request) => {
    const question = field(request, 'question');
    const notes = field(request, 'context');
    const person = /was (\w+ \w+) born\?/.exec(question)?.[1] ?? question;
    const city = new RegExp(`${person} was born in (\\w+)`).exec(notes)?.[1];
    const country = city ? new RegExp(`${city} is a city in (\\w+)`).exec(notes)?.[1] : undefined;
    if (requestText(request).includes('[[ ## search_query ## ]]')) {
      const query = city ? `${city} city country` : `${person} born`;
      const why = city
        ? `${person} was born in ${city}; next find ${city}'s country.`
        : `First find where ${person} was born.`;
      return `[[ ## reasoning ## ]]\n${why}\n\n[[ ## search_query ## ]]\n${query}\n\n[[ ## completed ## ]]`;
    }
    const why = country ? `${person} was born in ${city}, a city in ${country}.` : 'The context does not say.';
    return `[[ ## reasoning ## ]]\n${why}\n\n[[ ## answer ## ]]\n${country ?? 'unknown'}\n\n[[ ## completed ## ]]`;
  });
}

/** Result of {@link runMultiHopExample}. */
export interface MultiHopReport {
  /** Share of questions answered exactly right. */
  accuracy: number;
  /** Per question: the answer given and the expected one. */
  results: { question: string; predicted: string; expected: string }[];
}

/** Runs the program over the generated world's questions with `lm` (default: the scripted LM) and BM25. */
export async function runMultiHopExample(
  options: { lm?: LanguageModelV1; hops?: number; questions?: number } = {},
): Promise<MultiHopReport> {
  const world = generateWorld();
  const rm = new BM25Retriever(world.corpus, { k: 3 });
  const program = new MultiHopRAG({ hops: options.hops ?? 2 });
  const lm = options.lm ?? scriptedMultiHopLM();
  const results: MultiHopReport['results'] = [];
  // Settings scoped to this run, so the example leaves the global configuration untouched.
  await context({ lm, rm }, async () => {
    for (const { question, answer } of world.questions.slice(0, options.questions)) {
      const prediction = await program.call({ question });
      results.push({ question, predicted: String(prediction.answer).trim(), expected: answer });
    }
  });
  const correct = results.filter((r) => r.predicted.toLowerCase() === r.expected.toLowerCase()).length;
  return { accuracy: correct / results.length, results };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const twoHops = await runMultiHopExample();
  const oneHop = await runMultiHopExample({ hops: 1 });
  for (const r of twoHops.results.slice(0, 3)) console.log(`${r.question} → ${r.predicted} (expected ${r.expected})`);
  console.log(
    `Two hops: ${(twoHops.accuracy * 100).toFixed(0)}% exact match over ${twoHops.results.length} questions.`,
  );
  console.log(`One hop:  ${(oneHop.accuracy * 100).toFixed(0)}% — the second hop is what finds the country.`);
}
