import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_DUMP, DEMO_KEYS, runCli, tempDir } from '../helpers/cli.ts';

/** The demo's mailing-list copy: its author's signature broken by the list, which ARC-sealed it as lists.example. */
const LIST_COPY = 'lists/2019-03-05 [team] Release checklist.eml';

describe('verify --trust-arc-sealer', () => {
  const tmp = tempDir();
  const db = join(tmp.path, 'demo.db');
  afterAll(() => tmp.cleanup());

  const verify = (...extra: string[]) => {
    const run = runCli(['verify', DEMO_DUMP, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet', ...extra]);
    expect(run.status, run.stderr).toBe(0);
  };
  const listCopy = (): { verdict: string; reasons: string[]; findings: Array<{ code: string }> } => {
    const exported = runCli(['export', '--format', 'jsonl', '--db', db]);
    const rows = exported.stdout.trim().split('\n').map((l) => JSON.parse(l) as { path: string; verdict: string; reasons: string[]; findings: Array<{ code: string }> });
    return rows.find((r) => r.path === LIST_COPY)!;
  };
  const lastRunOptions = (): Record<string, unknown> => {
    const store = new Database(db, { readonly: true });
    try {
      return JSON.parse((store.prepare('SELECT options_json FROM runs ORDER BY id DESC LIMIT 1').get() as { options_json: string }).options_json);
    } finally {
      store.close();
    }
  };

  it('a list server the user vouches for explains the failure; without it the failure is suspicious; each run re-judges', () => {
    verify();
    expect(listCopy()).toMatchObject({ verdict: 'suspicious', reasons: ['dkim-body-modified'] });
    expect(listCopy().findings.map((f) => f.code)).toContain('arc-sealer-not-trusted');
    expect(lastRunOptions()).not.toHaveProperty('trustedArcSealers');

    // Same files, same keys: only the option differs, and the stored verdict must follow it.
    verify('--trust-arc-sealer', 'Lists.Example.');
    expect(listCopy()).toMatchObject({ verdict: 'unverifiable' });
    expect(listCopy().findings.map((f) => f.code)).toContain('dkim-broken-by-intermediary');
    expect(lastRunOptions()).toMatchObject({ trustedArcSealers: ['lists.example'] });

    verify();
    expect(listCopy()).toMatchObject({ verdict: 'suspicious' });
  });

  it('a value that is not a domain name is a usage error', () => {
    const run = runCli(['verify', DEMO_DUMP, '--offline', '--db', join(tmp.path, 'x.db'), '--trust-arc-sealer', 'not a domain']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/"not a domain" is not a domain name/);
  });
});
