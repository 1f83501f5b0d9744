/**
 * The demo's task: templated story question answering in TinyStories style. Every story is generated from a
 * template, a few names, an object and a colour; the answer is always one of the names in the story. The splits
 * are drawn from disjoint name pools for the test set, so a model can only score on it by reading the story, not
 * by remembering which names were answers during training.
 *
 * @module
 */
import { Example } from '@dspy-ts/core';
import { mulberry32 } from '@dspy-ts/smt';

/** One generated question with its gold answer. */
export interface StoryQA {
  /** Two or three short sentences. */
  story: string;
  /** A "Who …?" question about the story. */
  question: string;
  /** The name that answers it. */
  answer: string;
  /** Which template produced it (for per-template breakdowns). */
  template: string;
}

/**
 * Real names used for training and development examples (made-up names are added, see {@link makeSplits}).
 * None starts with T, L or S, the initials of every held-out name, so the test cannot be passed by finishing a
 * familiar training name from its first letter.
 */
export const TRAIN_NAMES = [
  'Nick',
  'Jen',
  'Will',
  'Rose',
  'Beth',
  'Fred',
  'Paul',
  'Mary',
  'John',
  'Adam',
  'Noah',
  'Emma',
  'Owen',
  'Ruby',
  'Jade',
  'Finn',
  'Ivy',
  'Nina',
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
  'Olly',
  'Pete',
  'Quin',
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
  'Jill',
  'Pam',
  'Ella',
  'Dan',
  'Kim',
  'Roy',
  'Mom',
  'Dad',
  'Ben',
  'Max',
  'Mia',
  'Anna',
  'Jack',
  'Kate',
  'Bob',
  'Amy',
  'Zoe',
] as const;

/** Names that never occur in training or development examples: the test split uses only these. */
export const HELD_OUT_NAMES = [
  'Lily',
  'Tim',
  'Sue',
  'Tom',
  'Sam',
  'Lucy',
  'Sara',
  'Ted',
  'Leo',
  'Tina',
  'Lisa',
  'Sid',
  'Tara',
  'Luke',
  'Tess',
  'Lena',
] as const;

const OBJECTS = ['ball', 'kite', 'doll', 'book', 'hat', 'cake', 'box', 'toy car', 'cup', 'bike'] as const;
const COLOURS = ['red', 'blue', 'green', 'yellow', 'big', 'little', 'pink', 'shiny'] as const;

type Pick = <T>(items: readonly T[]) => T;

/** The templates: each takes distinct names, an object and a colour and returns a story, question and answer. */
const TEMPLATES: Record<string, (names: string[], object: string, colour: string) => Omit<StoryQA, 'template'>> = {
  // The receiver of a gift.
  gave: ([a, b], object, colour) => ({
    story: `${a} had a ${colour} ${object}. ${a} gave the ${object} to ${b}.`,
    question: `Who has the ${object} now?`,
    answer: b as string,
  }),
  // The giver: same story shape, other question.
  giver: ([a, b], object, colour) => ({
    story: `${a} had a ${colour} ${object}. ${a} gave the ${object} to ${b}.`,
    question: `Who gave the ${object} away?`,
    answer: a as string,
  }),
  // A finder among two children: the answer is the first name or the second, depending on who found it.
  found: ([a, b], object, colour) => ({
    story: `${a} and ${b} went to the park. ${b} found a ${colour} ${object}.`,
    question: `Who found the ${object}?`,
    answer: b as string,
  }),
  // Two hand-overs: the last receiver has it.
  chain: ([a, b, c], object, colour) => ({
    story: `${a} had a ${colour} ${object}. ${a} gave it to ${b}. Then ${b} gave it to ${c}.`,
    question: `Who has the ${object} now?`,
    answer: c as string,
  }),
};

/** The template names, in a fixed order. */
export const TEMPLATE_NAMES = Object.keys(TEMPLATES);

/**
 * Generates `count` distinct questions from `names` (at least three), cycling through the templates so each is
 * equally represented. Deterministic for a given seed; `exclude` holds `story|question` keys that must not be
 * produced (so splits drawn from the same pool never overlap).
 */
