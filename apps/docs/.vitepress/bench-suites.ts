/**
 * Reads the benchmark suites under `bench/` at build time, so the Benchmarks pages publish each suite's own
 * README (what is measured, the command that reproduces it) and RESULTS.md (the measured figures) without
 * retyping a number. A suite appears once it has a README.md; its results once RESULTS.md exists.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's `bench/` folder. */
export const benchDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench');

/** One benchmark suite, as published on its page. */
export interface BenchSuite {
  /** Folder name under `bench/`, used as the page slug. */
  slug: string;
  /** The README's first heading. */
  title: string;
  /** Whether `RESULTS.md` exists. */
  hasResults: boolean;
  /** The page body (Markdown). */
  content: string;
}

function splitTitle(markdown: string): { title: string | undefined; body: string } {
  const match = /^#\s+(.+)\r?\n/m.exec(markdown);
  if (!match || markdown.slice(0, match.index).trim() !== '') return { title: undefined, body: markdown };
  return { title: match[1]?.trim(), body: markdown.slice(match.index + match[0].length) };
}

/**
 * Makes a file from `bench/<slug>/` fit its docs page: `RESULTS.md` links become an anchor to the results
 * section, links to SVG plots next to the README become the plot itself (inlined as a data URI, so the figure
 * on the page is the one the benchmark wrote), and other relative links (source files) become plain code, since
 * the site does not serve the repository's files.
 */
function rewriteLinks(markdown: string, slug: string): string {
  return markdown.replace(/\[([^\]]+)\]\((?!https?:|#|mailto:)([^)\s]+)\)/g, (_, text: string, target: string) => {
    if (/(^|\/)RESULTS\.md$/.test(target)) return `[${text}](#results)`;
    const plot = join(benchDir, slug, target);
    if (target.endsWith('.svg') && existsSync(plot)) {
      const data = readFileSync(plot).toString('base64');
      // Raw HTML: markdown-it refuses `data:image/svg+xml` URLs in Markdown image syntax.
      const alt = text.replaceAll('`', '').replaceAll('"', '&quot;');
      return `\n\n<img class="bench-plot" alt="${alt}" src="data:image/svg+xml;base64,${data}">\n\n`;
    }
    return text.startsWith('`') ? text : `\`${text}\``;
  });
}

function demoteHeadings(markdown: string): string {
  let inFence = false;
  return markdown
    .split('\n')
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
      return !inFence && /^#{1,5}\s/.test(line) ? `#${line}` : line;
    })
    .join('\n');
}

/** Every suite under `bench/` that has a README.md, sorted by folder name. */
export function benchSuites(): BenchSuite[] {
  if (!existsSync(benchDir)) return [];
  return readdirSync(benchDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(benchDir, entry.name, 'README.md')))
    .map((entry) => entry.name)
    .sort()
    .map((slug) => {
      const readme = splitTitle(readFileSync(join(benchDir, slug, 'README.md'), 'utf8'));
      const resultsPath = join(benchDir, slug, 'RESULTS.md');
      const hasResults = existsSync(resultsPath);
      const results = hasResults ? splitTitle(readFileSync(resultsPath, 'utf8')).body : undefined;
      const title = readme.title ?? slug;
      const content = [
        `# ${title}`,
        '',
        `<p class="bench-source">From <code>bench/${slug}/README.md</code>${hasResults ? ` and <code>bench/${slug}/RESULTS.md</code>` : ''}, included when the site is built.</p>`,
        '',
        '::: v-pre',
        rewriteLinks(readme.body, slug).trim(),
        ':::',
        '',
        '## Results',
        '',
        hasResults
          ? `::: v-pre\n${demoteHeadings(rewriteLinks(results ?? '', slug)).trim()}\n:::`
          : `::: info No results recorded yet\nThis suite has no \`bench/${slug}/RESULTS.md\` yet; run the command above to measure it on your machine.\n:::`,
        '',
      ].join('\n');
      return { slug, title, hasResults, content };
    });
}
