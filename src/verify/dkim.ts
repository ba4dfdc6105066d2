// before mailauth: see joi-stand-in.ts
import './joi-stand-in.ts';
import { signatureOfKeyLength } from './mailauth-patches.ts';
import { constants as cryptoConstants, createHash, createPublicKey, publicDecrypt, verify as cryptoVerify } from 'node:crypto';
import type { DKIMResult, DKIMVerifyOptions, DKIMVerifyResult } from 'mailauth';
import { keyFlags, parseKeyRecord, parseTags, isStrongKey, type ParsedKey } from '../keys/parse-key.ts';
import type { KeyAnswer, KeyLookup, KeyRecord, KeySighting } from '../keys/types.ts';
import { normalizeKeyName } from '../keys/types.ts';
import type { HeaderField } from '../read/headers.ts';
import type { VerifierBodyHash } from '../read/message-traits.ts';
import { claimedAuthorDomains, claimsAuthor } from './authors.ts';
import { dkimVerifyDirect } from './mailauth-direct.ts';
import { installMailauthFastPaths } from './mailauth-fast-paths.ts';
import { readSignatureTags, type SignatureTags } from './signature-tags.ts';
import { unnamedLenientReadings } from './unnamed-readings.ts';
import { boundedMemo } from '../bounded-memo.ts';

installMailauthFastPaths();

/**
 * What became of one DKIM-Signature, in our own words. mailauth's result keywords are
 * RFC 8601 vocabulary (a body-hash mismatch is "neutral" in its lenient mode, a missing key is
 * "neutral" too); a forensic verdict needs to tell those apart.
 */
export type SignatureOutcome =
  | 'pass'
  | 'body-modified'
  | 'signature-mismatch'
  | 'key-not-found'
  | 'key-revoked'
  | 'key-invalid'
  | 'dns-error'
  | 'unsupported-algorithm'
  | 'malformed'
  | 'expired'
  | 'from-not-signed';

/** The key a result was reached with, and where it came from. */
export interface KeyUsed {
  name: string;
  txt: string;
  source: KeyRecord['source'];
  origin: string;
  fetchedAt: string | null;
  firstSeen: string | null;
  lastSeen: string | null;
  keyType: ParsedKey['keyType'];
  bits: number | null;
  fingerprint: string | null;
  fingerprintMd5: string | null;
  revoked: boolean;
  strong: boolean;
  /** where the key is listed as having a public private half, if it is */
  compromised: string | null;
  /** every source that saw this key with dates, each with its own (see KeyRecord) */
  seenWithDates?: KeySighting[];
}

export interface DkimSignatureResult {
  /** position among the message's DKIM-Signature headers, 0 = topmost (newest) */
  index: number;
  tags: SignatureTags;
  /** mailauth's result keyword and comment, kept verbatim for the record */
  result: string;
  comment: string | null;
  outcome: SignatureOutcome;
  /** `<selector>._domainkey.<domain>`, when d= and s= are present */
  keyName: string | null;
  /** the key looked up for this signature; null when none was found */
  key: KeyUsed | null;
  /** how the key lookup ended, for signatures that have no key */
  keyLookup: 'found' | 'absent' | 'error' | 'not-needed';
  /** d= aligns (relaxed, Public Suffix List) with the From domain */
  aligned: boolean;
  /**
   * For a body-hash mismatch: whether the header signature still verifies under the key.
   * True means the headers are exactly as signed and only the body changed.
   */
  headerSignatureValid: boolean | null;
  /**
   * For a signature that fails against an RSA key: whether the key made it at all, read from the
   * signature itself (see madeWithKey). False means the record now published under the selector
   * is not the key that signed (a selector whose key was replaced since, as Microsoft 365 and
   * cPanel reuse selector names), so the failure says nothing about the content. Null when not
   * asked or not knowable (Ed25519 signatures carry no such structure).
   */
  signedByKey?: boolean | null;
  /** canonical body bytes covered by the signature, and in total (differ only with l=) */
  bodyBytesSigned: number | null;
  bodyBytesTotal: number | null;
  warnings: string[];
  /**
   * The key record on record for the signature has the flag t=y: the domain was testing DKIM
   * (RFC 6376 section 3.6.1). Read from the record itself, since mailauth fetches no key for a
   * signature whose body hash fails. Optional, as results made without a verifier leave it out.
   */
  testing?: boolean;
  /**
   * another record of the same key (same fingerprint), from another source, that would have
   * allowed what the record used forbids (strictestRecordOfKey): the sources disagree
   */
  laxerRecord?: { source: string; origin: string };
}

export interface DkimVerification {
  signatures: DkimSignatureResult[];
  /** the ARC data of the DKIM passes and the key records, for verifyArc */
  arc: ArcKeySource;
  /** every key answer obtained, by name */
  answers: Map<string, KeyAnswer>;
  /** the sha256 body hashes mailauth computed over the whole body (no l=), for reuse */
  bodyHashes: VerifierBodyHash[];
  /** the signatures past MAX_SIGNATURES_CHECKED, which were not verified and have no result; null when every one was */
  notChecked: SignaturesNotChecked | null;
}

