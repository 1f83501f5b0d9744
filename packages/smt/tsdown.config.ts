import type { UserConfig } from 'tsdown';
import { packageConfig } from '../../tsdown.base.ts';

const main = packageConfig();

const configs: UserConfig[] = [
  main,
  // The browser entry: resolved with the browser conditions (gpu.js's own browser build) and self-contained, so
  // dist/browser.mjs loads from a plain <script type="module">. It shares `exports` with the main build, which
  // lets tsdown write one exports map holding both `.` and `./browser`.
  {
    ...main,
    entry: { browser: 'src/browser.ts' },
    platform: 'browser',
    target: 'es2022',
    // Platform 'browser' would otherwise name the file browser.js; .mjs matches the main build's output.
    fixedExtension: true,
    // Node built-ins reached through @dspy-ts/core's barrel (its state-file helpers) are tree-shaken away; marking
    // them external keeps the build quiet, and the browser test fails should one ever survive into the bundle.
    // Declarations keep importing their packages' own types rather than inlining them.
    deps: {
      alwaysBundle: ['gpu.js', '@dspy-ts/core'],
      neverBundle: [/^node:/],
      dts: { neverBundle: ['gpu.js', '@dspy-ts/core', 'zod'] },
    },
  },
];

export default configs;
