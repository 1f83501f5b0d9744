/**
 * The DSPy paper's multi-hop HotPotQA program: for each hop, a `ChainOfThought` writes a search query from the
 * question and the passages found so far, `Retrieve` fetches passages for it; a final `ChainOfThought` answers from
 * all collected passages. Scored with `answerExactMatch` (answers) and `answerPassageMatch` (retrieval), the two
 * numbers the paper reports.
 *
 * Works with any LM: `configure({ lm })` before calling {@link runMultihop}. Run directly
 * (`npm run hotpotqa --workspace examples`) it uses a scripted LM, so it runs offline.
 */
import { pathToFileURL } from 'node:url';
import {
  answerExactMatch,
  answerPassageMatch,
  ChainOfThought,
  configure,
  Evaluate,
  Example,
  type LanguageModelV1,
  type LMRequest,
  Module,
  type ModuleCallOptions,
  Prediction,
  Retrieve,
  type RetrievedPassage,
  type RetrieveOptions,
  type Retriever,
} from '@dspy-ts/core';
import { ScriptedLM } from '@dspy-ts/core/testing';

/** A small Wikipedia-like corpus ("Title | text"); every question needs two of its passages. */
export const CORPUS = [
  'Gary Zukav | Gary Zukav is an American spiritual teacher and the author of The Seat of the Soul. He was born in San Francisco.',
  'San Francisco | San Francisco is a city in the state of California, United States.',
  'Nicholas Ray | Nicholas Ray was an American film director known for Rebel Without a Cause. He was born in Galesville.',
  'Galesville, Wisconsin | Galesville is a city in Trempealeau County, in the state of Wisconsin, United States.',
  'Rebel Without a Cause | Rebel Without a Cause is a 1955 drama film starring James Dean and directed by Nicholas Ray.',
  'The Seat of the Soul | The Seat of the Soul is a 1989 book written by Gary Zukav.',
  'Arthur Conan Doyle | Arthur Conan Doyle was a British writer who created the detective Sherlock Holmes. He was born in Edinburgh.',
  'Edinburgh | Edinburgh is the capital city of Scotland.',
  'Sherlock Holmes | Sherlock Holmes is a fictional detective created by Arthur Conan Doyle.',
  'Wisconsin | Wisconsin is a state in the Midwestern United States.',
];

/** Questions whose answers sit in a passage reached only through a first hop. */
export const HOTPOT_DEVSET = [
  { question: 'In which state was the author of The Seat of the Soul born?', answer: 'California' },
  { question: 'In which state was the director of Rebel Without a Cause born?', answer: 'Wisconsin' },
  { question: 'Of which country is the birthplace of the creator of Sherlock Holmes the capital?', answer: 'Scotland' },
].map((row) => new Example(row).withInputs('question'));

const STOPWORDS = new Set([
  'a',
  'an',
  'the',
  'of',
  'in',
  'is',
  'was',
  'which',
  'who',
  'and',
  'by',
  'he',
  'she',
  'it',
  'to',
  'for',
]);

function keywords(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => !STOPWORDS.has(w));
}

/**
 * An in-memory keyword retriever: passages ranked by how many distinct query keywords they contain (ties keep corpus
 * order). Implements the core `Retriever` interface, so `Retrieve` uses it through `configure({ rm })`.
 */
export class KeywordRetriever implements Retriever {
  private readonly index: { text: string; words: Set<string> }[];

  constructor(corpus: readonly string[]) {
    this.index = corpus.map((text) => ({ text, words: new Set(keywords(text)) }));
  }

  async retrieve(query: string, options: RetrieveOptions = {}): Promise<RetrievedPassage[]> {
    options.signal?.throwIfAborted();
    const terms = [...new Set(keywords(query))];
    return this.index
      .map((entry, id) => ({ text: entry.text, id, score: terms.filter((t) => entry.words.has(t)).length }))
      .filter((hit) => hit.score > 0)
      .sort((a, b) => b.score - a.score || a.id - b.id)
      .slice(0, options.k ?? 3);
  }
}

/** Removes repeated passages, keeping the first occurrence (DSPy's `deduplicate`). */
export function deduplicate(passages: readonly string[]): string[] {
  return [...new Set(passages)];
}

/** The paper's `BasicMultiHop`: `hops` query writers, a retriever, and an answer writer. */
export class MultiHop extends Module<{ question: string }, Prediction> {
  generateQuery: ChainOfThought[];
  retrieve: Retrieve;
  generateAnswer = new ChainOfThought('context, question -> answer');

