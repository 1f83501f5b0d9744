import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildPackages, type PackedPackage, packPackages } from '../src/pack.ts';
import { releasablePackages } from '../src/workspace.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A scratch folder outside the workspace (tarballs, unpacked packages, consumer projects). */
    workDir: string;
    /** Every releasable package, built and packed. */
    packed: PackedPackage[];
  }
}

/**
 * Builds every releasable package, packs it and unpacks the tarball once for all test files. The scratch folder
 * lives under the OS temp dir, outside the workspace, so npm never mistakes a consumer project for a workspace
 * member; set `DSPY_TS_KEEP_PACKAGING=1` to keep it for inspection.
 */
export default async function setup(project: TestProject) {
  const workDir = mkdtempSync(join(tmpdir(), 'dspy-ts-packaging-'));
  const packages = releasablePackages();
  await buildPackages(packages);
  const packed = await packPackages(packages, workDir);
  project.provide('workDir', workDir);
  project.provide('packed', packed);
  return () => {
    if (process.env.DSPY_TS_KEEP_PACKAGING) console.log(`packaging scratch folder kept at ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  };
}
