import { configure } from '@dspy-ts/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CORPUS, KeywordRetriever, MultiHop, runMultihop, scriptedMultihopLM } from './hotpotqa-multihop.ts';

beforeEach(() => {
  vi.spyOn(console, 'info').mockImplementation(() => {});
});
afterEach(() => {
  vi.restoreAllMocks();
  configure({ lm: undefined, rm: undefined });
});

describe('multi-hop HotPotQA example', () => {
  it('ranks passages by shared keywords', async () => {
    const hits = await new KeywordRetriever(CORPUS).retrieve('Galesville city state', { k: 2 });
    expect(hits.map((h) => h.text.split(' | ')[0])).toEqual(['Galesville, Wisconsin', 'San Francisco']);
  });

  it('answers every question with two hops and none with one', async () => {
    const lm = scriptedMultihopLM();
    expect(await runMultihop({ lm })).toEqual({ answer: 100, passage: 100 });
    // Two query writers and one answer writer per question, for each of the two evaluations.
    expect(lm.calls).toHaveLength(3 * 3 * 2);
    expect(await runMultihop({ lm: scriptedMultihopLM(), hops: 1 })).toEqual({ answer: 0, passage: 0 });
  });

  it('builds the second query from what the first hop retrieved', async () => {
    const lm = scriptedMultihopLM();
    configure({ lm, rm: new KeywordRetriever(CORPUS) });
    const program = new MultiHop();
    const prediction = await program.call({
      question: 'In which state was the director of Rebel Without a Cause born?',
    });
    expect(prediction.answer).toBe('Wisconsin');
    const queries = lm.calls
      .slice(0, 2)
      .map((c) => /search_query ## \]\]\n(.*)/.exec(c.response.choices[0]?.text ?? '')?.[1]);
    expect(queries).toEqual(['director of Rebel Without a Cause', 'where is Galesville']);
    expect(prediction.context).toContain(CORPUS[3]);
    expect(program.namedPredictors().map(([name]) => name)).toEqual([
      'generateQuery[0].predict',
      'generateQuery[1].predict',
      'generateAnswer.predict',
    ]);
  });
});
