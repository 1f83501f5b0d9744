import { type BenchSuite, benchSuites } from '../.vitepress/bench-suites.ts';

/** The suite list for the Benchmarks overview page. */
export type SuiteSummary = Pick<BenchSuite, 'slug' | 'title' | 'hasResults'>;

declare const data: SuiteSummary[];

export { data };

export default {
  watch: ['../../../bench/*/README.md', '../../../bench/*/RESULTS.md'],
  load(): SuiteSummary[] {
    return benchSuites().map(({ slug, title, hasResults }) => ({ slug, title, hasResults }));
  },
};
