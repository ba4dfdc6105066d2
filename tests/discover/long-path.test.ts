/*
 * Files whose absolute path is longer than PATH_MAX (red team round 4, 10): every one is walked,
 * read and recorded, through directory descriptors (src/discover/long-path.ts).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canReachLongPaths, MAX_PATH_BYTES, shortPath } from '../../src/discover/long-path.ts';
import { openEvidenceSync, closeEvidenceSync, readHeadSync } from '../../src/discover/open-evidence.ts';
import type { DiscoveryEntry } from '../../src/discover/types.ts';
import { readContainer } from '../../src/read/read-container.ts';
import { runCli } from '../helpers/cli.ts';
import { makeTempDir, walk } from './temp-dump.ts';

const D = 'd'.repeat(100);
const message = (subject: string): string => `From: a@b.example\r\nSubject: ${subject}\r\nDate: Mon, 4 Mar 2019 10:00:00 +0000\r\n\r\nhi\r\n`;

/**
 * 60 nested directories of 100-byte names (6 KB of path), built by bash one relative step at a
 * time (dash's cd gives up past PATH_MAX), as find/tar/cp make them: top.eml, deep30.eml and deep45.eml on the way, and at the
 * bottom a message, an mbox of two, a name that is not UTF-8, a symlink and an empty file.
 */
function buildDeepDump(root: string): void {
  const script = `
    cd "$1" || exit 1
    printf '%s' "$2" | sed s/SUBJECT/top/ > top.eml
    i=0
    while [ $i -lt 60 ]; do
      i=$((i + 1))
      mkdir "$3" && cd "$3" || exit 1
      case $i in 30|45) printf '%s' "$2" | sed s/SUBJECT/deep$i/ > deep$i.eml ;; esac
    done
    printf '%s' "$2" | sed s/SUBJECT/bottom/ > bottom.eml
    { printf 'From a@b.example Mon Mar  4 10:00:00 2019\\n'; printf '%s' "$2" | sed s/SUBJECT/mbox-1/
      printf '\\nFrom a@b.example Mon Mar  4 10:00:00 2019\\n'; printf '%s' "$2" | sed s/SUBJECT/mbox-2/; } > box.mbox
    printf '%s' "$2" | sed s/SUBJECT/latin1/ > "$(printf 'r\\351sum\\351.eml')"
    ln -s /etc/passwd link.eml
    : > empty.eml
  `;
  const built = spawnSync('bash', ['-c', script, 'bash', root, message('SUBJECT'), D], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`could not build the deep dump: ${built.stderr}`);
}

const bottom = Array(60).fill(D).join('/');

describe.skipIf(!canReachLongPaths())('paths longer than PATH_MAX', () => {
  let dir = '';
  let dump = '';
  let entries: DiscoveryEntry[] = [];
  beforeAll(async () => {
    dir = await makeTempDir();
    dump = join(dir, 'dump');
    spawnSync('mkdir', [dump]);
    buildDeepDump(dump);
    entries = await walk(dump);
  });
  // rm -r walks by descriptor; Node's rm gives up past PATH_MAX
  afterAll(() => void spawnSync('rm', ['-rf', dir]));

  it('the walk yields every entry below, each with what it is', () => {
    const seen = entries.map((e) => [e.type === 'skipped' ? e.relPath : e.file.relPath, e.type === 'skipped' ? e.reason : e.type === 'container' ? e.kind : e.type]);
    expect(seen).toEqual([
      // siblings in byte order: the directory `ddd…` before `deep30.eml`
      [`${bottom}/bottom.eml`, 'eml'],
      [`${bottom}/box.mbox`, 'mbox'],
      [`${bottom}/empty.eml`, 'empty'],
      [`${bottom}/link.eml`, 'symlink'],
      [`${bottom}/r\\xE9sum\\xE9.eml`, 'eml'],
      [`${Array(45).fill(D).join('/')}/deep45.eml`, 'eml'],
      [`${Array(30).fill(D).join('/')}/deep30.eml`, 'eml'],
      ['top.eml', 'eml'],
    ]);
    expect(entries.find((e) => e.type === 'skipped' && e.reason === 'symlink')).toMatchObject({ detail: 'symlink to /etc/passwd' });
  });

  it('the readers open every file found there by its path text', async () => {
    const subjects: string[] = [];
    for (const entry of entries) {
      if (entry.type !== 'container') continue;
      expect(Buffer.byteLength(entry.file.absPath)).toBeGreaterThan(entry.file.relPath === 'top.eml' ? 0 : 3000);
      for await (const m of readContainer(entry.file, entry.kind)) subjects.push(/Subject: (\S+)/.exec(m.raw.toString())?.[1] ?? '?');
    }
    expect(subjects.sort()).toEqual(['bottom', 'deep30', 'deep45', 'latin1', 'mbox-1', 'mbox-2', 'top']);
  });

  it('holds no descriptor once a call is made', () => {
    const before = readdirSync('/proc/self/fd').length;
    const deep = entries.find((e) => e.type === 'container' && e.file.relPath.endsWith('bottom.eml'));
    if (deep?.type !== 'container') throw new Error('no bottom.eml');
    for (let i = 0; i < 50; i += 1) {
      const fd = openEvidenceSync(deep.file.absPath);
      expect(readHeadSync(fd, 5).toString()).toBe('From:');
      closeEvidenceSync(fd);
    }
    const short = shortPath(Buffer.from(deep.file.absPath));
    expect(short.path.length).toBeLessThanOrEqual(MAX_PATH_BYTES);
    short.release();
    expect(readdirSync('/proc/self/fd').length).toBe(before);
  });

  it('a short path is handed on as it is', () => {
    expect(shortPath('/etc/passwd').path).toBe('/etc/passwd');
  });

  it('verify reads and records every message, and nothing is an error', () => {
    const db = join(dir, 'deep.db');
    const run = runCli(['verify', dump, '--offline', '--db', db, '--quiet']);
    expect(run.status, run.stderr).toBe(0);
    const manifest = JSON.parse(runCli(['manifest', '--db', db]).stdout) as { files: Array<{ path: string; status: string; messages: unknown[] }> };
    expect(manifest.files.map((f) => [f.path.replaceAll(D, 'D').replace(/(D\/)+/, 'D…/'), f.status, f.messages.length])).toEqual([
      ['D…/bottom.eml', 'ok', 1],
      ['D…/box.mbox', 'ok', 2],
      ['D…/empty.eml', 'skipped', 0],
      ['D…/link.eml', 'skipped', 0],
      ['D…/r\\xE9sum\\xE9.eml', 'ok', 1],
      ['D…/deep45.eml', 'ok', 1],
      ['D…/deep30.eml', 'ok', 1],
      ['top.eml', 'ok', 1],
    ]);
    const again = runCli(['verify', dump, '--offline', '--db', db, '--rehash', '--fail-on', 'changed']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/7 matched the sha256 on record, none changed or removed/);
  });
});
