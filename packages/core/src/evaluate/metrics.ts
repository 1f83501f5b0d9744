import { DspyError } from '../errors.ts';

// Python's `string.punctuation`.
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
// Python's `\b(a|an|the)\b` on a str pattern: word characters are Unicode letters, digits and `_` (not marks).
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;
// The characters Python's `str.split()` splits on.
// Built from code points: a regex literal holding the \x1c-\x1f control characters trips linters.
const PY_WHITESPACE = new RegExp(
  `[\\t\\n\\v\\f\\r ${String.fromCharCode(0x1c, 0x1d, 0x1e, 0x1f)}\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]+`,
  'u',
);

function pySplit(text: string): string[] {
  return text.split(PY_WHITESPACE).filter(Boolean);
}

/**
 * DSPy's `normalize_text`: Unicode NFD, lower case, punctuation removed, the articles `a`/`an`/`the` removed and
 * whitespace collapsed to single spaces.
 *
 * @example normalizeText('The  Eiffel-Tower!') // 'eiffeltower'
 */
export function normalizeText(text: string): string {
  const lowered = text.normalize('NFD').toLowerCase();
  let withoutPunctuation = '';
  for (const ch of lowered) if (!PUNCTUATION.has(ch)) withoutPunctuation += ch;
  return pySplit(withoutPunctuation.replace(ARTICLES, ' ')).join(' ');
}

function answerList(answers: string | readonly string[], metric: string): readonly string[] {
  if (typeof answers === 'string') return [answers];
  if (!Array.isArray(answers)) {
    throw new DspyError(
      'invalid_argument',
      `${metric}: expected the answers to be a string or a list of strings, found ${typeof answers}.`,
    );
  }
  return answers;
}

function tokenCounts(tokens: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
  return counts;
}

function overlapF1(predictionTokens: readonly string[], truthTokens: readonly string[]): number {
  const truth = tokenCounts(truthTokens);
  let same = 0;
  for (const [token, count] of tokenCounts(predictionTokens)) same += Math.min(count, truth.get(token) ?? 0);
  if (same === 0) return 0;
  const precision = same / predictionTokens.length;
  const recall = same / truthTokens.length;
  return (2 * precision * recall) / (precision + recall);
}

/** DSPy's `em_score`: true when both texts are equal after {@link normalizeText}. */
export function exactMatchScore(prediction: string, groundTruth: string): boolean {
  return normalizeText(prediction) === normalizeText(groundTruth);
}

/** DSPy's `f1_score`: token-overlap F1 of the normalized texts (0 when nothing overlaps). */
export function f1Score(prediction: string, groundTruth: string): number {
  return overlapF1(pySplit(normalizeText(prediction)), pySplit(normalizeText(groundTruth)));
}

/** DSPy's `hotpot_f1_score`: {@link f1Score}, but 0 whenever either side is `yes`/`no`/`noanswer` and they differ. */
export function hotpotF1Score(prediction: string, groundTruth: string): number {
  const p = normalizeText(prediction);
  const g = normalizeText(groundTruth);
  const special = ['yes', 'no', 'noanswer'];
  if ((special.includes(p) || special.includes(g)) && p !== g) return 0;
  return overlapF1(pySplit(p), pySplit(g));
}

/** DSPy's `EM`: whether `prediction` exactly matches (after normalization) any of `answers`. */
export function exactMatch(prediction: string, answers: string | readonly string[]): boolean {
  return answerList(answers, 'exactMatch').some((answer) => exactMatchScore(prediction, answer));
}

/** DSPy's `F1`: the best {@link f1Score} of `prediction` against any of `answers` (0 for no answers). */
export function f1(prediction: string, answers: string | readonly string[]): number {
  return Math.max(0, ...answerList(answers, 'f1').map((answer) => f1Score(prediction, answer)));
}

/** DSPy's `HotPotF1`: the best {@link hotpotF1Score} against any of `answers`. */
export function hotpotF1(prediction: string, answers: string | readonly string[]): number {
  return Math.max(0, ...answerList(answers, 'hotpotF1').map((answer) => hotpotF1Score(prediction, answer)));
}

/** Anything with fields: an `Example`, a `Prediction` or a plain object. */
export type FieldSource = object;

function field(source: FieldSource, name: string): unknown {
  const getter = (source as { get?: unknown }).get;
  if (typeof getter === 'function') return (getter as (key: string) => unknown).call(source, name);
  return (source as Record<string, unknown>)[name];
}

function labeledAnswers(example: FieldSource, metric: string): readonly string[] {
  const answer = field(example, 'answer');
  if (typeof answer === 'string') return [answer];
  if (Array.isArray(answer)) return answer.map(String);
  throw new DspyError(
    'invalid_argument',
    `${metric}: expected example.answer to be a string or a list of strings, found ${answer === null ? 'null' : typeof answer}.`,
  );
}

/** Options of {@link answerExactMatch}. */
export interface AnswerExactMatchOptions {
  /** Below 1, accept when the token F1 reaches `frac` instead of requiring an exact match. Default 1. */
  frac?: number;
}

/**
 * DSPy's `answer_exact_match`: whether `pred.answer` matches `example.answer` (a string or a list of accepted
 * answers) after {@link normalizeText}; with `frac < 1`, whether the best {@link f1} is at least `frac`.
 *
 * @example
 * ```ts
 * const evaluate = new Evaluate({ devset, metric: answerExactMatch });
 * ```
 */
export function answerExactMatch(
  example: FieldSource,
  pred: FieldSource,
  options: AnswerExactMatchOptions | unknown = {},
): boolean {
  const answers = labeledAnswers(example, 'answerExactMatch');
  const frac = (options as AnswerExactMatchOptions | undefined)?.frac ?? 1;
  const prediction = String(field(pred, 'answer') ?? '');
  return frac >= 1 ? exactMatch(prediction, answers) : f1(prediction, answers) >= frac;
}

// DPR's SimpleTokenizer: runs of letters/digits/marks, or any other single non-space, non-control character.
const DPR_TOKEN = /[\p{L}\p{N}\p{M}]+|[^\p{Z}\p{C}]/gu;

function dprTokens(text: string): string[] {
  return (text.normalize('NFD').match(DPR_TOKEN) ?? []).map((token) => token.toLowerCase());
}

/**
 * DSPy's `passage_has_answers` (DPR's `has_answer`): whether any answer occurs in `passage` as a run of whole
 * tokens, case-insensitively.
 */
export function passageHasAnswers(passage: string, answers: readonly string[]): boolean {
  const tokens = dprTokens(passage);
  return answers.some((answer) => {
    const needle = dprTokens(answer);
    if (needle.length === 0) return false;
    for (let i = 0; i + needle.length <= tokens.length; i++) {
      if (needle.every((token, j) => tokens[i + j] === token)) return true;
    }
    return false;
  });
}

/**
 * DSPy's `answer_passage_match`: whether any passage in `pred.context` contains `example.answer` (or one of the
 * accepted answers) as whole tokens.
 */
export function answerPassageMatch(example: FieldSource, pred: FieldSource): boolean {
  const answers = labeledAnswers(example, 'answerPassageMatch');
  const context = field(pred, 'context');
  const passages = Array.isArray(context)
    ? context.map(String)
    : context === undefined || context === null
      ? []
      : [String(context)];
  return passages.some((passage) => passageHasAnswers(passage, answers));
}