/**
 * The most DKIM-Signature fields verified in one message. A genuine message carries a handful
 * (the author's domain, an email service's, a mailing list's or two); one with thousands was
 * made to exhaust the verifier: 19,000 junk signatures on a 2 MB message cost 7.3 s and 401 MB
 * in verify, and 19,001 rows that every reader read whole, and a distinct l= or c= on each made
 * each hash the whole body again. Fifty is the most ARC sets a chain may have (RFC 8617 section
 * 4.2.1), the one bound the DKIM and ARC standards set on how many signatures a message is
 * expected to carry. Which fifty: see chooseChecked.
 */
export const MAX_SIGNATURES_CHECKED = 50;

/** How many of the signatures not checked are named in the record of them, by position and d=. */
const NOT_CHECKED_NAMED = 10;

/** The signatures of a message past MAX_SIGNATURES_CHECKED: counted and sampled, never verified. */
export interface SignaturesNotChecked {
  /** the DKIM-Signature fields of the message, checked or not */
  fields: number;
  /** how many of them were not checked */
  count: number;
  /** of those, how many have a d= aligned with a From domain (claimsAuthor) */
  claimingAuthor: number;
  /** the first NOT_CHECKED_NAMED of them: position (as DkimSignatureResult.index) and d=, cut to 100 characters */
  first: Array<{ index: number; domain: string | null }>;
}

export interface VerifyDkimOptions {
  lookup: KeyLookup;
  /** the earliest signature t=: x= expiry is judged at it, never at today or at the Date */
  curTime: Date | null;
  /** key names the message's ARC validation will ask for through the same lookup (arcKeyNamesAsked) */
  askAhead?: readonly string[];
}

/** The algorithms mailauth verifies: a signature of any other is left out, and its key never asked for. */
const PROCESSED_ALGORITHMS: ReadonlySet<string> = new Set(['rsa-sha256', 'rsa-sha1', 'ed25519-sha256']);

// Low enough that weak keys are still measured; our own policy then refuses to call them proof.
const MIN_BIT_LENGTH = 1;

/**
 * Verifies every DKIM-Signature of a message whose line endings are already CRLF: its bytes, or
 * its header block and its body apart (a header rewritten is not copied whole with its body).
 * A selector can have several candidate keys (a selector reused over the years, a key found in
 * two archives); each is tried, and a signature keeps the first candidate that verifies it,
 * unless another record of the same key is stricter (strictestRecordOfKey).
 */