  constructor(options: { hops?: number; passagesPerHop?: number } = {}) {
    super();
    this.generateQuery = Array.from(
      { length: options.hops ?? 2 },
      () => new ChainOfThought('context, question -> search_query'),
    );
    this.retrieve = new Retrieve({ k: options.passagesPerHop ?? 2 });
  }

  override async forward({ question }: { question: string }, options?: ModuleCallOptions): Promise<Prediction> {
    let context: string[] = [];
    for (const hop of this.generateQuery) {
      const { search_query } = await hop.call({ context, question }, options);
      const { passages } = await this.retrieve.call({ query: String(search_query) }, options);
      context = deduplicate([...context, ...passages]);
    }
    const { answer } = await this.generateAnswer.call({ context, question }, options);
    return new Prediction({ context, answer });
  }
}

// What the scripted LM "knows": the first query, the entity it should find, the follow-up query and the answer.
const PLANS = [
  { topic: 'Seat of the Soul', first: 'author of The Seat of the Soul', bridge: 'San Francisco', answer: 'California' },
  {
    topic: 'Rebel Without a Cause',
    first: 'director of Rebel Without a Cause',
    bridge: 'Galesville',
    answer: 'Wisconsin',
  },
  { topic: 'Sherlock Holmes', first: 'creator of Sherlock Holmes birthplace', bridge: 'Edinburgh', answer: 'Scotland' },
];

/**
 * A scripted LM playing both roles in the ChatAdapter format: it writes the first query from the question, the
 * second from the bridge entity it finds in the retrieved context, and answers only when the context holds the
 * answer passage.
 */
export function scriptedMultihopLM(): ScriptedLM {
  return new ScriptedLM(
    (request: LMRequest) => {
      const system = String(request.messages[0]?.content ?? '');
      const user = String(request.messages.at(-1)?.content ?? '');
      const plan = PLANS.find((p) => user.includes(p.topic));
      const context = /\[\[ ## context ## \]\]\n([\s\S]*?)\n\n\[\[ ## question/.exec(user)?.[1] ?? '[]';
      if (system.includes('`search_query`')) {
        const found = plan && context.includes(`born in ${plan.bridge}`);
        const query = !plan ? 'unknown' : found ? `where is ${plan.bridge}` : plan.first;
        return `[[ ## reasoning ## ]]\nI need to find ${found ? 'where the birthplace is' : 'who that is'}.\n\n[[ ## search_query ## ]]\n${query}\n\n[[ ## completed ## ]]`;
      }
      const known = plan && context.includes(plan.answer);
      return `[[ ## reasoning ## ]]\n${known ? 'The passages connect the person to the place.' : 'The passages do not say.'}\n\n[[ ## answer ## ]]\n${known ? plan.answer : 'unknown'}\n\n[[ ## completed ## ]]`;
    },
    { modelId: 'scripted/multihop', usage: { inputTokens: 200, outputTokens: 30 } },
  );
}

/** Options of {@link runMultihop}. */
export interface MultihopOptions {
  /** The LM; default: the configured one. */
  lm?: LanguageModelV1;
  /** Number of retrieval hops (the paper uses 2). */
  hops?: number;
  /** Show progress. */
  displayProgress?: boolean;
}

/** Evaluates {@link MultiHop} on {@link HOTPOT_DEVSET}: answer exact match and passage match, in percent. */
export async function runMultihop(options: MultihopOptions = {}): Promise<{ answer: number; passage: number }> {
  configure({ rm: new KeywordRetriever(CORPUS), ...(options.lm ? { lm: options.lm } : {}) });
  const program = new MultiHop(options.hops === undefined ? {} : { hops: options.hops });
  const evaluate = new Evaluate({
    devset: HOTPOT_DEVSET,
    metric: answerExactMatch,
    displayProgress: options.displayProgress ?? false,
  });
  const answers = await evaluate.call(program);
  // The paper's "Psg" column: does the retrieved context contain the answer?
  const passages = await evaluate.call(program, { metric: answerPassageMatch });
  return { answer: answers.score, passage: passages.score };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const scores = await runMultihop({ lm: scriptedMultihopLM(), displayProgress: true });
  console.log(`Answer EM: ${scores.answer}%  Passage match: ${scores.passage}%`);
}
