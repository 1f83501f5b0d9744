import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DefaultTheme, defineConfig } from 'vitepress';
import { benchSuites } from './bench-suites.ts';

const docsDir = dirname(dirname(fileURLToPath(import.meta.url)));

interface ApiPackage {
  text: string;
  link: string;
  items?: DefaultTheme.SidebarItem[];
}

/**
 * The API sidebars, from the sidebar typedoc-vitepress-theme writes (`npm run docs:api`): every page of the
 * reference lists all packages, and a package's pages also list that package's modules and members. (One sidebar
 * holding every member of every package would put ~700 links on each page.)
 */
function apiSidebars(): DefaultTheme.SidebarMulti {
  const file = join(docsDir, 'api', 'typedoc-sidebar.json');
  if (!existsSync(file)) {
    throw new Error('The API reference has not been generated: run `npm run docs:api` (or `npm run docs`) first.');
  }
  const packages = JSON.parse(readFileSync(file, 'utf8')) as ApiPackage[];
  const overview: DefaultTheme.SidebarItem = {
    text: 'API reference',
    link: '/api/',
    items: packages.map(({ text, link }) => ({ text, link })),
  };
  return {
    '/api/': [overview],
    ...Object.fromEntries(
      packages.map((pkg) => [pkg.link, [overview, { text: pkg.text, link: pkg.link, items: pkg.items ?? [] }]]),
    ),
  };
}

const guide: DefaultTheme.SidebarItem[] = [
  {
    text: 'Introduction',
    items: [
      { text: 'Getting started', link: '/guide/getting-started' },
      { text: 'Coming from Python DSPy', link: '/guide/from-python' },
    ],
  },
  {
    text: '@dspy-ts/core',
    items: [
      { text: 'Signatures and types', link: '/guide/signatures' },
      { text: 'Modules', link: '/guide/modules' },
      { text: 'Adapters and prompts', link: '/guide/adapters' },
      { text: 'Evaluation', link: '/guide/evaluation' },
      { text: 'Saving and loading', link: '/guide/saving-loading' },
      { text: 'Testing programs', link: '/guide/testing' },
    ],
  },
  {
    text: '@dspy-ts/lm-adapters',
    items: [
      { text: 'LM providers', link: '/guide/lm-providers' },
      { text: 'Caching, retries and cost', link: '/guide/caching-cost' },
    ],
  },
  { text: '@dspy-ts/optimizers', items: [{ text: 'Optimizers', link: '/guide/optimizers' }] },
  { text: '@dspy-ts/retrieval', items: [{ text: 'Retrieval', link: '/guide/retrieval' }] },
  {
    text: '@dspy-ts/smt',
    items: [
      { text: 'Local models', link: '/guide/local-models' },
      { text: 'Fine-tuning', link: '/guide/fine-tuning' },
      { text: 'Tensor kernels', link: '/guide/kernels' },
    ],
  },
];

const benchmarks: DefaultTheme.SidebarItem[] = [
  {
    text: 'Benchmarks',
    link: '/benchmarks/',
    items: benchSuites().map((suite) => ({ text: suite.title, link: `/benchmarks/${suite.slug}` })),
  },
];

export default defineConfig({
  title: 'dspy-ts',
  description:
    'Programming, not prompting, for TypeScript — DSPy for TypeScript, from declarative LM programs to tuned local weights.',
  lang: 'en-US',
  head: [['link', { rel: 'icon', type: 'image/svg+xml', href: '/logo.svg' }]],
  srcExclude: ['snippets/**', 'scripts/**', 'test/**', 'screenshots/**', '**/node_modules/**'],
  lastUpdated: false,
  cleanUrls: false,
  markdown: { lineNumbers: false },
  // The local search index of ~450 API pages is one chunk; it is loaded only when search opens.
  vite: { build: { chunkSizeWarningLimit: 4096 } },
  themeConfig: {
    nav: [
      { text: 'Guide', link: '/guide/getting-started', activeMatch: '/guide/' },
      { text: 'From Python DSPy', link: '/guide/from-python' },
      { text: 'API', link: '/api/', activeMatch: '/api/' },
      { text: 'Benchmarks', link: '/benchmarks/', activeMatch: '/benchmarks/' },
    ],
    sidebar: { '/guide/': guide, '/benchmarks/': benchmarks, ...apiSidebars() },
    logo: '/logo.svg',
    search: { provider: 'local' },
    outline: { level: [2, 3] },
    footer: { message: 'MIT licensed. The API reference is generated from the packages’ JSDoc.' },
  },
});