export async function verifyDkim(message: Buffer | readonly [head: Buffer, body: Buffer], fields: HeaderField[], options: VerifyDkimOptions): Promise<DkimVerification> {
  const chunks = (Buffer.isBuffer(message) ? [message] : message).filter((chunk) => chunk.length);
  const answers = new Map<string, KeyAnswer>();
  // (a lookup under way is shared: the keys asked at once below are awaited by mailauth's resolver in turn)
  const asking = new Map<string, Promise<KeyAnswer>>();
  const answerFor = async (name: string): Promise<KeyAnswer> => {
    const key = normalizeKeyName(name);
    const answer = answers.get(key);
    if (answer) return answer;
    let asked = asking.get(key);
    if (!asked) {
      asked = options.lookup(key).then((found) => {
        answers.set(key, found);
        return found;
      });
      asking.set(key, asked);
    }
    return asked;
  };
  // Only the fields chosen are read, asked keys for and verified: the work per message is
  // bounded whatever it carries.
  const all = fields.filter((f) => f.name === 'dkim-signature');
  const { positions, notChecked } = chooseChecked(all, fields);
  const headers = notChecked ? positions.map((p) => all[p]!) : all;
  const usedRecord = new Map<string, KeyRecord>();
  const resolverFor = (candidate: number) =>
    keyResolver(answerFor, (name, records) => {
      const record = records[Math.min(candidate, records.length - 1)]!;
      usedRecord.set(`${candidate}:${name}`, record);
      return record;
    });

  // Handed over as one chunk rather than mailauth's 64 KB slices: every line of the body then
  // reaches the canonicalization fast paths inside the known CRLF-only range (no slice boundary
  // cuts a line), and a 10 MB message costs one event-loop turn instead of 160.
  const run = (candidate: number): Promise<DKIMVerifyResult> =>
    dkimVerifyDirect(chunks, {
      resolver: resolverFor(candidate),
      minBitLength: MIN_BIT_LENGTH,
      ...(options.curTime ? { curTime: options.curTime } : {}),
      ...(notChecked ? { leakcheckChecked: checkedFieldsOnly(headers) } : {}),
    } as DKIMVerifyOptions);

  // The keys of signatures by more than one domain are asked for at once, before mailauth asks
  // for them one at a time: a name server that never answers cost each signature its whole
  // timeout in turn, and a forger who added three signatures naming a domain of theirs ran the
  // message past the analysis' time limit, its red flag erased as analysis-failed (red team W2,
  // W2-05). So were three selectors of one domain whose name servers the forger runs: one that is
  // not the author's is asked ahead too. The author's own domain is not the forger's to slow down,
  // and asking ahead for a message signed twice by it cost the bench 4 %. (What cannot be read as
  // tags is left to mailauth, which asks for what it reads.) The names of an ARC chain come with
  // them, whenever there is more than one name to ask: mailauth asks for the newest
  // ARC-Message-Signature's key after the signatures', and for the seals' after that.
  const tagsList = headers.map((f) => readSignatureTags(f.value));
  const asked = tagsList.filter((t) => t.domain && t.selector && t.b && t.algorithm !== null && PROCESSED_ALGORITHMS.has(t.algorithm));
  const arcNames = options.askAhead ?? [];
  const names = new Set([...asked.map((t) => `${t.selector}._domainkey.${t.domain}`), ...arcNames]);
  const domains = new Set(asked.map((t) => t.domain!));
  const thirdParty = (): boolean => {
    const authors = claimedAuthorDomains(fields);
    return [...domains].some((d) => !claimsAuthor(d.toLowerCase(), authors));
  };
  if (domains.size > 1 || (names.size > 1 && (arcNames.length > 0 || thirdParty()))) {
    for (const name of names) void answerFor(name);
  }
  const first = await run(0);
  // kept whole, for the ARC data each pass holds (its ARC-Message-Signature verified under it)
  const passes = new Map<number, DKIMVerifyResult>([[0, first]]);
  const passWith = async (candidate: number): Promise<DKIMVerifyResult> => {
    let pass = passes.get(candidate);
    if (!pass) {
      pass = await run(candidate);
      passes.set(candidate, pass);
    }
    return pass;
  };
  const runs = new Map<number, Array<DKIMResult | null>>([[0, matchResults(headers, tagsList, first.results)]]);
  const resultsOf = async (candidate: number): Promise<Array<DKIMResult | null>> => {
    let results = runs.get(candidate);
    if (!results) {
      results = matchResults(headers, tagsList, (await passWith(candidate)).results);
      runs.set(candidate, results);
    }
    return results;
  };
  let best: Array<Chosen | null> = runs.get(0)!.map((r) => (r ? { result: r, candidate: 0 } : null));

  const candidates = Math.max(0, ...[...answers.values()].map((a) => (a.status === 'found' ? a.records.length : 0)));
  // Each candidate is a whole verification of the message again, every signature and the body:
  // asked only when a failing signature could pass under it. A forged message signed by two
  // domains (whose keys are all asked for ahead) was verified again for each record of a
  // selector's archive, for a body hash that no key changes; and a forged header was verified
  // again under every RSA key of the archive, though b= decodes under one of them at most.
  const mayPassUnder = (chosen: Chosen | null, index: number, candidate: number): boolean => {
    if (!chosen || chosen.result.status.result === 'pass' || KEY_INDEPENDENT_COMMENTS.has(chosen.result.status.comment ?? '')) return false;
    const name = resultKeyName(chosen.result);
    const answer = name ? answers.get(name) : undefined;
    return answer?.status === 'found' && answer.records.length > candidate && !cannotHaveMade(tagsList[index]!, answer.records[candidate]!);
  };
  for (let candidate = 1; candidate < candidates; candidate++) {
    if (!best.some((b, index) => mayPassUnder(b, index, candidate))) continue;
    const again = await resultsOf(candidate);
    best = best.map((current, i) => {
      const other = again[i];
      return current && other && current.result.status.result !== 'pass' && other.status.result === 'pass'
        ? { result: other, candidate }
        : current;
    });
  }
  for (const [i, chosen] of best.entries()) {
    if (chosen?.result.status.result === 'pass') best[i] = await strictestRecordOfKey(i, chosen, answers, resultsOf);
  }

  const signatures: DkimSignatureResult[] = [];
  for (const [index, tags] of tagsList.entries()) {
    const found = best[index];
    signatures.push(
      found
        ? await describeResult(positions[index]!, tags, found, usedRecord, answerFor)
        : unprocessed(positions[index]!, tags),
    );
  }
  const arc: ArcKeySource = { arcDataWith: async (candidate) => (await passWith(candidate)).arc, answerFor };
  return { signatures, arc, answers, bodyHashes: wholeBodyHashes(first.results), notChecked };
}

/**
 * Which DKIM-Signature fields are verified (their positions, in header order), and what is left
 * unchecked past MAX_SIGNATURES_CHECKED. First those whose d= claims a From domain (aligned with
 * it, as a proof must be), then the others: anyone on a message's path can add signatures, and
 * junk then cannot push out the author domain's signature unless it claims the author's domain
 * itself. Each group from the bottom up: signatures are added on top as a message travels, so
 * the author's own is among the lowest, and junk added on top of it (by a relay, by a forger, the
 * 300 of red team BB-05) cannot push it out even when it claims the author's domain; only junk
 * slipped in below it can. Of the fields not checked, only d= is kept.
 */
