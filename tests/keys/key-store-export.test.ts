import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVerify } from '../../src/pipeline/run-verify.ts';
import { DEMO_DUMP, DEMO_KEYS, ROOT, runCli, tempDir } from '../helpers/cli.ts';
import { exportJsonl, keysImportInProcess } from '../helpers/in-process.ts';

/*
 * Red team 10, finding 06: `keys export` is how a colleague gets the keys to re-run offline, and
 * the JSON map it wrote carried neither the fingerprints known as compromised (10 messages signed
 * with a forgeable key came back verified) nor the archives' first/last-seen dates (the
 * key-outside-known-lifetime warnings vanished). The key-store file it writes with
 * `--format key-store` carries both, and a fresh database that reads it back gives the same records, to the byte.
 */

const S2048 = 's2048._domainkey.demo.example';
const s2048Der = createPublicKey(createPrivateKey(readFileSync(join(ROOT, 'fixtures/keys', `${S2048}.pem`)))).export({ type: 'spki', format: 'der' });
const s2048Txt = (JSON.parse(readFileSync(DEMO_KEYS, 'utf8')) as Record<string, string[]>)[S2048]![0]!;

const ok = (args: string[]): string => {
  const r = runCli(args);
  expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};
// (in this process: the hand-over is the files keys export writes, read back as verify reads them)
const verify = async (db: string, keys: { keys?: string; compromised?: string } = {}): Promise<void> => {
  await runVerify({ dumpRoot: DEMO_DUMP, dbPath: db, keyFiles: keys.keys ? [keys.keys] : [], offline: true, compromisedFile: keys.compromised });
};
/** Every message's record as `export --format jsonl` writes it: verdict, reasons, findings, signatures with their keys. */
const records = exportJsonl;
const manifestKeys = (db: string): unknown => (JSON.parse(ok(['manifest', '--db', db])) as { keys: unknown }).keys;
const count = (jsonl: string, what: RegExp): number => jsonl.split('\n').filter((line) => what.test(line)).length;

