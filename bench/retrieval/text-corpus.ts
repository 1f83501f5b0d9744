/**
 * A seeded generated text corpus for the BM25 benchmark, shaped like real passages: a Zipf-distributed vocabulary of
 * made-up word forms with a stop-word head, passages about topics that share rarer terms, log-normal passage lengths,
 * and short queries drawn from topic vocabularies. Every draw comes from a seeded PRNG, so a shape and a seed give the
 * same corpus and queries in every run.
 */
import { random } from './data.ts';

/** Parameters of {@link textCorpus}. */
export interface CorpusShape {
  /** Distinct word forms in the vocabulary. */
  vocabulary: number;
  /** Exponent s of the background distribution: the word of frequency rank r is drawn with probability ∝ r^−s. */
  zipf: number;
  /** The most frequent word forms, treated as stop words: never drawn as topic or query terms. */
  stopwords: number;
  /** Number of topics. */
  topics: number;
  /** Exponent of the topics' popularity: topic t (from 1) is a passage's topic with probability ∝ t^−exponent. */
  topicZipf: number;
  /** Terms in each topic's vocabulary. */
  topicTerms: number;
  /** Topic terms are drawn uniformly from the frequency ranks [from, vocabulary): rarer words than the head. */
  topicTermsFrom: number;
  /** Exponent of the Zipf distribution of a topic's terms within that topic. */
  topicTermZipf: number;
  /** Share of a passage's tokens drawn from its topic's vocabulary (the rest from the background distribution). */
  topicShare: number;
  /** Passage length in tokens: log-normal with this median and σ (of the logarithm), clamped to [min, max]. */
  length: { median: number; sigma: number; min: number; max: number };
  /** Relative weights of query lengths 2, 3, 4, 5 and 6 terms. */
  queryLengths: [number, number, number, number, number];
  /** Chance that a query term is a background (non-stop) word instead of a term of the query's topic. */
  queryBackground: number;
}

/** The benchmark's corpus shape. */
export const DEFAULT_CORPUS: CorpusShape = {
  vocabulary: 50_000,
  zipf: 1,
  stopwords: 100,
  topics: 500,
  topicZipf: 0.7,
  topicTerms: 200,
  topicTermsFrom: 1_000,
  topicTermZipf: 1,
  topicShare: 0.3,
  length: { median: 75, sigma: 0.35, min: 40, max: 150 },
  queryLengths: [20, 30, 25, 15, 10],
  queryBackground: 0.2,
};

/** One-line description of a shape, for reports. */
export function describeCorpus(shape: CorpusShape): string {
  const { length } = shape;
  return (
    `${shape.vocabulary.toLocaleString('en-US')} made-up word forms, Zipf s = ${shape.zipf}, ` +
    `${shape.stopwords} stop words; ${shape.topics} topics (popularity Zipf ${shape.topicZipf}) of ` +
    `${shape.topicTerms} terms each from ranks ≥ ${shape.topicTermsFrom.toLocaleString('en-US')}, ` +
    `${Math.round(shape.topicShare * 100)} % of a passage's tokens from its topic; passage length log-normal, ` +
    `median ${length.median}, σ ${length.sigma}, clamped to ${length.min}–${length.max} tokens; queries of 2–6 ` +
    `distinct non-stop terms, ${Math.round((1 - shape.queryBackground) * 100)} % from one topic`
  );
}

/** Cumulative weights of a Zipf distribution over `n` items with exponent `s`. */
function zipfCdf(n: number, s: number): Float64Array {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let r = 0; r < n; r++) {
    total += (r + 1) ** -s;
    cdf[r] = total;
  }
  return cdf;
}

/** Index of the first cumulative weight above `u × total` (binary search). */
function draw(cdf: Float64Array, u: number): number {
  const target = u * cdf[cdf.length - 1]!;
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid]! <= target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// The empty onset and coda make vowel-initial and open syllables; codas repeat '' so that most syllables are open.
const ONSETS = ['', ...'b c d f g h j k l m n p r s t v w z br cr dr fl gr pl st tr sh ch th'.split(' ')];
const NUCLEI = ['a', 'e', 'i', 'o', 'u', 'ai', 'ea', 'ou', 'io'];
const CODAS = ['', '', '', 'n', 'r', 's', 'l', 'm', 't', 'nd', 'st', 'rk'];