function chooseChecked(all: HeaderField[], fields: HeaderField[]): { positions: number[]; notChecked: SignaturesNotChecked | null } {
  const positions = all.map((_, i) => i);
  if (all.length <= MAX_SIGNATURES_CHECKED) return { positions, notChecked: null };
  const authorDomains = claimedAuthorDomains(fields);
  const domains = all.map((f) => parseTags(f.value).get('d')?.toLowerCase() ?? null);
  // (junk names one domain thousands of times: each is read once)
  const claims = new Map<string, boolean>();
  const claiming = (d: string | null): boolean => {
    if (d === null) return false;
    let claim = claims.get(d);
    if (claim === undefined) claims.set(d, (claim = claimsAuthor(d, authorDomains)));
    return claim;
  };
  const bottomUp = [...positions].reverse();
  const order = [...bottomUp.filter((p) => claiming(domains[p]!)), ...bottomUp.filter((p) => !claiming(domains[p]!))];
  const checked = new Set(order.slice(0, MAX_SIGNATURES_CHECKED));
  const unchecked = positions.filter((p) => !checked.has(p));
  return {
    positions: positions.filter((p) => checked.has(p)),
    notChecked: {
      fields: all.length,
      count: unchecked.length,
      claimingAuthor: unchecked.filter((p) => claiming(domains[p]!)).length,
      first: unchecked.slice(0, NOT_CHECKED_NAMED).map((index) => ({ index, domain: domains[index]?.slice(0, 100) ?? null })),
    },
  };
}

/**
 * What mailauth is told to verify (the `signatures-checked` patch, mailauth-patches.ts): each
 * field it holds is compared, as headers.ts reads it, with the fields chosen, and as many copies
 * of one text are verified as were chosen. Its fields are ours in the same order, so the first
 * copies are the ones chosen. A fresh count for every pass.
 */
function checkedFieldsOnly(chosen: HeaderField[]): (line: Buffer | string) => boolean {
  const left = new Map<string, number>();
  for (const f of chosen) if (!f.looseName) left.set(fieldKey(f), (left.get(fieldKey(f)) ?? 0) + 1);
  return (line) => {
    const key = fieldKeyOfLine(Buffer.isBuffer(line) ? line.toString('binary') : String(line));
    const n = key === null ? 0 : (left.get(key) ?? 0);
    if (n === 0) return false;
    left.set(key!, n - 1);
    return true;
  };
}

const fieldKey = (field: HeaderField): string => `${field.name}:${field.value}`;

/** The field a raw header line (folded, as mailauth keeps it) is, in fieldKey's form, as headers.ts reads it; null without a name. */
function fieldKeyOfLine(line: string): string | null {
  const text = line.split(/\r?\n|\r/).join('');
  const colon = text.indexOf(':');
  if (colon <= 0) return null;
  return `${text.slice(0, colon).replace(/[ \t]+$/, '').toLowerCase()}:${text.slice(colon + 1).replace(/[ \t]+/g, ' ').trim()}`;
}

/**
 * What ARC validation needs from the DKIM passes. The newest ARC-Message-Signature is verified
 * by mailauth's DKIM verifier, in each pass, under that pass's candidate key; the seals are
 * verified by arc() under whatever resolver it is given.
 */
export interface ArcKeySource {
  /** mailauth's ARC data of the pass made with candidate `candidate` of every key name */
  arcDataWith(candidate: number): Promise<unknown>;
  answerFor(name: string): Promise<KeyAnswer>;
}

/** A resolver for mailauth that answers a TXT query with the one record `pick` chooses among those on record. */
export function keyResolver(
  answerFor: (name: string) => Promise<KeyAnswer>,
  pick: (name: string, records: KeyRecord[]) => KeyRecord,
): (name: string, type: string) => Promise<string[][]> {
  return async (name, type) => {
    if (type.toUpperCase() !== 'TXT') throw dnsError('ENOTFOUND', `no ${type} records here`);
    const answer = await answerFor(name);
    if (answer.status === 'absent') throw dnsError('ENOTFOUND', answer.detail);
    if (answer.status === 'error') throw dnsError(answer.code, answer.detail);
    return [[pick(normalizeKeyName(name), answer.records).txt]];
  };
}

/**
 * A key record as a result records it. `measured` is the key as leakcheck read it from the
 * record when that is the key that verified; null leaves type, size and fingerprint unstated.
 */
export function keyUsedOf(name: string, record: KeyRecord, parsed: ParsedKey, measured: ParsedKey | null): KeyUsed {
  return {
    name,
    txt: record.txt,
    source: record.source,
    origin: record.origin,
    fetchedAt: record.fetchedAt ?? null,
    firstSeen: record.firstSeen ?? null,
    lastSeen: record.lastSeen ?? null,
    keyType: measured?.keyType ?? null,
    bits: measured?.bits ?? null,
    fingerprint: measured?.fingerprint ?? null,
    fingerprintMd5: measured?.fingerprintMd5 ?? null,
    revoked: parsed.revoked,
    strong: measured ? isStrongKey(measured) : false,
    compromised: record.compromised ?? null,
    ...(record.seenWithDates ? { seenWithDates: record.seenWithDates } : {}),
  };
}

/** The result a signature keeps, the candidate it was reached with, and a laxer record of its key set aside. */
interface Chosen {
  result: DKIMResult;
  candidate: number;
  laxer?: KeyRecord;
}

/**
 * mailauth comments for a key record that forbids the signature: its h= leaves out the hash
 * algorithm, its s= leaves out email, or its v= or k= is not one this key may be used under.
 */
export const RESTRICTION_COMMENTS = new Set(['inappropriate hash algorithm', 'key not for email', 'unknown key version', 'unknown key type', 'inappropriate key algorithm']);

/**
 * mailauth comments for a failure that no key record changes: the body hash (compared before the
 * signature, and independent of the key), the x= expiry, the From field left out of h=, an
 * algorithm or canonicalization it does not know.
 */
