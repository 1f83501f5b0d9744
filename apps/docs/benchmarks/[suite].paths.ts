import { benchSuites } from '../.vitepress/bench-suites.ts';

/** One page per benchmark suite under `bench/` (see `.vitepress/bench-suites.ts`). */
export default {
  watch: ['../../../bench/*/README.md', '../../../bench/*/RESULTS.md'],
  paths() {
    return benchSuites().map((suite) => ({
      params: { suite: suite.slug, title: suite.title },
      content: suite.content,
    }));
  },
};
