import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { keyFileName } from './key-file-name.ts';
import type { ParsedKey } from './parse-key.ts';

/**
 * Keys whose private half is public. A signature made with one proves nothing: some operators
 * publish retired private keys on purpose, precisely so that old signatures lose their force.
 */
export interface CompromisedList {
  path: string;
  sha256: string;
  fingerprints: Set<string>;
}

/** One fingerprint the key store knows as compromised, with the list that first named it. */
export interface CompromisedEntry {
  /** sha256 (64 hex) or md5 (32 hex) of the DER SubjectPublicKeyInfo, lower-case */
  fingerprint: string;
  listPath: string;
  listSha256: string;
}

/** A fingerprint as lists give it once normalised: 32 or 64 lower-case hex digits. */
export const isFingerprint = (value: string): boolean => /^([0-9a-f]{32}|[0-9a-f]{64})$/.test(value);

export class CompromisedListError extends Error {
  override name = 'CompromisedListError';
}

/**
 * Reads one fingerprint per line: the sha256 (64 hex digits) of the DER SubjectPublicKeyInfo,
 * or its md5 (32 hex digits), which is how some operators index published keys. `sha256:` and
 * `md5:` prefixes, colons between bytes, blank lines and `#` comments are accepted.
 */
export function loadCompromisedList(path: string): CompromisedList {
  const bytes = readFileSync(path);
  const fingerprints = new Set<string>();
  for (const [i, rawLine] of bytes.toString('utf8').split(/\r?\n/).entries()) {
    const line = rawLine.replace(/#.*/, '').trim();
    if (!line) continue;
    const value = line.replace(/^(sha256|md5)\s*[:=]\s*/i, '').replace(/[:\s]/g, '').toLowerCase();
    if (!isFingerprint(value)) {
      throw new CompromisedListError(`${path}: line ${i + 1}: expected a sha256 (64 hex) or md5 (32 hex) key fingerprint, got "${line.slice(0, 80)}"`);
    }
    fingerprints.add(value);
  }
  return { path, sha256: createHash('sha256').update(bytes).digest('hex'), fingerprints };
}

export function isListed(list: CompromisedList | null, key: ParsedKey): boolean {
  if (!list) return false;
  return (key.fingerprint !== null && list.fingerprints.has(key.fingerprint)) || (key.fingerprintMd5 !== null && list.fingerprints.has(key.fingerprintMd5));
}

/**
 * One list made of several: the fingerprints every list given to this database so far named
 * (the key store keeps them). Its sha256 is of the sorted fingerprints, so the same knowledge
 * gives the same analysis context however it was gathered.
 */
export function mergedCompromisedList(fingerprints: ReadonlyMap<string, string>): CompromisedList | null {
  if (!fingerprints.size) return null;
  const sorted = [...fingerprints.keys()].sort();
  // named in explanations ("listed in …") by file name, as key files are (red team 28): the
  // analyst's folders are no part of the evidence; the run record keeps each list's full path
  const paths = [...new Set([...fingerprints.values()].map(keyFileName))].sort();
  return { path: paths.join(', '), sha256: createHash('sha256').update(sorted.join('\n')).digest('hex'), fingerprints: new Set(sorted) };
}

