/**
 * The templated story-QA task of the SMT experiment (spec §7.1, task 1): two-sentence TinyStories-style stories
 * about two people and an object, a "Who …?" question, and a one-name answer. Four templates ask for the first
 * or the second name, so the answer depends on reading the story and the question, never on the template alone.
 *
 * Train, validation and test draw their names from three disjoint pools, so validation and test accuracy measure
 * whether the model learned to read the answer out of the story (names it never saw as answers), not to
 * remember names. Objects and colours are shared across splits.
 *
 * Deterministic: the same seed gives the same examples.
 *
 * @module
 */

import { mulberry32, type TrainingExample } from '@dspy-ts/smt';

/** The subset of the tokenizer this module uses. */
export interface TaskTokenizer {
  encode(text: string, options?: { bos?: boolean; eos?: boolean; dummyPrefix?: boolean }): number[];
  readonly eosId: number;
}

/** One generated question. */
export interface StoryQuestion {
  /** Story and question, ending in "Answer:"; the model continues with " <name>". */
  prompt: string;
  /** The gold name. */
  answer: string;
  /** Template id. */
  template: string;
}

/**
 * Names of the training split. Almost every name is several tokens in tok512 (only Lily, Tim and Timmy are single
 * tokens), so answering for an unseen name means copying a multi-token span out of the story. A large pool keeps
 * memorising the answers harder than reading them.
 */
export const TRAIN_NAMES = [
  'Tim',
  'Sue',
  'Lily',
  'Ben',
  'Tom',
  'Anna',
  'Max',
  'Sam',
  'Mia',
  'Jack',
  'Lucy',
  'Bob',
  'Amy',
  'Sara',
  'Zoe',
  'Kim',
  'Joe',
  'Jane',
  'Mark',
  'Ella',
  'Dan',
  'Lisa',
  'Jim',
  'Kate',
  'Nick',
  'Jen',
  'Beth',
  'Mary',
  'John',
  'Noah',
  'Owen',
  'Finn',
  'Ivy',
  'Rita',
  'Hugo',
  'Otto',
  'Ada',
  'Gus',
  'Hank',
  'Iris',
  'Jon',
  'Kai',
  'Milo',
  'Nora',
  'Rex',
  'Uma',
  'Vic',
  'Wes',
  'Yara',
  'Zack',
  'Abby',
  'Bill',
  'Cody',
  'Dina',
  'Eli',
  'Fay',
  'Gina',
  'Hal',
  'Ida',
  'Jay',
  'Kit',
  'Mona',
  'Ned',
  'Ola',
  'Pia',
  'Rob',
  'Val',
  'Walt',
  'Tess',
  'Luke',
  'Ray',
  'Cara',
] as const;
/** Real names held out from training (not used by {@link makeSplits}'s splits; kept for ad-hoc checks). */
export const VAL_NAMES = [
  'Mike',
  'Nina',
  'Leo',
  'Rose',
  'Fred',
  'Emma',
  'Paul',
  'Molly',
  'Lena',
  'Dora',
  'Seth',
  'Gwen',
] as const;
/** Names of the test split (held out from training and from model selection). */
export const TEST_NAMES = [
  'Jill',
  'Pete',
  'Ruby',
  'Adam',
  'Grace',
  'Will',
  'Ann',
  'Billy',
  'Tara',
  'Cole',
  'Lola',
  'Dave',
  'Rosa',
  'Matt',
  'Nell',
  'Toby',
] as const;

const OBJECTS = ['ball', 'kite', 'hat', 'toy', 'book', 'cup', 'box', 'car', 'doll', 'bike'] as const;
const COLOURS = ['red', 'blue', 'green', 'big', 'small', 'yellow', 'pink', 'new'] as const;

type Template = (a: string, b: string, colour: string, object: string) => { text: string; answer: string };

const TEMPLATES: Record<string, Template> = {
  'gave-now': (a, b, c, o) => ({
    text: `${a} had a ${c} ${o}. ${a} gave the ${o} to ${b}. Who has the ${o} now?`,
    answer: b,
  }),
  'gave-first': (a, b, c, o) => ({
    text: `${a} had a ${c} ${o}. ${a} gave the ${o} to ${b}. Who had the ${o} first?`,
    answer: a,
  }),
  found: (a, b, c, o) => ({
    text: `${a} lost a ${c} ${o}. ${b} found the ${o}. Who found the ${o}?`,
    answer: b,
  }),
  lost: (a, b, c, o) => ({
    text: `${a} lost a ${c} ${o}. ${b} found the ${o}. Who lost the ${o}?`,
    answer: a,
  }),
};