const KEY_INDEPENDENT_COMMENTS: ReadonlySet<string> = new Set(['body hash did not verify', 'expired', 'invalid expiration', 'From field not signed', 'unknown algorithm', 'unknown canonicalization']);

/** The key name a result was reached for: the one mailauth used (a tag list can name d= twice). */
const resultKeyName = (result: DKIMResult): string | null =>
  result.selector && result.signingDomain ? normalizeKeyName(`${result.selector}._domainkey.${result.signingDomain}`) : null;

/**
 * A signature that verifies with one record of a key, checked against every other record of the
 * same key (same fingerprint) that the selector has: another archive, a colleague's file, a
 * record with other tags. Which of them the domain published when the message was signed is not
 * known, so the verification must hold under each; otherwise a record without the domain's h=,
 * s= or t= (a file that copied the key alone, say) would silently lift the restrictions the
 * domain set. A record of the key that forbids the signature (RESTRICTION_COMMENTS) wins, and
 * the laxer record is named with it; among records that all allow it, the one under which the
 * signature draws the most caveats (t=y testing, lenient readings such as a t=s breach) is the
 * one on record. A record that fails for another reason (one mailauth reads as no key at all) is
 * a broken copy, not a restriction, and hides nothing.
 */
async function strictestRecordOfKey(
  index: number,
  chosen: Chosen,
  answers: Map<string, KeyAnswer>,
  resultsOf: (candidate: number) => Promise<Array<DKIMResult | null>>,
): Promise<Chosen> {
  const name = resultKeyName(chosen.result);
  const answer = name ? answers.get(name) : undefined;
  if (!answer || answer.status !== 'found' || answer.records.length < 2) return chosen;
  const at = (candidate: number): number => Math.min(candidate, answer.records.length - 1);
  const used = answer.records[at(chosen.candidate)]!;
  const fingerprint = parseKeyRecord(used.txt).fingerprint;
  if (!fingerprint) return chosen;
  const caveats = (r: DKIMResult): number => Number(r.status.testing === true) + ((r.status as { warnings?: string[] }).warnings?.length ?? 0);
  let strictest = chosen;
  for (const [candidate, record] of answer.records.entries()) {
    if (candidate === at(chosen.candidate) || parseKeyRecord(record.txt).fingerprint !== fingerprint) continue;
    const other = (await resultsOf(candidate))[index];
    if (!other || resultKeyName(other) !== name) continue;
    if (other.status.result !== 'pass') {
      if (RESTRICTION_COMMENTS.has(other.status.comment ?? '')) return { result: other, candidate, laxer: used };
    } else if (caveats(other) > caveats(strictest.result)) {
      strictest = { result: other, candidate, laxer: used };
    }
  }
  return strictest;
}

/** The sha256 body hashes of a verification that cover the whole body, with the body length read. */
function wholeBodyHashes(results: DKIMResult[]): VerifierBodyHash[] {
  const out: VerifierBodyHash[] = [];
  for (const r of results) {
    const { bodyHash, sourceBodyLength, canonBodyLengthLimited, algo, format } = r as DKIMResult & { algo?: string; format?: unknown };
    if (typeof bodyHash !== 'string' || typeof sourceBodyLength !== 'number' || canonBodyLengthLimited !== false) continue;
    if (!/-sha256$/i.test(algo ?? '')) continue;
    // mailauth's getBodyCanon: the result's format is the c= it hashed the body with
    const canonicalization = (String(format ?? '').split('/')[1] || 'simple').toLowerCase().trim();
    if (canonicalization !== 'relaxed' && canonicalization !== 'simple') continue;
    const hex = Buffer.from(bodyHash, 'base64').toString('hex');
    if (hex.length === 64) out.push({ sha256: hex, bodyLength: sourceBodyLength, canonicalization });
  }
  return out;
}

/**
 * Pairs mailauth's results with the DKIM-Signature fields they were computed for. mailauth
 * reports its signatures in header order and leaves out those it could not process, so the
 * pairing walks both lists in step; a field pairs with a result only when it is the very field
 * the result names (`leakcheckHeaderLine`, see mailauth-patches.ts): its name and unfolded
 * value, read as headers.ts reads them. Pairing by `b=` alone let a decoy copy of a genuine
 * signature, with the same `b=` and a tag mailauth skips, placed above it, take the genuine
 * result, and every check then read the decoy's `h=` (red team, round 4). A field this reader
 * accepts and mailauth does not (looseName) pairs with nothing. Without the patch (another
 * mailauth version, which the tests reject) the pairing falls back to `b=`.
 */
function matchResults(fields: HeaderField[], tagsList: SignatureTags[], results: DKIMResult[]): Array<DKIMResult | null> {
  const real = results.filter((r) => r.status.result !== 'none' || r.signature !== undefined);
  let at = 0;
  return tagsList.map((tags, i) => {
    const candidate = real[at];
    if (candidate && isResultFor(candidate, fields[i]!, tags)) {
      at++;
      return candidate;
    }
    return null;
  });
}

function isResultFor(result: DKIMResult, field: HeaderField, tags: SignatureTags): boolean {
  if ((result.signature ?? '').replace(/\s+/g, '') !== tags.b) return false;
  const line = (result as DKIMResult & { leakcheckHeaderLine?: unknown }).leakcheckHeaderLine;
  if (typeof line !== 'string') return true;
  return !field.looseName && fieldKeyOfLine(line) === fieldKey(field);
}

