import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allWorkspaceManifests, describeRun, type RunResult, repoRoot, run, toolEnv } from '../src/workspace.ts';

/** What `changeset status --output` writes (the release plan). */
interface ReleasePlan {
  changesets: { id: string; summary: string; releases: { name: string; type: string }[] }[];
  releases: { name: string; type: 'major' | 'minor' | 'patch' | 'none'; oldVersion: string; newVersion: string }[];
}

const config = JSON.parse(readFileSync(join(repoRoot, '.changeset', 'config.json'), 'utf8')) as {
  baseBranch: string;
  ignore: string[];
};

/**
 * `changeset status` diffs the working tree against where HEAD left `baseBranch`. On `main` itself (or a branch
 * cut from it) the local branch exists and the plain command is right: it reads every pending changeset from disk.
 * In a CI checkout without a local `main`, compare with the remote-tracking branch instead.
 */
async function statusArgs(): Promise<string[]> {
  const env = toolEnv();
  const hasRef = async (ref: string) =>
    (await run('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: repoRoot, env })).code === 0;
  if (await hasRef(config.baseBranch)) return [];
  if (await hasRef(`origin/${config.baseBranch}`)) return [`--since=origin/${config.baseBranch}`];
  throw new Error(
    `Neither ${config.baseBranch} nor origin/${config.baseBranch} exists; fetch it (git fetch origin ${config.baseBranch}:${config.baseBranch}) so changesets can tell what changed.`,
  );
}

describe('changesets', () => {
  let scratch: string;
  let result: RunResult;
  let plan: ReleasePlan;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'dspy-ts-changesets-'));
    const output = join(scratch, 'status.json');
    result = await run(
      join(repoRoot, 'node_modules', '.bin', 'changeset'),
      ['status', ...(await statusArgs()), `--output=${output}`],
      { cwd: repoRoot, env: toolEnv() },
    );
    if (result.code === 0) plan = JSON.parse(readFileSync(output, 'utf8')) as ReleasePlan;
  });

  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('`changeset status` passes: every changed package is covered by a pending changeset', () => {
    expect(result.code, describeRun(result)).toBe(0);
  });

  it('bumps only published packages; private and ignored workspaces at most get their ranges updated', () => {
    const unpublished = new Set([
      ...allWorkspaceManifests()
        .filter((m) => m.private)
        .map((m) => m.name),
      ...config.ignore,
    ]);
    const wrongly = plan.releases.filter((r) => unpublished.has(r.name) && r.type !== 'none');
    expect(wrongly).toEqual([]);
  });

  it('releases every package that was never published, as a minor first release named in its own changeset', () => {
    const neverReleased = allWorkspaceManifests().filter((m) => !m.private && m.version === '0.0.0');
    for (const { name } of neverReleased) {
      const release = plan.releases.find((r) => r.name === name);
      expect(release, `${name} has no pending changeset`).toMatchObject({ type: 'minor', newVersion: '0.1.0' });
      const own = plan.changesets.filter((c) => c.releases.some((r) => r.name === name && r.type === 'minor'));
      expect(own.length, `a changeset describing ${name}'s first release`).toBeGreaterThan(0);
    }
  });

  it('describes every release for users (changesets that bump something carry a summary)', () => {
    // `changeset add --empty` files (no releases, no text) are how a change says it needs no release.
    for (const changeset of plan.changesets.filter((c) => c.releases.length > 0)) {
      expect(changeset.summary.trim(), `${changeset.id} has no summary`).not.toBe('');
    }
  });
});
