import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** Versions recorded with every run, so that a third party can reproduce it. */
export const TOOL_VERSION: string = (require('../package.json') as { version: string }).version;
export const MAILAUTH_VERSION: string = (require('mailauth/package.json') as { version: string }).version;
export const NODE_VERSION: string = process.version;

/**
 * The packages besides mailauth whose code decides verdicts, each found where the code that uses
 * it finds it (tldts, with its Public Suffix List, is mailauth's; mailsplit mailparser's): the
 * PSL decides whether d= is aligned with From, the MIME libraries what a reader sees, yauzl what
 * an archive holds. npm resolves several of them by range, so two installs of one leakcheck can
 * differ; a run records them, and a stored analysis depends on them (run-verify's
 * analysisContext), so that a new PSL is applied to every file, and two databases that differ can
 * tell why (red team 28, H-03).
 */
const VERDICT_LIBRARIES: ReadonlyArray<readonly [name: string, usedBy?: string]> = [
  ['mailauth'],
  ['tldts', 'mailauth'],
  ['nodemailer', 'mailauth'],
  ['punycode.js', 'mailauth'],
  ['libmime'],
  ['iconv-lite', 'libmime'],
  ['encoding-japanese', 'libmime'],
  ['libqp', 'libmime'],
  ['libbase64', 'libmime'],
  ['mailparser'],
  ['@zone-eu/mailsplit', 'mailparser'],
  ['yauzl'],
  ['unicode-confusables'],
];

function libraryVersions(): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const [name, usedBy] of VERDICT_LIBRARIES) {
    try {
      const from = usedBy ? createRequire(require.resolve(`${usedBy}/package.json`)) : require;
      versions[name] = (from(`${name}/package.json`) as { version: string }).version;
    } catch {
      // a package a later version of its user no longer needs: nothing of it decides anything
    }
  }
  return versions;
}

export const LIBRARY_VERSIONS: Readonly<Record<string, string>> = Object.freeze(libraryVersions());

/** Folders whose code decides no verdict: how results are shown, and the command line. */
const PRESENTATION_ONLY = new Set(['report', 'cli']);

let codeFingerprint: string | null = null;

/**
 * The sha256 of the code that turns bytes and keys into verdicts (every source file but the
 * reports' and the command line's), first 12 hex digits. Between releases the version number
 * stays while the rules change: without this, a database verified before a change kept its old
 * verdicts on the next run, file by file, since nothing it recorded had changed. It is part of
 * what a stored analysis depends on (run-verify's analysisContext), and of the version each run
 * records, as semver build metadata ("0.1.0+1a2b3c4d5e6f"), so that two runs of "0.1.0" that
 * decided differently can be told apart. About 3 ms, once per verify.
 */
export function analysisCodeFingerprint(): string {
  if (codeFingerprint === null) {
    const root = fileURLToPath(new URL('.', import.meta.url));
    const hash = createHash('sha256');
    const files = (readdirSync(root, { recursive: true, withFileTypes: false }) as string[])
      .filter((path) => path.endsWith('.ts') && !PRESENTATION_ONLY.has(path.split(/[\\/]/)[0]!))
      .map((path) => path.split('\\').join('/'))
      .sort();
    for (const path of files) hash.update(path).update('\0').update(readFileSync(join(root, path))).update('\0');
    codeFingerprint = hash.digest('hex').slice(0, 12);
  }
  return codeFingerprint;
}

/** The version a run records: the package's, with the analysis code's fingerprint. */
export const runToolVersion = (): string => `${TOOL_VERSION}+${analysisCodeFingerprint()}`;