async function describeResult(
  index: number,
  tags: SignatureTags,
  { result, candidate, laxer }: Chosen,
  usedRecord: Map<string, KeyRecord>,
  answerFor: (name: string) => Promise<KeyAnswer>,
): Promise<DkimSignatureResult> {
  const comment = result.status.comment ?? null;
  // The key name is the one mailauth actually used. A tag list can name d= twice, and the key
  // fetched for one d= must never be reported as the key of the other.
  const domain = result.signingDomain ?? tags.domain;
  const selector = result.selector ?? tags.selector;
  const name = selector && domain ? normalizeKeyName(`${selector}._domainkey.${domain}`) : null;
  let record = name ? (usedRecord.get(`${candidate}:${name}`) ?? null) : null;
  let keyLookup: DkimSignatureResult['keyLookup'] = 'not-needed';
  const bodyModified = comment === 'body hash did not verify';
  let headerSignatureValid: boolean | null = null;
  /** the record is the candidate key that made the failed signature, not the one mailauth last tried */
  let signerChosen = false;
  if (name && (record || bodyModified || result.status.result !== 'neutral' || isKeyComment(comment))) {
    // mailauth checks the body before the key; for a body mismatch we still want the key, to
    // tell a genuine signature over a changed body from a signature that was never genuine.
    const answer = await answerFor(name);
    keyLookup = answer.status;
    if (!record && answer.status === 'found') {
      record = answer.records[0] ?? null;
      const canonicalized = result.signingHeaders?.canonicalizedHeader;
      if (bodyModified && canonicalized) {
        // Every candidate key is tried, as for a passing signature; the one that verifies the
        // headers is the one on record.
        for (const candidateRecord of answer.records) {
          const valid = verifyHeaderSignature(tags, Buffer.from(canonicalized, 'base64'), parseKeyRecord(candidateRecord.txt));
          if (headerSignatureValid === null || valid === true) {
            headerSignatureValid = valid;
            record = candidateRecord;
          }
          if (valid === true) break;
        }
      }
    }
    // With several candidate keys for the selector, a signature that fails is judged against the
    // one that made it, when one did (madeWithKey): a failure against it is evidence of
    // tampering, a failure against the others says nothing.
    // A record whose own key made the signature stays: another record of the same key (one with
    // fewer restrictions, see strictestRecordOfKey) must not take its place.
    if (
      answer.status === 'found' && answer.records.length > 1 && result.status.result !== 'pass' && headerSignatureValid !== true &&
      !(record && madeWithKey(tags, parseKeyRecord(record.txt)) === true)
    ) {
      const signer = answer.records.find((r) => madeWithKey(tags, parseKeyRecord(r.txt)) === true);
      if (signer && signer !== record) {
        record = signer;
        signerChosen = true;
      }
    }
  }
  const parsed = record ? parseKeyRecord(record.txt) : null;
  const unusable = parsed ? unusableKey(parsed, signerChosen ? null : result) : null;
  // A key not measured as the one that verified is recorded unmeasured, never as another key.
  const measured = unusable ? null : parsed;
  const key: KeyUsed | null = record && parsed && name ? keyUsedOf(name, record, parsed, measured) : null;

  const warnings = [...((result.status as { warnings?: string[] }).warnings ?? [])];
  for (const reading of unnamedLenientReadings(tags, record?.txt ?? null, result.canonBodyLengthTotal ?? null)) if (!warnings.includes(reading)) warnings.push(reading);
  // An invalid tag list (a repeated tag, an l= that is not 1*76DIGIT, …) is a PERMFAIL in
  // RFC 6376 section 3.2 and 6.1.1. mailauth's lenient mode verifies it anyway, reading it its own
  // way (the last d=, l=0x10 as 16): such a signature can be made to say what an attacker wants,
  // so it is never proof. Nor is its failure evidence of tampering: the signer may have meant the
  // first c= where mailauth hashed with the last, and dkimpy rejects such a list before hashing
  // (red team P, P-08). Stripping the signature would make the same message unverifiable too.
  // So is one missing a tag RFC 6376 section 3.5 requires, or whose bh= is no digest: a file cut
  // inside the field (a failed copy, a carved file) left a genuine signature without b= and with
  // half its bh=, which mailauth's lenient mode read as a body-hash failure, and a damaged copy
  // of a genuine message was called altered (red team U, U-03).
  const missing = requiredTagProblems(tags);
  const invalidTagList = tags.duplicateTags.length > 0 || warnings.includes('tag-syntax') || missing.length > 0;
  const classified = classify(result, comment, keyLookup, parsed);
  const readAnyway = classified === 'pass' || classified === 'signature-mismatch' || classified === 'body-modified';
  const outcome: SignatureOutcome = invalidTagList && readAnyway ? 'malformed' : unusable ? 'key-invalid' : classified;
  const mailauthSaid = `mailauth: ${result.status.result}${comment ? ` (${comment})` : ''}`;
  const askSigner = outcome === 'signature-mismatch' || (outcome === 'body-modified' && headerSignatureValid !== true);
  const signedByKey = askSigner && measured ? madeWithKey(tags, measured) : null;
  const said =
    invalidTagList && outcome === 'malformed'
      ? `invalid tag list${tags.duplicateTags.length ? ` (repeated ${tags.duplicateTags.join(', ')})` : ''}${missing.length ? ` (${missing.join(', ')})` : ''}; ${mailauthSaid}`
      : outcome === 'key-invalid' && unusable
        ? `key record rejected: ${unusable}${comment ? `; mailauth: ${comment}` : ''}`
        : comment;
  // The examiner is told that another record of this key would have allowed more, and where it is.
  const conflict = laxer
    ? `the same key is also on record (${laxer.source} from ${laxer.origin}) with a laxer record; the strictest record of the key applies`
    : null;
  return {
    index,
    tags: result.canonBodyLengthLimited && typeof result.canonBodyLengthLimit === 'number' ? { ...tags, bodyLength: result.canonBodyLengthLimit } : tags,
    result: result.status.result,
    comment: said && conflict ? `${said}; ${conflict}` : (said ?? conflict),
    outcome,
    keyName: name,
    key,
    keyLookup,
    aligned: Boolean(result.status.aligned),
    headerSignatureValid,
    ...(signedByKey !== null ? { signedByKey } : {}),
    bodyBytesSigned: result.canonBodyLength ?? null,
    bodyBytesTotal: result.canonBodyLengthTotal ?? null,
    warnings,
    testing: result.status.testing === true || (record !== null && keyFlags(record.txt).includes('y')),
    ...(laxer && outcome === 'key-invalid' ? { laxerRecord: { source: laxer.source, origin: laxer.origin } } : {}),
  };
}

