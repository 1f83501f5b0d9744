import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `apps/docs`. */
export const docsDir = dirname(dirname(fileURLToPath(import.meta.url)));
/** The repository root. */
export const repoDir = join(docsDir, '..', '..');
/** The built site. */
export const distDir = join(docsDir, '.vitepress', 'dist');
