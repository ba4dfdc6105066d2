/**
 * Most test files share a vitest worker's process with the files run before them
 * (vitest.config.ts). These tests keep that safe as files are added: a file that depends on the
 * process it runs in must be listed to run alone, and a spy must not outlive its file.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.ts';
import { PROCESS_ALONE, PROCESS_WIDE_PATTERNS } from '../helpers/process-alone.ts';

const TESTS = join(ROOT, 'tests');

function testFiles(dir = TESTS): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** The file's own text and that of every module under tests/ it imports, directly or not. */
function textWithTestHelpers(file: string, seen = new Set<string>()): string {
  if (seen.has(file)) return '';
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  const helpers = [...text.matchAll(/from '(\.{1,2}\/[^']+\.ts)'/g)]
    .map((match) => resolve(dirname(file), match[1]!))
    .filter((path) => path.startsWith(TESTS) && existsSync(path));
  return [text, ...helpers.map((path) => textWithTestHelpers(path, seen))].join('\n');
}

const relativePath = (file: string): string => relative(ROOT, file).split('\\').join('/');

describe('test files that depend on their process run alone', () => {
  const files = testFiles();

  it('finds the test files, and every file listed to run alone exists', () => {
    expect(files.length).toBeGreaterThan(150);
    for (const listed of PROCESS_ALONE) expect(existsSync(join(ROOT, listed)), listed).toBe(true);
  });

  it('lists every file that mocks a module, reads the process memory or looks at the modules loaded', () => {
    const unlisted = files
      .filter((file) => !PROCESS_ALONE.includes(relativePath(file)))
      .flatMap((file) => {
        const text = textWithTestHelpers(file);
        return PROCESS_WIDE_PATTERNS.filter(({ pattern }) => pattern.test(text)).map(({ reason }) => `${relativePath(file)}: ${reason}`);
      });
    expect(unlisted).toEqual([]);
  });

  it('each pattern finds what it names, in a file that is listed', () => {
    for (const { reason, pattern } of PROCESS_WIDE_PATTERNS) {
      expect(
        PROCESS_ALONE.some((listed) => pattern.test(textWithTestHelpers(join(ROOT, listed)))),
        reason,
      ).toBe(true);
    }
  });

  it('every file that sets a spy restores it after each test, so that no spy reaches the next file', () => {
    const leaking = files
      .filter((file) => /\bvi\.spyOn\(/.test(textWithTestHelpers(file)))
      .filter((file) => !/afterEach\((?:async )?\(\) => \{?[^}]*?\bvi\.restoreAllMocks\(\)/.test(readFileSync(file, 'utf8')))
      .map(relativePath);
    expect(leaking).toEqual([]);
  });
});
