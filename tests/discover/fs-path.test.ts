import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeEscapedName, nameToString, needsEscaping, toFsPath } from '../../src/discover/fs-path.ts';
import { makeTempDir, removeTempDir } from './temp-dump.ts';

describe('nameToString / decodeEscapedName', () => {
  it('leaves valid UTF-8 names alone, backslashes included', () => {
    for (const name of ['plain.eml', 'été.mbox', 'a\\x41b', 'tab\there', '日本語']) {
      expect(nameToString(Buffer.from(name))).toBe(name);
      expect(needsEscaping(Buffer.from(name))).toBe(false);
    }
  });

  it('escapes invalid bytes, and backslashes in such names, as \\xNN', () => {
    expect(nameToString(Buffer.from([0x61, 0xff, 0x62]))).toBe('a\\xFFb');
    expect(nameToString(Buffer.from([0xe9, 0x74, 0xe9]))).toBe('\\xE9t\\xE9');
    expect(nameToString(Buffer.from([0x5c, 0x78, 0x34, 0x31, 0xff]))).toBe('\\x5Cx41\\xFF');
    // valid sequences around invalid bytes survive as characters
    expect(nameToString(Buffer.concat([Buffer.from('é'), Buffer.from([0xc3])]))).toBe('é\\xC3');
  });

  it('round-trips any invalid name through the escaped form', () => {
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let n = 0; n < 500; n += 1) {
      const name = Buffer.from(Array.from({ length: 1 + (random() % 12) }, () => 1 + (random() % 255)));
      if (!needsEscaping(name)) continue;
      expect(decodeEscapedName(nameToString(name)).equals(name)).toBe(true);
    }
  });
});

describe('toFsPath', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('returns ordinary paths unchanged', async () => {
    expect(await toFsPath('/a/b/c.eml')).toBe('/a/b/c.eml');
  });

  it('decodes escaped segments to the bytes that open the file', async () => {
    const rawDir = Buffer.concat([Buffer.from(dir), Buffer.from('/d\xe9j\xe0', 'latin1')]);
    await mkdir(rawDir);
    await writeFile(Buffer.concat([rawDir, Buffer.from('/m\xf6o.eml', 'latin1')]), 'bytes');
    const fsPath = await toFsPath(join(dir, 'd\\xE9j\\xE0', 'm\\xF6o.eml'));
    expect(await readFile(fsPath, 'utf8')).toBe('bytes');
  });

  it('prefers a file whose real name contains the escape text', async () => {
    await writeFile(join(dir, 'a\\xFF'), 'literal');
    expect(await readFile(await toFsPath(join(dir, 'a\\xFF')), 'utf8')).toBe('literal');
  });
});
