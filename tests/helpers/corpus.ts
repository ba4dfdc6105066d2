import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KeyAnswer, KeyLookup } from '../../src/keys/types.ts';
import { normalizeKeyName } from '../../src/keys/types.ts';

/** The shared third-party corpus lives beside the project (../shared/corpus); a user's clone has none. */
export const CORPUS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/corpus');
export const HAS_CORPUS = existsSync(join(CORPUS, 'MANIFEST.md'));
/** Appended to describe() titles, so a skipped run says why in one line. */
export const CORPUS_SKIP_NOTE = HAS_CORPUS ? '' : ' (skipped: ../shared/corpus is absent)';

/** Every file of the shared corpus, recursively, or those whose name `accept` takes. */
export function corpusFiles(accept: (name: string) => boolean = () => true): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (accept(name)) files.push(path);
    }
  };
  walk(CORPUS);
  return files;
}

export function corpusFile(set: string, path: string): Buffer {
  return readFileSync(join(CORPUS, set, path));
}

export function corpusJson<T>(set: string, path: string): T {
  return JSON.parse(readFileSync(join(CORPUS, set, path), 'utf8')) as T;
}

/**
 * A key lookup that answers only from a set's dns.json (names matched case-insensitively),
 * and counts its calls, as the corpus MANIFEST prescribes: a name not listed is NXDOMAIN.
 */
export function dnsJsonLookup(set: string, file = 'dns.json'): KeyLookup & { calls: string[] } {
  const raw = corpusJson<Record<string, string[] | string>>(set, file);
  const table = new Map(Object.entries(raw).map(([k, v]) => [normalizeKeyName(k), typeof v === 'string' ? [v] : v]));
  const calls: string[] = [];
  const lookup = async (name: string): Promise<KeyAnswer> => {
    calls.push(name);
    const records = table.get(normalizeKeyName(name));
    return records
      ? { status: 'found', name, records: records.map((txt) => ({ txt, source: 'file', origin: `${set}/${file}` })) }
      : { status: 'absent', name, detail: 'not in dns.json' };
  };
  return Object.assign(lookup, { calls });
}

/**
 * Genuine real-world messages that pass in all three reference verifiers (the MANIFEST's
 * sanity-check table), each signed by its From domain: they must be verified, and must get no
 * red flag from the forensics.
 */
export const GENUINE: Array<[string, string]> = [
  ['hunter-dkim', 'messages/meeting-for-coffee.eml'],
  ['hunter-dkim', 'messages/truncated.eml'],
  ['hunter-dkim', 'messages/timestamped.eml'],
  ['podesta-driusan', 'messages/podesta-edgar-mitchell.eml'],
  ['mimekit', 'messages/gmail.msg'],
  ['mimekit', 'messages/related.msg'],
  ['mimekit', 'messages/multipart-no-end-boundary.msg'],
  ['mimekit', 'messages/rfc8463-example.msg'],
  ['hamcrest-mail', 'messages/message-gmail.txt'],
  ['hamcrest-mail', 'messages/message-outlook.txt'],
  ['hamcrest-mail', 'messages/examples-message.txt'],
  ['ocaml-dkim', 'messages/001.mail'],
  ['ocaml-dkim', 'messages/002.mail'],
  ['ocaml-dkim', 'messages/003.mail'],
  ['ocaml-dkim', 'messages/004.mail'],
  ['ocaml-dkim', 'messages/005.mail'],
  ['zk-email', 'messages/email-good.eml'],
  ['zk-email', 'messages/email-good-large.eml'],
  ['zk-email', 'messages/email-different-domain.eml'],
  ['authheaders', 'messages/test.message_signed'],
  ['authheaders', 'messages/testcomma.message'],
  ['rfc-examples', 'rfc8463-appendix-a3.eml'],
  ['mailauth', 'messages/rfc8463-signed.eml'],
];

/**
 * Genuine messages from the same table whose passing signature is a third party's, not the From
 * domain's: they prove what the signer sent, not who the From is, and are unverifiable
 * (`signature-not-aligned`) with no red flag.
 */
export const GENUINE_THIRD_PARTY: Array<[string, string]> = [
  // sent through Gmail as cfr@strace.org: signed d=gmail.com only
  ['dkimpy', 'messages/test2.message'],
  // From nobody@example.com, signed d=test.ex
  ['dkimpy', 'messages/ed25519test2.msg'],
];