/** Template ids, in a fixed order. */
export const TEMPLATE_IDS = Object.keys(TEMPLATES);

/** `count` questions with names from `names`, templates cycled evenly, everything else drawn from `seed`. */
export function generateQuestions(names: readonly string[], count: number, seed: number): StoryQuestion[] {
  const rand = mulberry32(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const out: StoryQuestion[] = [];
  for (let i = 0; i < count; i++) {
    const template = TEMPLATE_IDS[i % TEMPLATE_IDS.length]!;
    const a = pick(names);
    let b = pick(names);
    while (b === a) b = pick(names);
    const { text, answer } = TEMPLATES[template]!(a, b, pick(COLOURS), pick(OBJECTS));
    out.push({ prompt: `${text} Answer:`, answer, template });
  }
  return out;
}

/**
 * `count` made-up one-syllable names (such as "Bo", "Kam" or "Tez"), distinct and disjoint
 * from `exclude`. Training on a large pool of such names makes copying the name out of the story the only way to
 * fit the data; memorising a few dozen answers no longer works.
 */
export function syntheticNames(count: number, seed: number, exclude: readonly string[] = []): string[] {
  const rand = mulberry32(seed);
  const C = 'bdfghklmnprstvz';
  const V = 'aeiou';
  const pick = (s: string) => s[Math.floor(rand() * s.length)]!;
  const seen = new Set(exclude.map((n) => n.toLowerCase()));
  const out: string[] = [];
  while (out.length < count) {
    // One syllable, consonant-vowel plus usually a final consonant: "Bo", "Kam", "Tez" (1 to 3 tokens).
    let name = pick(C) + pick(V);
    if (rand() < 0.8) name += pick(C);
    if (seen.has(name)) continue;
    seen.add(name);
    out.push(name[0]!.toUpperCase() + name.slice(1));
  }
  return out;
}

/**
 * The splits. Training names: {@link TRAIN_NAMES} plus `syntheticTrainNames` made-up names, so almost every
 * training story has names seen once or twice and the task can only be fitted by copying the name out of the
 * story. `val` and `test` use two further pools of made-up names (never in training; same distribution);
 * `testReal` uses the real names of {@link TEST_NAMES} (never in training; a distribution shift, since real names
 * have letter patterns the made-up ones lack). Seeds are fixed so every method sees the same data.
 */
export function makeSplits(
  sizes: { train: number; val: number; test: number; testReal: number },
  syntheticTrainNames = 600,
) {
  const real = [...TRAIN_NAMES, ...VAL_NAMES, ...TEST_NAMES];
  const made = syntheticNames(syntheticTrainNames + 120, 4004, real);
  const trainNames = [...TRAIN_NAMES, ...made.slice(0, syntheticTrainNames)];
  return {
    train: generateQuestions(trainNames, sizes.train, 1001),
    val: generateQuestions(made.slice(syntheticTrainNames, syntheticTrainNames + 40), sizes.val, 2002),
    test: generateQuestions(made.slice(syntheticTrainNames + 40), sizes.test, 3003),
    testReal: generateQuestions(TEST_NAMES, sizes.testReal, 5005),
  };
}

/** Prompt tokens (BOS first) of a question. */
export function promptTokens(q: StoryQuestion, tokenizer: TaskTokenizer): number[] {
  return tokenizer.encode(q.prompt, { bos: true });
}

/**
 * A training example: prompt, then " <answer>" encoded as a continuation, then EOS. Only the answer tokens and
 * EOS count towards the loss (the prompt is masked out, as SMT's recipe does).
 */
export function toExample(q: StoryQuestion, tokenizer: TaskTokenizer): TrainingExample {
  const prompt = promptTokens(q, tokenizer);
  const answer = [...tokenizer.encode(` ${q.answer}`, { bos: false, dummyPrefix: false }), tokenizer.eosId];
  return {
    tokens: [...prompt, ...answer],
    lossMask: [...new Array<number>(prompt.length).fill(0), ...new Array<number>(answer.length).fill(1)],
  };
}