describe('keys export: the hand-over gives the colleague the same verdicts, reasons and findings', () => {
  const tmp = tempDir();
  const at = (name: string): string => join(tmp.path, name);
  afterAll(() => tmp.cleanup());

  describe('a key listed as compromised (the demo keys, s2048 compromised)', () => {
    const original = at('compromised.db');
    const exported = at('compromised-export.json');
    beforeAll(async () => {
      writeFileSync(at('compromised.txt'), `${createHash('sha256').update(s2048Der).digest('hex')}  # s2048 private key leaked\n`);
      await verify(original, { keys: DEMO_KEYS, compromised: at('compromised.txt') });
      const out = runCli(['keys', 'export', '--db', original, '--format', 'key-store', '--out', exported]);
      expect(out.status, out.stderr).toBe(0);
      expect(out.stderr).toBe(''); // nothing left behind, nothing to say
    });

    it('the original database calls the s2048 messages key-compromised', () => {
      expect(count(records(original), /"key-compromised"/)).toBeGreaterThan(0);
    });

    it.each([
      ['keys import, then verify', async (db: string) => {
        expect(ok(['keys', 'import', exported, '--db', db])).toMatch(/key-store, 7 key record\(s\) added, 0 already known, 1 compromised key fingerprint\(s\) added/);
        await verify(db);
      }],
      ['verify --keys', (db: string) => verify(db, { keys: exported })],
    ])('read back by %s into a fresh database: the same records and manifest keys', async (what, handOver) => {
      const colleague = at(`colleague-${what.replace(/\W+/g, '-')}.db`);
      await handOver(colleague);
      expect(records(colleague)).toBe(records(original));
      expect(manifestKeys(colleague)).toEqual(manifestKeys(original));
    });

    it('the map alone (the default format) is written, with a warning naming the compromised keys and the ways to hand them over', () => {
      const map = at('map-alone.json');
      for (const args of [['--out', map], ['--format', 'map', '--out', map]]) {
        const alone = runCli(['keys', 'export', '--db', original, ...args]);
        expect(alone.status, alone.stderr).toBe(0);
        expect(alone.stderr).toMatch(/WARNING: this database knows 1 compromised key fingerprint\(s\), which the map cannot mark.*--format key-store.*--compromised-out FILE/s);
        expect((JSON.parse(readFileSync(map, 'utf8')) as Record<string, string[]>)[S2048]).toEqual([s2048Txt]);
      }
    });

    it('--format map with --compromised-out: the map (our plain JSON map) and the list, which verify --compromised reads back to the same verdicts', async () => {
      const map = at('map.json');
      const list = at('compromised-out.txt');
      const out = runCli(['keys', 'export', '--db', original, '--format', 'map', '--out', map, '--compromised-out', list]);
      expect(out.status, out.stderr).toBe(0);
      expect(out.stderr).toBe('');
      expect((JSON.parse(readFileSync(map, 'utf8')) as Record<string, string[]>)[S2048]).toEqual([s2048Txt]);
      const colleague = at('colleague-map.db');
      await verify(colleague, { keys: map, compromised: list });
      const verdicts = (db: string) => records(db).trim().split('\n').map((l) => {
        const r = JSON.parse(l) as { path: string; index: number; verdict: string; reasons: string[] };
        return `${r.path}#${r.index}:${r.verdict}:${r.reasons.join(',')}`;
      });
      expect(verdicts(colleague)).toEqual(verdicts(original));
    });
  });

  describe('an archive record with first/last-seen dates (the repro: s2048 seen only 2021-2022)', () => {
    const original = at('archive.db');
    const exported = at('archive-export.json');
    beforeAll(async () => {
      writeFileSync(at('archive.json'), JSON.stringify([
        { domain: 'demo.example', selector: 's2048', value: s2048Txt, firstSeenAt: '2021-01-01', lastSeenAt: '2022-01-01', source: 'dkim-archive.example' },
      ]));
      keysImportInProcess(original, at('archive.json'));
      await verify(original);
      ok(['keys', 'export', '--db', original, '--format', 'key-store', '--out', exported]);
    });

    it('the original database warns key-outside-known-lifetime and records the key as the archive\'s', () => {
      const jsonl = records(original);
      expect(count(jsonl, /"key-outside-known-lifetime"/)).toBeGreaterThan(0);
      expect(jsonl).toMatch(/"key_source":"archive"/);
    });

    it.each([
      ['keys import, then verify', async (db: string) => {
        ok(['keys', 'import', exported, '--db', db]);
        await verify(db);
      }],
      ['verify --keys', (db: string) => verify(db, { keys: exported })],
    ])('read back by %s into a fresh database: the same records (provenance archive, its dates, the warnings) and manifest keys', async (what, handOver) => {
      const colleague = at(`archive-colleague-${what.replace(/\W+/g, '-')}.db`);
      await handOver(colleague);
      expect(records(colleague)).toBe(records(original));
      expect(manifestKeys(colleague)).toEqual(manifestKeys(original));
      expect(ok(['keys', 'list', '--db', colleague])).toMatch(/s2048\._domainkey\.demo\.example {2}archive .* from dkim-archive\.example seen 2021-01-01\.\.2022-01-01/);
    });

    it('the map with --archive-out leaves the archive records to the archive list: the colleague\'s signatures are decided with them, dates and all (red team 11, 06)', async () => {
      const map = at('archive-apart-map.json');
      const list = at('archive-apart-list.json');
      const out = runCli(['keys', 'export', '--db', original, '--out', map, '--archive-out', list]);
      expect(out.status, out.stderr).toBe(0);
      expect(out.stderr).toBe('');
      expect(JSON.parse(readFileSync(map, 'utf8'))).not.toHaveProperty([S2048]);
      const colleague = at('archive-apart-colleague.db');
      ok(['keys', 'import', list, '--db', colleague]);
      await verify(colleague, { keys: map });
      expect(records(colleague)).toBe(records(original));
    });

    it('--format map says on stderr what it leaves out', () => {
      const out = runCli(['keys', 'export', '--db', original, '--format', 'map', '--out', at('archive-map.json')]);
      expect(out.status, out.stderr).toBe(0);
      expect(out.stderr).toMatch(/first\/last-seen dates and archive names of 1 archive record\(s\) are not in it.*--archive-out FILE/);
    });
  });
});

// Red team Z, Z-07: a --compromised-out in a folder that does not exist failed after the map was
// written: the map, handed over alone, makes signatures by compromised keys proof again.
describe('keys export with an output that cannot be written', () => {
  const tmp = tempDir('leakcheck-keys-out-');
  afterAll(() => tmp.cleanup());

  it('writes none of its outputs, and says which one in one line', () => {
    const db = join(tmp.path, 'k.db');
    ok(['keys', 'import', '--db', db, DEMO_KEYS]);
    const map = join(tmp.path, 'map.json');
    for (const [flag, path, why] of [
      ['--compromised-out', join(tmp.path, 'no-such-folder', 'c.txt'), 'its folder does not exist'],
      ['--archive-out', tmp.path, 'it is a directory'],
    ] as const) {
      const r = runCli(['keys', 'export', '--db', db, '--out', map, flag, path]);
      expect(r.status).toBe(3);
      expect(r.stderr).toBe(`leakcheck: cannot write ${path}: ${why}\n`);
      expect(existsSync(map)).toBe(false);
    }
  });

  it('refuses two outputs that are one file, by one name or two (red team AA, AA-04)', () => {
    const db = join(tmp.path, 'k2.db');
    ok(['keys', 'import', '--db', db, DEMO_KEYS]);
    const map = join(tmp.path, 'same.json');
    const again = runCli(['keys', 'export', '--db', db, '--out', map, '--compromised-out', map]);
    expect(again.status).toBe(2);
    expect(again.stderr).toBe(`leakcheck: ${map} and ${map} are one file: give each output a file of its own\n`);
    expect(existsSync(map)).toBe(false);
    writeFileSync(map, 'the map of last week\n');
    const link = join(tmp.path, 'link.json');
    symlinkSync(map, link);
    expect(runCli(['keys', 'export', '--db', db, '--out', map, '--archive-out', link]).status).toBe(2);
    expect(readFileSync(map, 'utf8')).toBe('the map of last week\n');
  });
});
