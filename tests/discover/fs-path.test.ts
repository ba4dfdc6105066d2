import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeEscapedName, nameToString, needsEscaping, pathToText, toFsPath } from '../../src/discover/fs-path.ts';
import { makeTempDir, removeTempDir } from './temp-dump.ts';

describe('nameToString / decodeEscapedName', () => {
  it('leaves valid UTF-8 names alone, backslashes included', () => {
    for (const name of ['plain.eml', 'été.mbox', 'a\\b', 'a\\x4', 'a\\xff', 'a\\x4G', 'tab\there', '日本語']) {
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

  it('escapes a valid name that holds the text of an escape, its backslashes as \\x5C', () => {
    expect(nameToString(Buffer.from('\\xFF.eml'))).toBe('\\x5CxFF.eml');
    expect(nameToString(Buffer.from('a\\b\\x41é'))).toBe('a\\x5Cb\\x5Cx41é');
    expect(needsEscaping(Buffer.from('R\\xE9sum\\xE9.eml'))).toBe(true);
  });

  it('gives two different names two different texts (red team round 4, 06)', () => {
    const byte = Buffer.from([0xff, 0x2e, 0x65, 0x6d, 0x6c]);
    const text = Buffer.from('\\xFF.eml');
    expect(nameToString(byte)).not.toBe(nameToString(text));
    expect(decodeEscapedName(nameToString(byte)).equals(byte)).toBe(true);
    expect(decodeEscapedName(nameToString(text)).equals(text)).toBe(true);
  });

  it('round-trips every escaped name, and gives each name a text of its own', () => {
    let seed = 7;
    const random = (): number => {
      // Math.imul: a plain product passes 2^53 and loses the low bits the sequence lives on
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return seed >>> 8;
    };
    const texts = new Map<string, Buffer>();
    let holdingEscapeText = 0;
    for (let n = 0; n < 20_000; n += 1) {
      // bytes drawn often from the text of escapes, so that valid names holding one come up
      const alphabet = [0x5c, 0x78, 0x41, 0x46, 0x30, 0x39, 0xff, 0xc3, 0xa9, 0x61];
      const name = Buffer.from(Array.from({ length: 1 + (random() % 12) }, () => (random() % 3 === 0 ? 1 + (random() % 255) : (alphabet[random() % alphabet.length] as number))));
      const text = nameToString(name);
      if (/\\x[0-9A-F]{2}/.test(name.toString('latin1'))) holdingEscapeText += 1;
      if (!needsEscaping(name)) {
        expect(text).toBe(name.toString('utf8'));
        expect(/\\x[0-9A-F]{2}/.test(text)).toBe(false);
      } else {
        expect(decodeEscapedName(text).equals(name)).toBe(true);
      }
      // one text, one name
      const seen = texts.get(text);
      if (seen) expect(seen.equals(name)).toBe(true);
      texts.set(text, name);
    }
    expect(holdingEscapeText).toBeGreaterThan(20);
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

  it('opens each of two files whose names differ by escape text: the byte 0xFF, and the four characters', async () => {
    await writeFile(join(dir, 'a\\xFF'), 'literal');
    await writeFile(Buffer.concat([Buffer.from(dir), Buffer.from('/a\xff', 'latin1')]), 'byte');
    expect(await readFile(await toFsPath(join(dir, 'a\\x5CxFF')), 'utf8')).toBe('literal');
    expect(await readFile(await toFsPath(join(dir, 'a\\xFF')), 'utf8')).toBe('byte');
  });

  it('decodes a root given through pathToText, whatever its segments hold', async () => {
    const root = join(dir, 'case \\x41 \\b');
    await mkdir(root);
    await writeFile(join(root, 'm.eml'), 'in root');
    expect(pathToText(root)).toBe(join(dir, 'case \\x5Cx41 \\x5Cb'));
    expect(pathToText('/plain/a\\b')).toBe('/plain/a\\b');
    expect(await readFile(await toFsPath(join(pathToText(root), 'm.eml')), 'utf8')).toBe('in root');
  });
});
