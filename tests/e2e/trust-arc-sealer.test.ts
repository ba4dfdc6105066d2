import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parseKeyRecord } from '../../src/keys/parse-key.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_DUMP, DEMO_KEYS, runCli, tempDir } from '../helpers/cli.ts';
import { exportRows } from '../helpers/in-process.ts';

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
    const rows = exportRows<{ path: string; verdict: string; reasons: string[]; findings: Array<{ code: string }> }>(db);
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

  // Red team 28, H-05 and H-06: a colleague's key file holds another key under the list's ARC
  // selector. Given first, it made the chain fail and the copy suspicious; and a chain that passed
  // did not say which record validated it.
  it('the verdict does not depend on the order of the key files, and the chain names the record that validated it', () => {
    const keys = JSON.parse(readFileSync(DEMO_KEYS, 'utf8')) as Record<string, string[]>;
    const colleague = join(tmp.path, 'colleague.json');
    writeFileSync(colleague, JSON.stringify({ 'arc._domainkey.lists.example': keys['esp._domainkey.mailer.example'] }));
    const shown = (keyFiles: string[]) => {
      const store = join(tmp.path, `order-${keyFiles.map((f) => f.length).join('-')}.db`);
      const run = runCli(['verify', DEMO_DUMP, ...keyFiles.flatMap((f) => ['--keys', f]), '--offline', '--db', store, '--quiet', '--trust-arc-sealer', 'lists.example']);
      expect(run.status, run.stderr).toBe(0);
      const json = runCli(['show', LIST_COPY, '--db', store, '--json']);
      const text = runCli(['show', LIST_COPY, '--db', store]);
      const exported = exportRows<{ path: string; arc: unknown }>(store);
      return {
        record: JSON.parse(json.stdout) as { verdict: string; reasons: string[]; arc: { result: string; instances: Array<Record<string, { origin: string; fingerprint: string; name: string }>> } },
        text: text.stdout,
        exported: exported.find((row) => row.path === LIST_COPY)!.arc,
      };
    };
    const demoFirst = shown([DEMO_KEYS, colleague]);
    const colleagueFirst = shown([colleague, DEMO_KEYS]);
    const genuine = parseKeyRecord(keys['arc._domainkey.lists.example']![0]!).fingerprint;
    for (const { record, text, exported } of [demoFirst, colleagueFirst]) {
      expect(record).toMatchObject({ verdict: 'unverifiable', arc: { result: 'pass' } });
      expect(record.reasons).toContain('arc-only');
      for (const key of [record.arc.instances[0]!['sealKey'], record.arc.instances[0]!['amsKey']]) {
        expect(key).toMatchObject({ name: 'arc._domainkey.lists.example', origin: DEMO_KEYS, fingerprint: genuine });
      }
      // (show names the file, not the analyst's folders: red team K, K-13; show --json keeps the path)
      expect(text).toContain('seal key arc._domainkey.lists.example: rsa 2048-bit, file from demo-keys.json\n');
      expect(text).toContain(`seal key sha256 ${genuine}`);
      const key = { name: 'arc._domainkey.lists.example', key_bits: 2048, key_type: 'rsa', key_source: 'file', key_fingerprint: genuine };
      expect(exported).toEqual({ result: 'pass', keys: [{ i: 1, signer: 'seal', ...key }, { i: 1, signer: 'ams', ...key }] });
    }
  });

  it('a value that is not a domain name is a usage error', () => {
    const run = runCli(['verify', DEMO_DUMP, '--offline', '--db', join(tmp.path, 'x.db'), '--trust-arc-sealer', 'not a domain']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/"not a domain" is not a domain name/);
  });
});
