import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { KeyImportError, parseKeyFile, type ParsedKeyFile } from '../../src/keys/import/parse-key-file.ts';

/** Real key material, so that fixtures look like what users import. */
export const RSA_P =
  'MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB';
export const ED_P = '11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=';
export const RSA_TXT = `v=DKIM1; k=rsa; p=${RSA_P}`;
export const ED_TXT = `v=DKIM1; k=ed25519; p=${ED_P}`;

export interface Fixture {
  path: string;
  bytes: Buffer;
}

/**
 * Registers a temporary directory for the calling test file and returns a writer: each fixture
 * is written to disk and read back, as `leakcheck keys import` reads it.
 */
export function fixtureDir(): (name: string, content: string | Buffer | object) => Fixture {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'leakcheck-keys-import-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return (name, content) => {
    const path = join(dir, name);
    const data = typeof content === 'string' || Buffer.isBuffer(content) ? content : JSON.stringify(content, null, 2);
    writeFileSync(path, data);
    return { path, bytes: readFileSync(path) };
  };
}

export const parse = (f: Fixture): ParsedKeyFile => parseKeyFile(f.bytes, f.path);

/** The KeyImportError parsing throws; fails the test when it throws nothing or something else. */
export function importError(f: Fixture): KeyImportError {
  try {
    parseKeyFile(f.bytes, f.path);
  } catch (err) {
    expect(err).toBeInstanceOf(KeyImportError);
    return err as KeyImportError;
  }
  throw new Error(`${f.path}: parsed without error`);
}

/** Asserts the error names the file and the place, and returns its message. */
export function expectImportError(f: Fixture, where: string | null, detail: RegExp): string {
  const err = importError(f);
  expect(err.file).toBe(f.path);
  expect(err.where).toBe(where);
  expect(err.message.startsWith(where === null ? `${f.path}: ` : `${f.path}: ${where}: `)).toBe(true);
  expect(err.detail).toMatch(detail);
  return err.message;
}