/**
 * Why the key record mailauth verified a signature with is no key to rely on, or null. mailauth's
 * lenient mode reads records RFC 6376 rejects (a repeated tag, of which it keeps the last), and the
 * key measured here (type, bits, fingerprint, the compromised list) must be the key that verified:
 * a record we cannot read, or a key that is not the one mailauth used, never proves.
 */
function unusableKey(parsed: ParsedKey, result: DKIMResult | null): string | null {
  // a candidate chosen because it made the failed signature: mailauth's last key is another
  if (result === null) return parsed.error;
  // mailauth read no key from the record: its own outcome (no key, invalid key, …) stands
  if (!result.publicKey || parsed.revoked) return null;
  if (parsed.error) return parsed.error;
  if (parsed.fingerprint !== fingerprintOfPem(result.publicKey)) return 'the key mailauth verified with is not the key measured from the record';
  return null;
}

// mailauth hands back the key it used as PEM: the same few keys for thousands of signatures, so
// each is read once. Bounded, so that a hostile dump of unique keys cannot grow it.
/** sha256 of the DER SubjectPublicKeyInfo of a PEM public key, as parseKeyRecord measures it. */
const fingerprintOfPem = boundedMemo(10_000, (pem: string): string | null => {
  try {
    const der = createPublicKey(pem).export({ format: 'der', type: 'spki' });
    return createHash('sha256').update(der).digest('hex');
  } catch {
    return null;
  }
});

/** The digest length of each algorithm's body hash, in bytes. */
const DIGEST_BYTES: Readonly<Record<string, number>> = { 'rsa-sha256': 32, 'ed25519-sha256': 32, 'rsa-sha1': 20 };

/**
 * What a tag list lacks of RFC 6376 section 3.5's required tags, or a bh= that is not a digest of
 * the algorithm's length. (v= and h= aside: mailauth reads their absence leniently, and the
 * finding signature-read-leniently says so; a signature without h= is never proof.)
 */
function requiredTagProblems(tags: SignatureTags): string[] {
  const problems: string[] = [];
  for (const [name, present] of [['a', tags.algorithm], ['b', tags.b], ['bh', tags.bh], ['d', tags.domain], ['s', tags.selector]] as const) {
    if (!present) problems.push(`no ${name}=`);
  }
  const digest = tags.algorithm ? DIGEST_BYTES[tags.algorithm] : undefined;
  if (tags.bh && digest !== undefined) {
    const bytes = Buffer.from(tags.bh.replace(/\s+/g, ''), 'base64').length;
    if (bytes !== digest) problems.push(`bh= of ${bytes} bytes, not ${digest}`);
  }
  return problems;
}

function unprocessed(index: number, tags: SignatureTags): DkimSignatureResult {
  const canon = tags.canonicalization.split('/');
  const malformed = !tags.domain || !tags.selector || !tags.b;
  const unsupported = !malformed && (!tags.algorithm || !PROCESSED_ALGORITHMS.has(tags.algorithm) || canon.some((c) => !['simple', 'relaxed', ''].includes(c)));
  return {
    index,
    tags,
    result: 'neutral',
    comment: unsupported ? 'unknown algorithm or canonicalization' : 'signature could not be processed',
    outcome: unsupported ? 'unsupported-algorithm' : 'malformed',
    keyName: tags.selector && tags.domain ? normalizeKeyName(`${tags.selector}._domainkey.${tags.domain}`) : null,
    key: null,
    keyLookup: 'not-needed',
    aligned: false,
    headerSignatureValid: null,
    bodyBytesSigned: null,
    bodyBytesTotal: null,
    warnings: [],
    testing: false,
  };
}

