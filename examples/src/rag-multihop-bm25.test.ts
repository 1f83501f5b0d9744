import { BM25Retriever } from '@dspy-ts/retrieval';
import { describe, expect, it } from 'vitest';
import { generateWorld, runMultiHopExample, scriptedMultiHopLM } from './rag-multihop-bm25.ts';

describe('multi-hop RAG over BM25', () => {
  it('generates a world where no single passage answers a question', async () => {
    const { corpus, questions } = generateWorld();
    expect(questions.length).toBeGreaterThan(10);
    for (const { question, answer } of questions) {
      const person = /was (\w+ \w+) born/.exec(question)![1]!;
      expect(corpus.some((p) => p.text.includes(person) && p.text.includes(answer))).toBe(false);
    }
  });

  it('answers every two-hop question with two hops, and far fewer with one', async () => {
    const lm = scriptedMultiHopLM();
    const twoHops = await runMultiHopExample({ lm });
    expect(twoHops.accuracy).toBe(1);
    // 2 query writers + 1 answer per question.
    expect(lm.calls).toHaveLength(3 * twoHops.results.length);
    const secondQuery = lm.calls[1]!.response.choices[0]!.text;
    expect(secondQuery).toMatch(/\[\[ ## search_query ## \]\]\n\w+ city country/);

    const oneHop = await runMultiHopExample({ hops: 1 });
    expect(oneHop.accuracy).toBeLessThan(0.5);
  });

  it('retrieves the birthplace passage first and the country passage on the follow-up query', async () => {
    const { corpus } = generateWorld();
    const bm25 = new BM25Retriever(corpus, { k: 3 });
    const first = await bm25.retrieve('Ilse Marrow born');
    expect(first[0]!.text).toMatch(/^Ilse Marrow was born in \w+\.$/);
    const city = /born in (\w+)/.exec(first[0]!.text)![1]!;
    const second = await bm25.retrieve(`${city} city country`);
    expect(second.map((p) => p.text)).toContain(corpus.find((p) => p.text.startsWith(`${city} is a city in`))!.text);
  });
});