export function generateStoryQA(
  count: number,
  names: readonly string[],
  seed: number,
  exclude: ReadonlySet<string> = new Set(),
): StoryQA[] {
  if (names.length < 3) throw new Error(`generateStoryQA needs at least 3 names, got ${names.length}.`);
  const rng = mulberry32(seed);
  const pick: Pick = (items) => items[Math.floor(rng() * items.length)] as (typeof items)[number];
  const out: StoryQA[] = [];
  const seen = new Set(exclude);
  let attempts = 0;
  while (out.length < count) {
    if (++attempts > count * 1000) throw new Error(`Could not generate ${count} distinct stories from these names.`);
    const template = TEMPLATE_NAMES[out.length % TEMPLATE_NAMES.length] as string;
    const chosen: string[] = [];
    while (chosen.length < 3) {
      const name = pick(names);
      if (!chosen.includes(name)) chosen.push(name);
    }
    const qa = (TEMPLATES[template] as (typeof TEMPLATES)[string])(chosen, pick(OBJECTS), pick(COLOURS));
    const key = `${qa.story}|${qa.question}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ ...qa, template });
  }
  return out;
}

/** The three splits of the demo, as dspy-ts examples with `story` and `question` as inputs. */
export interface StoryQASplits {
  /** Training examples (training names). */
  train: Example[];
  /** Development examples: training names, stories not in `train`. */
  dev: Example[];
  /** Test examples: held-out names only. */
  test: Example[];
}

/** Turns generated questions into examples whose inputs are `story` and `question`. */
export function toExamples(items: readonly StoryQA[]): Example[] {
  return items.map((item) => new Example({ ...item }).withInputs('story', 'question'));
}

/** Sizes and generation settings of {@link makeSplits}. */
export interface SplitOptions {
  /** Training examples. */
  train: number;
  /** Development examples (training name pool, stories not in `train`). */
  dev: number;
  /** Test examples (held-out names only). */
  test: number;
  /**
   * Made-up names added to the training pool (default 1500). With thousands of distinct names a model cannot
   * memorise which names answer; it has to learn to copy the right name from the story, which is what transfers
   * to the held-out names.
   */
  syntheticNames?: number;
  /** Seed (default 2024). */
  seed?: number;
}

/** Generates the train/dev/test splits (test with {@link HELD_OUT_NAMES} only); deterministic for a given seed. */
export function makeSplits(options: SplitOptions): StoryQASplits {
  const seed = options.seed ?? 2024;
  const pool = [...TRAIN_NAMES, ...syntheticNames(options.syntheticNames ?? 1500, seed + 9)];
  const train = generateStoryQA(options.train, pool, seed);
  const used = new Set(train.map((q) => `${q.story}|${q.question}`));
  const dev = generateStoryQA(options.dev, pool, seed + 1, used);
  const test = generateStoryQA(options.test, HELD_OUT_NAMES, seed + 2);
  return { train: toExamples(train), dev: toExamples(dev), test: toExamples(test) };
}

/**
 * Made-up names of one or two syllables (capitalised, e.g. `Vamur`, `Zomi`), never a held-out name.
 * Deterministic per seed.
 */
export function syntheticNames(count: number, seed: number): string[] {
  const rng = mulberry32(seed);
  const consonants = 'bdfgklmnprstvz';
  const vowels = 'aeiou';
  const c = () => consonants[Math.floor(rng() * consonants.length)] as string;
  const v = () => vowels[Math.floor(rng() * vowels.length)] as string;
  const out = new Set<string>();
  const heldOut = new Set<string>(HELD_OUT_NAMES);
  while (out.size < count) {
    const syllables = 1 + Math.floor(rng() * 2);
    let name = '';
    for (let i = 0; i < syllables; i++) name += c() + v();
    if (rng() < 0.5) name += c();
    name = name.charAt(0).toUpperCase() + name.slice(1);
    if (!heldOut.has(name)) out.add(name);
  }
  return [...out];
}