const KEY_COMMENTS = new Set([
  'no key',
  'invalid public key',
  'unknown key version',
  'unknown key type',
  'inappropriate hash algorithm',
  'key not for email',
  'inappropriate key algorithm',
]);
const isKeyComment = (comment: string | null): boolean => comment !== null && KEY_COMMENTS.has(comment);

function classify(
  result: DKIMResult,
  comment: string | null,
  keyLookup: DkimSignatureResult['keyLookup'],
  parsed: ParsedKey | null,
): SignatureOutcome {
  const keyword = result.status.result;
  if (keyword === 'pass') return 'pass';
  if (keyword === 'policy') return 'pass'; // only for keys under minBitLength, which we set to 1
  if (keyword === 'temperror' || keyLookup === 'error') return 'dns-error';
  if (comment === 'body hash did not verify') return 'body-modified';
  if (keyword === 'fail') return 'signature-mismatch';
  if (comment === 'no key') return 'key-not-found';
  if (comment === 'expired' || comment === 'invalid expiration') return 'expired';
  if (comment === 'From field not signed') return 'from-not-signed';
  if (parsed?.revoked) return 'key-revoked';
  if (isKeyComment(comment)) return 'key-invalid';
  if (comment === 'unknown algorithm' || comment === 'unknown canonicalization') return 'unsupported-algorithm';
  // a crypto library error on a key that parsed (e.g. an Ed25519 key for an rsa- signature)
  if (parsed && !parsed.error && comment && !/syntax|missing|domain mismatch/.test(comment)) return 'key-invalid';
  return 'malformed';
}

/** Whether a signature (its b= and a=) verifies over its canonicalized signed header fields under `key`: null when that cannot be tried. */
export function verifyHeaderSignature(tags: Pick<SignatureTags, 'b' | 'algorithm'>, canonicalizedHeader: Buffer, key: ParsedKey): boolean | null {
  if (!key.publicKey || !tags.b) return null;
  try {
    const signature = signatureOfKeyLength(Buffer.from(tags.b, 'base64'), key.keyType === 'rsa' ? (key.bits ?? 0) : 0, null);
    if (key.keyType === 'ed25519') {
      return cryptoVerify(null, createHash('sha256').update(canonicalizedHeader).digest(), key.publicKey, signature);
    }
    const hash = tags.algorithm === 'rsa-sha1' ? 'sha1' : 'sha256';
    return cryptoVerify(hash, canonicalizedHeader, key.publicKey, signature);
  } catch {
    return null;
  }
}

/** DigestInfo prefixes of EMSA-PKCS1-v1_5 (RFC 8017 section 9.2, note 1: with and without the NULL parameters). */
const DIGEST_INFO: Record<'sha1' | 'sha256', Buffer[]> = {
  sha256: [Buffer.from('3031300d060960864801650304020105000420', 'hex'), Buffer.from('302f300b0609608648016503040201' + '0420', 'hex')],
  sha1: [Buffer.from('3021300906052b0e03021a05000414', 'hex'), Buffer.from('301f300706052b0e03021a' + '0414', 'hex')],
};

/**
 * The record's key cannot have made this signature, so no message verifies under it: an RSA
 * signature whose b= does not decode under the key (madeWithKey), whatever was hashed. Only for a
 * tag list read one way: with a repeated tag, mailauth may verify another b= than the one read here.
 */
function cannotHaveMade(tags: SignatureTags, record: KeyRecord): boolean {
  return (tags.algorithm === 'rsa-sha256' || tags.algorithm === 'rsa-sha1') && !tags.duplicateTags.length && madeWithKey(tags, parseKeyRecord(record.txt)) === false;
}

/**
 * Whether an RSA signature was made with this key, whatever it signed. Raised to the public
 * exponent, a signature made with the key gives back its encoding: 00 01 FF…FF 00, the hash
 * algorithm's DigestInfo, then the hash of what was signed. Under any other key it gives
 * numbers without that structure (the chance of it by accident is below 2^-400). So a signature
 * that fails against the key it was made with proves that what it signed was changed; one that
 * fails against another key proves nothing, however well that key is known.
 */
export function madeWithKey(tags: SignatureTags, key: ParsedKey): boolean | null {
  if (!key.publicKey || key.keyType !== 'rsa' || !tags.b) return null;
  const hash = tags.algorithm === 'rsa-sha1' ? 'sha1' : 'sha256';
  let m: Buffer;
  try {
    m = publicDecrypt({ key: key.publicKey, padding: cryptoConstants.RSA_NO_PADDING }, signatureOfKeyLength(Buffer.from(tags.b, 'base64'), key.bits ?? 0, null));
  } catch {
    return false; // not even a number this key can have made (wrong length, or not below its modulus)
  }
  const hashBytes = hash === 'sha1' ? 20 : 32;
  return DIGEST_INFO[hash].some((info) => {
    const padding = m.length - 3 - info.length - hashBytes;
    if (padding < 8 || m[0] !== 0x00 || m[1] !== 0x01 || m[2 + padding] !== 0x00) return false;
    for (let i = 2; i < 2 + padding; i++) if (m[i] !== 0xff) return false;
    return m.subarray(3 + padding, 3 + padding + info.length).equals(info);
  });
}

function dnsError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}