/**
 * `n` distinct made-up word forms (lower-case ASCII letters, 1–4 syllables), ordered by length: the most frequent ranks
 * get the shortest forms, as in natural languages.
 */
export function wordForms(n: number, seed: number): string[] {
  const next = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const forms = new Set<string>();
  while (forms.size < n) {
    const u = next();
    const syllables = u < 0.15 ? 1 : u < 0.55 ? 2 : u < 0.85 ? 3 : 4;
    let word = '';
    for (let i = 0; i < syllables; i++) word += pick(ONSETS) + pick(NUCLEI) + pick(CODAS);
    forms.add(word);
  }
  return [...forms].sort((a, b) => a.length - b.length);
}

/** A generated corpus: passages (space-separated lower-case tokens), their topics, and queries as term lists. */
export interface TextCorpus {
  passages: string[];
  /** Topic of each passage. */
  topics: Int32Array;
  /** Each query's distinct terms. */
  queries: string[][];
  /** Topic each query was drawn from. */
  queryTopics: Int32Array;
  /** The vocabulary, most frequent (by construction) first; the first `shape.stopwords` are the stop words. */
  vocabulary: string[];
}

/** Generates `passages` passages and `queries` queries of the given shape. */
export function textCorpus(
  passages: number,
  queries: number,
  shape: CorpusShape = DEFAULT_CORPUS,
  seed = 3,
): TextCorpus {
  const vocabulary = wordForms(shape.vocabulary, seed);
  const next = random(seed + 1);
  const background = zipfCdf(shape.vocabulary, shape.zipf);
  const topicPopularity = zipfCdf(shape.topics, shape.topicZipf);
  const withinTopic = zipfCdf(shape.topicTerms, shape.topicTermZipf);
  // Each topic's terms, most characteristic first: distinct ranks drawn uniformly from the non-head range.
  const topicTerms = Array.from({ length: shape.topics }, () => {
    const ranks = new Set<number>();
    while (ranks.size < shape.topicTerms) {
      ranks.add(shape.topicTermsFrom + Math.floor(next() * (shape.vocabulary - shape.topicTermsFrom)));
    }
    return [...ranks];
  });
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  const { median, sigma, min, max } = shape.length;

  const topics = new Int32Array(passages);
  const texts = Array.from({ length: passages }, (_, p) => {
    const topic = draw(topicPopularity, next());
    topics[p] = topic;
    const length = Math.min(max, Math.max(min, Math.round(median * Math.exp(sigma * gaussian()))));
    const tokens: string[] = [];
    for (let i = 0; i < length; i++) {
      const rank =
        next() < shape.topicShare ? topicTerms[topic]![draw(withinTopic, next())]! : draw(background, next());
      tokens.push(vocabulary[rank]!);
    }
    return tokens.join(' ');
  });

  const lengthWeights = Float64Array.from(shape.queryLengths);
  for (let i = 1; i < lengthWeights.length; i++) lengthWeights[i]! += lengthWeights[i - 1]!;
  // Background query terms: the Zipf distribution without its stop-word head.
  const contentWords = zipfCdf(shape.vocabulary - shape.stopwords, shape.zipf);
  const queryTopics = new Int32Array(queries);
  const queryTerms = Array.from({ length: queries }, (_, q) => {
    const topic = draw(topicPopularity, next());
    queryTopics[q] = topic;
    const length = 2 + draw(lengthWeights, next());
    const terms = new Set<string>();
    while (terms.size < length) {
      const rank =
        next() < shape.queryBackground
          ? shape.stopwords + draw(contentWords, next())
          : topicTerms[topic]![draw(withinTopic, next())]!;
      terms.add(vocabulary[rank]!);
    }
    return [...terms];
  });
  return { passages: texts, topics, queries: queryTerms, queryTopics, vocabulary };
}
