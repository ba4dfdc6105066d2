// before mailauth: see joi-stand-in.ts
import './joi-stand-in.ts';
import './mailauth-patches.ts';
import { arc } from 'mailauth/lib/arc/index.js';
import type { ARCData, ARCResult } from 'mailauth';
import { MIN_RSA_BITS, parseKeyRecord, parseTags } from '../keys/parse-key.ts';
import { normalizeKeyName, type KeyAnswer, type KeyRecord } from '../keys/types.ts';
import type { HeaderField } from '../read/headers.ts';
import { byKeyRank } from '../keys/key-order.ts';
import { dkimResultsIn, type SealerSawDkim } from './auth-results.ts';
import { keyResolver, keyUsedOf, RESTRICTION_COMMENTS, verifyHeaderSignature, type ArcKeySource, type KeyUsed } from './dkim.ts';

export { dkimResultsIn, type SealerSawDkim };

/** One ARC set (RFC 8617): who sealed it, and what the sealer said it saw. */
export interface ArcInstance {
  i: number;
  sealDomain: string | null;
  sealSelector: string | null;
  /** cv= of the seal: none for i=1, pass or fail after */
  cv: string | null;
  amsDomain: string | null;
  amsSelector: string | null;
  /**
   * What the set's ARC-Message-Signature covers: its h= (lower-cased, in order, repeats kept),
   * its c= (null when absent) and its l= (null for the whole body). A failed DKIM signature is put
   * down to a change before the seal only when the newest one covers everything it covered.
   */
  amsHeaders?: string[];
  amsCanonicalization?: string | null;
  amsBodyLength?: number | null;
  /** the sealer's ARC-Authentication-Results, verbatim */
  authResults: string | null;
  /**
   * In a chain that passes, the key record that validated the set's ARC-Seal, and for the newest
   * set the one that verified its ARC-Message-Signature (the only one a validator checks).
   */
  sealKey?: KeyUsed;
  amsKey?: KeyUsed;
  /**
   * Other records of the same name, holding another key, under which the seal (or the newest
   * ARC-Message-Signature) does not validate: a colleague's key file can hold a record of a
   * sealer's selector that the sealer's own record contradicts, and the reader is told which
   * validated and which did not (red team L, L-05). Absent when there are none.
   */
  sealKeysNotValidating?: KeyUsed[];
  amsKeysNotValidating?: KeyUsed[];
}

/**
 * Where a chain that fails broke, when the validator names the set (a seal that does not
 * validate, or the newest ARC-Message-Signature, the only one a validator checks) and the key of
 * what broke is on record: a chain sealed by a well-known sealer that no longer validates is
 * evidence about the message, and the reader is told what failed (red team 29, K-04).
 */
export interface ArcFailure {
  /** the set that failed */
  i: number;
  part: 'seal' | 'message-signature';
  /** d= and s= of the seal or ARC-Message-Signature that failed */
  domain: string | null;
  selector: string | null;
  /** d= of the set's seal */
  sealDomain: string | null;
  /**
   * for an ARC-Message-Signature: `body` when its body hash fails, `headers` when its signature
   * over the header fields it signs does not verify; null for a seal (it signs the ARC header
   * fields of every set before it, and which one changed cannot be told)
   */
  what: 'body' | 'headers' | null;
  /** for a body that fails: whether the header fields it signs still verify under the key on record */
  headersVerify: boolean | null;
  /** the key on record for it (for a body that fails, the record whose key verifies the headers, when one does) */
  key: KeyUsed;
}

export interface ArcVerification {
  /** the chain validation result (cv) a validator would write: pass, fail or none */
  result: 'pass' | 'fail' | 'none';
  reason: string | null;
  instances: ArcInstance[];
  /**
   * DKIM results the newest sealer recorded on arrival (from its ARC-Authentication-Results),
   * e.g. [{result:'pass', domain:'example.com'}]. Only worth anything when the chain passes.
   */
  sealerSawDkim: SealerSawDkim[];
  /** what failed, for a chain that fails where the validator says and the key is on record */
  failure?: ArcFailure;
  /**
   * For a chain that passes, sealed last by a sealer not trusted (well known or named with
   * --trust-arc-sealer) over a set a trusted one sealed: what fails in the ARC-Message-Signature
   * of the newest such set, which no validator checks beneath a newer set (newestAmsFailure).
   * Set by the analysis, which knows whom the run trusts (red team L, L-02).
   */
  failureUnderneath?: ArcFailure;
}


/**
 * The instances are read from the headers ourselves: mailauth drops its parsed chain when the
 * chain is structurally broken, and a broken chain is exactly the one an examiner wants listed.
 */
function readInstances(fields: HeaderField[]): ArcInstance[] {
  const byInstance = new Map<number, ArcInstance>();
  const instance = (value: string): ArcInstance | null => {
    const i = Number(parseTags(value).get('i'));
    if (!Number.isInteger(i) || i < 1 || i > 1000) return null;
    let entry = byInstance.get(i);
    if (!entry) {
      entry = { i, sealDomain: null, sealSelector: null, cv: null, amsDomain: null, amsSelector: null, authResults: null };
      byInstance.set(i, entry);
    }
    return entry;
  };
  for (const field of fields) {
    // a name read only after trimming odd characters (`ARC-Seal<U+00A0>:`) is no ARC header
    // field to mailauth, which never validated it
    if (field.looseName) continue;
    if (field.name === 'arc-seal' || field.name === 'arc-message-signature') {
      const entry = instance(field.value);
      if (!entry) continue;
      const tags = parseTags(field.value);
      if (field.name === 'arc-seal') {
        entry.sealDomain ??= tags.get('d')?.toLowerCase() ?? null;
        entry.sealSelector ??= tags.get('s') ?? null;
        entry.cv ??= tags.get('cv')?.toLowerCase() ?? null;
      } else {
        entry.amsDomain ??= tags.get('d')?.toLowerCase() ?? null;
        entry.amsSelector ??= tags.get('s') ?? null;
      }
    } else if (field.name === 'arc-authentication-results') {
      const match = /^\s*i\s*=\s*(\d+)\s*;/.exec(field.value);
      const entry = match ? instance(`i=${match[1]}`) : null;
      if (entry) entry.authResults ??= field.value;
    }
  }
  return [...byInstance.values()].sort((a, b) => a.i - b.i);
}

/** The most sets an ARC chain may have (RFC 8617 section 4.2.1). */
const MAX_ARC_SETS = 50;

/**
 * The key names validating the message's chain will ask for: the newest ARC-Message-Signature's,
 * which mailauth's DKIM verifier checks after the DKIM signatures, and every seal's, which arc()
 * asks for together after that. Asked in turn, a forger's name servers that never answer cost a
 * timeout for the signatures, another for the message signature, another for the seals: past the
 * analysis' time limit, a red flag erased as analysis-failed (as red team W2, W2-05, did with
 * DKIM signatures alone). verifyDkim asks them ahead with the signatures' keys (askAhead).
 */
export function arcKeyNamesAsked(fields: HeaderField[]): string[] {
  const instances = readInstances(fields).filter((s) => s.i <= MAX_ARC_SETS);
  const newest = instances.at(-1);
  const names = instances.map((s) => (s.sealDomain && s.sealSelector ? `${s.sealSelector}._domainkey.${s.sealDomain}` : null));
  if (newest?.amsDomain && newest.amsSelector) names.push(`${newest.amsSelector}._domainkey.${newest.amsDomain}`);
  return [...new Set(names.filter((n): n is string => n !== null))];
}

/**
 * mailauth's lenient mode validates a chain that breaks the syntax rules of RFC 8617 and RFC 6376
 * section 3.2, and names what it let through. A chain that a strict validator rejects is not
 * valid: an ARC-Seal with a repeated tag, a tag name in the wrong case, an empty or malformed
 * tag, or an instance that is not 1 to 50, could be read differently by another validator, and
 * a chain that passes lends weight to a failed DKIM signature (`dkim-broken-by-intermediary`).
 */
const INVALID_CHAIN_WARNINGS = new Set(['arc-tag-syntax', 'arc-instance-syntax']);

/**
 * Validates the message's ARC chain under every candidate key record of its key names, as DKIM
 * signatures are verified (verifyDkim): a selector can hold several records (a colleague's key
 * file, an archive beside DNS), and which one the store met first must not decide the result.
 * A chain passes when some record of each name validates what it signs. Candidates are tried in
 * the order DKIM's answers have (recordOrder), so that the record on record is the same whatever
 * order the key files came in, and the same record DKIM credits; and the strictest record of a key applies
 * (refusedByStricterRecord). A message whose names have one record each is validated once, as
 * before.
 */
export async function verifyArc(keys: ArcKeySource, fields: HeaderField[]): Promise<ArcVerification> {
  const instances = readInstances(fields);
  let arcData: unknown;
  let outcome: ARCResult;
  let amsKey: KeyUsed | undefined;
  let refused: string | null = null;
  const sealRecords = new Map<string, KeyRecord>();
  let amsVerifiedBy: Verified | null = null;
  let sealChoice = new Map<string, number>();
  try {
    const ams = await withPassingAms(keys);
    arcData = ams.arcData;
    amsVerifiedBy = ams.verifiedBy;
    amsKey = ams.verifiedBy ? arcKeyUsed(ams.verifiedBy.name, ams.verifiedBy.record) : undefined;
    const sealed = await validateSeals(arcData, keys, sealRecords);
    sealChoice = sealed.choice;
    outcome = sealed.outcome;
    if (outcome.status.result === 'pass') refused = await refusedByStricterRecord(keys, { arcData, ams: ams.verifiedBy, choice: sealed.choice, sealRecords });
  } catch (err) {
    return { result: 'fail', reason: `ARC validation error: ${(err as Error).message}`, instances, sealerSawDkim: [] };
  }
  if (refused) return { result: 'fail', reason: refused, instances, sealerSawDkim: [] };
  const keyword = outcome.status.result;
  const invalidSyntax = (outcome.warnings ?? []).filter((warning) => INVALID_CHAIN_WARNINGS.has(warning));
  if (keyword === 'pass' && invalidSyntax.length) {
    return {
      result: 'fail',
      reason: `invalid ARC header syntax (${invalidSyntax.join(', ')}) that RFC 8617 rejects and only mailauth's lenient mode accepts`,
      instances,
      sealerSawDkim: [],
    };
  }
  const result = keyword === 'pass' ? 'pass' : keyword === 'none' ? 'none' : 'fail';
  const failure = result === 'fail' ? await failureOf(arcData, keys, outcome.status.comment ?? '') : undefined;
  // A chain that passes is described by the sets mailauth validated, never by our own reading of
  // the header fields: a decoy field that mailauth does not read as ARC, or reads otherwise,
  // must not name the sealer (a forger's chain passed off as sealed by google.com, red team 6,
  // B-01) nor say what it saw on arrival.
  const validated = result === 'pass' ? validatedInstances(arcData) : null;
  if (result === 'pass' && !validated) {
    return { result: 'fail', reason: 'the chain passed, but the sets the validator checked could not be read', instances, sealerSawDkim: [] };
  }
  const notValidating = validated ? await recordsNotValidating(keys, { arcData, ams: amsVerifiedBy, choice: sealChoice, sealRecords }) : null;
  const described = validated ? withKeys(validated, sealRecords, amsKey, notValidating!) : instances;
  const newestDescribed = described[described.length - 1];
  const cDefault = keyword === 'pass' && (outcome.warnings ?? []).includes('ams-c-default');
  return {
    result,
    reason:
      [
        outcome.status.comment,
        cDefault && 'passes only under a lenient reading: an ARC-Message-Signature has no c= and verifies only as relaxed/relaxed, where RFC 6376 defaults to simple/simple (ams-c-default)',
      ]
        .filter(Boolean)
        .join('; ') || null,
    instances: described,
    sealerSawDkim: newestDescribed?.authResults ? dkimResultsIn(newestDescribed.authResults) : [],
    ...(failure ? { failure } : {}),
  };
}

/** mailauth's comment when every seal validates and the newest ARC-Message-Signature does not (see its arc()). */
const AMS_FAILED = /^i=(\d+) no valid signature$/;

/**
 * What broke in a chain that fails, when mailauth names the set and the key of what failed is on
 * record (ArcFailure); undefined otherwise (no key, an unusable key, a broken structure). For an
 * ARC-Message-Signature whose body hash fails, its signature over the header fields it signs is
 * checked as a DKIM signature's is (headerSignatureValid): verifying under the sealer's key, it
 * shows that the sealer made it and that the body changed since.
 */
async function failureOf(arcData: unknown, keys: ArcKeySource, comment: string): Promise<ArcFailure | undefined> {
  const ams = AMS_FAILED.exec(comment);
  const seal = SEAL_FAILED.exec(comment);
  if (!ams && !seal) return undefined;
  return failureAt(arcData, keys, Number((ams ?? seal)![1]), ams ? 'message-signature' : 'seal');
}

/**
 * What fails in the newest ARC-Message-Signature of a message, as failureOf tells it, whether or
 * not the seals validate; undefined when it verifies, or its key is not on record. For the
 * ARC-Message-Signature of an older set, the message is given without the ARC sets after it:
 * a validator never checks it beneath a newer set (RFC 8617 section 5.2), and a forger who seals
 * an edited message with a key of their own would otherwise hide its failure (red team L, L-02).
 */
export async function newestAmsFailure(keys: ArcKeySource): Promise<ArcFailure | undefined> {
  const arcData = await keys.arcDataWith(0);
  return failureAt(arcData, keys, chainOf(arcData).length, 'message-signature');
}

async function failureAt(arcData: unknown, keys: ArcKeySource, instance: number, part: ArcFailure['part']): Promise<ArcFailure | undefined> {
  const entry = chainOf(arcData)[instance - 1];
  if (!entry) return undefined;
  const ams = part === 'message-signature';
  const field = ams ? 'arc-message-signature' : 'arc-seal';
  const name = keyNameOf(entry, field);
  const answer = name ? await keys.answerFor(name) : null;
  if (!name || answer?.status !== 'found' || !answer.records.length) return undefined;
  const tag = (from: string, t: string): string | null => {
    const value = (entry[from] as ChainEntryField | undefined)?.parsed?.[t]?.value;
    return typeof value === 'string' ? value : null;
  };
  const order = recordOrder(answer.records).map((i) => answer.records[i]!);
  const base = { i: Number(entry['i']), domain: tag(field, 'd')?.toLowerCase() ?? null, selector: tag(field, 's'), sealDomain: tag('arc-seal', 'd')?.toLowerCase() ?? null };
  if (!ams) return { ...base, part: 'seal', what: null, headersVerify: null, key: arcKeyUsed(name, order[0]!) };
  const signature = (entry as { messageSignature?: { status?: { result?: string; comment?: string }; signingHeaders?: { canonicalizedHeader?: string } } }).messageSignature;
  if (signature?.status?.comment === 'body hash did not verify') {
    const canonicalized = signature.signingHeaders?.canonicalizedHeader;
    const signed = { b: tag(field, 'b') ?? '', algorithm: (tag(field, 'a') ?? '').toLowerCase() };
    let headersVerify: boolean | null = null;
    let record = order[0]!;
    for (const candidate of canonicalized ? order : []) {
      const valid = verifyHeaderSignature(signed, Buffer.from(canonicalized!, 'base64'), parseKeyRecord(candidate.txt));
      if (headersVerify === null || valid === true) [headersVerify, record] = [valid, candidate];
      if (valid === true) break;
    }
    return { ...base, part: 'message-signature', what: 'body', headersVerify, key: arcKeyUsed(name, record) };
  }
  if (signature?.status?.result === 'fail') return { ...base, part: 'message-signature', what: 'headers', headersVerify: false, key: arcKeyUsed(name, order[0]!) };
  return undefined;
}

/** mailauth's parsed ARC sets, oldest first, or [] when it has none. */
const chainOf = (arcData: unknown): Array<Record<string, unknown>> => {
  const chain = (arcData as { chain?: unknown } | null)?.chain;
  return Array.isArray(chain) ? (chain as Array<Record<string, unknown>>) : [];
};

/** The key name a set's ARC-Seal or ARC-Message-Signature names, as mailauth builds it. */
function keyNameOf(entry: Record<string, unknown> | undefined, field: 'arc-seal' | 'arc-message-signature'): string | null {
  const parsed = (entry?.[field] as ChainEntryField | undefined)?.parsed;
  const s = parsed?.['s']?.value;
  const d = parsed?.['d']?.value;
  return typeof s === 'string' && typeof d === 'string' && s && d ? normalizeKeyName(`${s}._domainkey.${d}`) : null;
}

/**
 * The candidates of a name in the order DKIM's key answers have (byKeyRank), whatever order the
 * lookup gave them in: the record that validates a chain is then the one DKIM would credit, and
 * never depends on the order records entered the store. Indices into `records`.
 */
function recordOrder(records: KeyRecord[]): number[] {
  const indices = records.map((_, i) => i);
  if (records.length < 2) return indices;
  return indices.sort((a, b) => byKeyRank(records[a]!, records[b]!));
}

/** The DKIM verifier's result for the newest ARC-Message-Signature, the one arc() asks to pass. */
const newestAmsStatus = (arcData: unknown): { result?: string; comment?: string } | undefined => {
  const chain = chainOf(arcData);
  return (chain[chain.length - 1] as { messageSignature?: { status?: { result?: string; comment?: string } } } | undefined)?.messageSignature?.status;
};
const passed = (arcData: unknown): boolean => newestAmsStatus(arcData)?.result === 'pass';

/** A chain validated under a choice of records: the newest ARC-Message-Signature's, and each seal name's, with its place in recordOrder. */
interface ValidatedWith {
  arcData: unknown;
  ams: Verified | null;
  choice: Map<string, number>;
  sealRecords: Map<string, KeyRecord>;
}

/** The record a name was validated with. */
interface Verified {
  name: string;
  record: KeyRecord;
}

/**
 * The ARC data of a DKIM pass whose newest ARC-Message-Signature verified, with the record that
 * verified it: each record of the signature's name is tried, in recordOrder. When none verifies
 * (or the name has one record), the first candidate's data, which arc() then reports on.
 */
async function withPassingAms(keys: ArcKeySource): Promise<{ arcData: unknown; verifiedBy: Verified | null }> {
  const first = await keys.arcDataWith(0);
  const chain = chainOf(first);
  const name = keyNameOf(chain[chain.length - 1], 'arc-message-signature');
  const answer = name ? await keys.answerFor(name) : null;
  if (!name || answer?.status !== 'found') return { arcData: first, verifiedBy: null };
  const order = recordOrder(answer.records);
  if (order.length === 1) return { arcData: first, verifiedBy: passed(first) ? { name, record: answer.records[0]! } : null };
  for (const candidate of order) {
    // a pass made with candidate k uses record k of every name: of this one, the record tried
    const arcData = await keys.arcDataWith(candidate);
    if (passed(arcData)) return { arcData, verifiedBy: { name, record: answer.records[candidate]! } };
  }
  return { arcData: await keys.arcDataWith(order[0]!), verifiedBy: null };
}

/** mailauth's comments that put a chain's failure down to one seal's key record (see its arc()). */
const SEAL_FAILED = /^i=(\d+) seal signature validation failed$/;
const KEY_FAILED = / for (\S+)$/;

/**
 * arc() under one record of each seal's name, the first of recordOrder to begin with. When the
 * chain fails at a seal, the next record of that seal's name is tried, and the seals before it
 * are validated again: a seal depends on the record of its own name only, so each record of each
 * name is tried at most once, and a chain that some choice of records validates is found.
 * `used` is left holding the record each name was validated with, `choice` its place in recordOrder.
 */
async function validateSeals(arcData: unknown, keys: ArcKeySource, used: Map<string, KeyRecord>): Promise<{ outcome: ARCResult; choice: Map<string, number> }> {
  const chain = chainOf(arcData);
  const sealNames = new Set(chain.map((entry) => keyNameOf(entry, 'arc-seal')).filter((name): name is string => name !== null));
  const choice = new Map<string, number>();
  for (;;) {
    const outcome = await arcUnder(arcData, keys, choice, used);
    if (outcome.status.result !== 'fail') return { outcome, choice };
    const comment = outcome.status.comment ?? '';
    const instance = SEAL_FAILED.exec(comment)?.[1];
    const failedName = instance ? keyNameOf(chain[Number(instance) - 1], 'arc-seal') : normalizeKeyName(KEY_FAILED.exec(comment)?.[1] ?? '');
    if (!failedName || !sealNames.has(failedName)) return { outcome, choice };
    const answer = await keys.answerFor(failedName);
    const next = (choice.get(failedName) ?? 0) + 1;
    if (answer.status !== 'found' || next >= answer.records.length) return { outcome, choice };
    choice.set(failedName, next);
  }
}

/** arc() with, for each name, the record at its place in recordOrder that `choice` gives (the first when none); `used` records them. */
function arcUnder(arcData: unknown, keys: ArcKeySource, choice: Map<string, number>, used: Map<string, KeyRecord>): Promise<ARCResult> {
  used.clear();
  const resolver = keyResolver(keys.answerFor, (name, records) => {
    const order = recordOrder(records);
    const record = records[order[Math.min(choice.get(name) ?? 0, order.length - 1)]!]!;
    used.set(name, record);
    return record;
  });
  // Unlike DKIM, where we measure weak keys to explain them, a chain sealed with a key under
  // 1024 bits is simply not valid (RFC 8617 section 5.1.2 defers to RFC 8301).
  return arc(arcData as ARCData, { resolver, minBitLength: MIN_RSA_BITS });
}

/**
 * The strictest record of a key applies to ARC as to DKIM (strictestRecordOfKey, dkim.ts): a chain
 * validated under one record of a key is checked under every other record of the same key
 * (same fingerprint) under its name. Which of them the domain published when it sealed is not
 * known, and a record that lacks the domain's h=, s=, v= or k= (a file that copied the key alone)
 * must not lift them. Why the chain fails under a stricter record, or null. A record under which
 * it fails for another reason is a broken copy, and hides nothing. Nothing is run again for a
 * name without a second record of its key.
 */
async function refusedByStricterRecord(keys: ArcKeySource, { arcData, ams, choice, sealRecords }: ValidatedWith): Promise<string | null> {
  const laxer = (record: KeyRecord): string =>
    `the same key is also on record (${record.source} from ${record.origin}) with a laxer record; the strictest record of the key applies`;
  if (ams) {
    for (const [candidate, stricter] of otherRecordsOfKey(await keys.answerFor(ams.name), ams.record)) {
      const status = newestAmsStatus(await keys.arcDataWith(candidate));
      if (status?.result !== 'pass' && RESTRICTION_COMMENTS.has(status?.comment ?? '')) {
        return `i=${chainOf(arcData).length} ARC-Message-Signature: ${status!.comment} for ${ams.name} under its record ${stricter.source} from ${stricter.origin}; ${laxer(ams.record)}`;
      }
    }
  }
  for (const [name, record] of [...sealRecords]) {
    const answer = await keys.answerFor(name);
    for (const [candidate, stricter] of otherRecordsOfKey(answer, record)) {
      const place = recordOrder(answer.status === 'found' ? answer.records : []).indexOf(candidate);
      const outcome = await arcUnder(arcData, keys, new Map(choice).set(name, place), new Map());
      const comment = outcome.status.comment ?? '';
      const failed = KEY_FAILED.exec(comment);
      if (outcome.status.result === 'fail' && failed && normalizeKeyName(failed[1]!) === name && RESTRICTION_COMMENTS.has(comment.slice(0, failed.index))) {
        return `${comment} under its record ${stricter.source} from ${stricter.origin}; ${laxer(record)}`;
      }
    }
  }
  return null;
}

/** The other records of a name that publish the key of `record` with other tags, by index, in recordOrder. */
function otherRecordsOfKey(answer: KeyAnswer, record: KeyRecord): Array<[number, KeyRecord]> {
  if (answer.status !== 'found' || answer.records.length < 2) return [];
  const fingerprint = parseKeyRecord(record.txt).fingerprint;
  if (!fingerprint) return [];
  return recordOrder(answer.records)
    .filter((i) => answer.records[i]!.txt !== record.txt && parseKeyRecord(answer.records[i]!.txt).fingerprint === fingerprint)
    .map((i) => [i, answer.records[i]!]);
}

/** A key record that validated part of a chain, measured as leakcheck reads it. */
function arcKeyUsed(name: string, record: KeyRecord): KeyUsed {
  const parsed = parseKeyRecord(record.txt);
  return keyUsedOf(name, record, parsed, parsed.error ? null : parsed);
}

/** The validated sets with the records that validated them. */
function withKeys(validated: ArcInstance[], sealRecords: Map<string, KeyRecord>, amsKey: KeyUsed | undefined, notValidating: NotValidating): ArcInstance[] {
  const newest = validated[validated.length - 1];
  const used = (name: string, records: KeyRecord[] | undefined): KeyUsed[] => (records ?? []).map((record) => arcKeyUsed(name, record));
  return validated.map((instance) => {
    const name = instance.sealSelector && instance.sealDomain ? normalizeKeyName(`${instance.sealSelector}._domainkey.${instance.sealDomain}`) : null;
    const sealRecord = name ? sealRecords.get(name) : undefined;
    const sealRejected = name && sealRecord ? used(name, notValidating.seals.get(name)) : [];
    const amsRejected = instance === newest && amsKey ? used(amsKey.name, notValidating.ams) : [];
    return {
      ...instance,
      ...(name && sealRecord ? { sealKey: arcKeyUsed(name, sealRecord) } : {}),
      ...(sealRejected.length ? { sealKeysNotValidating: sealRejected } : {}),
      ...(instance === newest && amsKey ? { amsKey } : {}),
      ...(amsRejected.length ? { amsKeysNotValidating: amsRejected } : {}),
    };
  });
}

/** The records that do not validate a passing chain's seals (by name) and newest ARC-Message-Signature. */
interface NotValidating {
  seals: Map<string, KeyRecord[]>;
  ams: KeyRecord[];
}

/**
 * The other records of each name a passing chain was validated with, holding another key, that do
 * not validate what that name signs: each is put in place of the record used, the others kept
 * (a seal depends on its own name's record only). The newest ARC-Message-Signature's signature
 * over its header fields is checked under each directly. Nothing is run for a name with one
 * record, or whose other records hold the same key (those are refusedByStricterRecord's).
 */
async function recordsNotValidating(keys: ArcKeySource, { arcData, ams, choice, sealRecords }: ValidatedWith): Promise<NotValidating> {
  const result: NotValidating = { seals: new Map(), ams: [] };
  for (const [name, record] of [...sealRecords]) {
    const answer = await keys.answerFor(name);
    const records = answer.status === 'found' ? answer.records : [];
    const order = recordOrder(records);
    for (const other of otherKeysOf(records, record)) {
      const outcome = await arcUnder(arcData, keys, new Map(choice).set(name, order.indexOf(records.indexOf(other))), new Map());
      if (outcome.status.result !== 'pass') result.seals.set(name, [...(result.seals.get(name) ?? []), other]);
    }
  }
  if (ams) {
    const answer = await keys.answerFor(ams.name);
    const chain = chainOf(arcData);
    const entry = chain[chain.length - 1];
    const field = (entry?.['arc-message-signature'] as ChainEntryField | undefined)?.parsed;
    const canonicalized = (entry as { messageSignature?: { signingHeaders?: { canonicalizedHeader?: string } } } | undefined)?.messageSignature?.signingHeaders?.canonicalizedHeader;
    const signed = { b: String(field?.['b']?.value ?? ''), algorithm: String(field?.['a']?.value ?? '').toLowerCase() };
    for (const other of otherKeysOf(answer.status === 'found' ? answer.records : [], ams.record)) {
      if (!canonicalized || verifyHeaderSignature(signed, Buffer.from(canonicalized, 'base64'), parseKeyRecord(other.txt)) !== true) result.ams.push(other);
    }
  }
  return result;
}

/** The other records among `records` holding another key than `record`'s, in recordOrder. */
function otherKeysOf(records: KeyRecord[], record: KeyRecord): KeyRecord[] {
  if (records.length < 2) return [];
  const fingerprint = parseKeyRecord(record.txt).fingerprint;
  return recordOrder(records)
    .map((i) => records[i]!)
    .filter((other) => other !== record && other.txt !== record.txt && (!fingerprint || parseKeyRecord(other.txt).fingerprint !== fingerprint));
}

interface ChainEntryField {
  parsed?: Record<string, { value?: unknown } | undefined>;
  original?: Buffer | string;
}

/** The ARC sets mailauth validated (its parsed chain), as instances; null when they cannot be read. */
function validatedInstances(arcData: unknown): ArcInstance[] | null {
  const chain = (arcData as { chain?: unknown } | null)?.chain;
  if (!Array.isArray(chain) || !chain.length) return null;
  const tag = (field: ChainEntryField | undefined, name: string): string | null => {
    const value = field?.parsed?.[name]?.value;
    return typeof value === 'string' ? value : null;
  };
  const instances: ArcInstance[] = [];
  for (const entry of chain as Array<Record<string, unknown>>) {
    const seal = entry['arc-seal'] as ChainEntryField | undefined;
    const ams = entry['arc-message-signature'] as ChainEntryField | undefined;
    const aar = (entry['arc-authentication-results'] as ChainEntryField | undefined)?.original;
    const i = Number(entry['i']);
    if (!Number.isInteger(i) || !seal || !ams) return null;
    const aarLine = aar === undefined ? null : Buffer.isBuffer(aar) ? aar.toString('latin1') : String(aar);
    instances.push({
      i,
      sealDomain: tag(seal, 'd')?.toLowerCase() ?? null,
      sealSelector: tag(seal, 's'),
      cv: tag(seal, 'cv')?.toLowerCase() ?? null,
      amsDomain: tag(ams, 'd')?.toLowerCase() ?? null,
      amsSelector: tag(ams, 's'),
      ...amsCoverage(tag(ams, 'h'), tag(ams, 'c'), tag(ams, 'l')),
      // unfolded and trimmed, as the header reader gives a value
      authResults: aarLine === null ? null : aarLine.slice(aarLine.indexOf(':') + 1).replace(/\r?\n/g, '').trim(),
    });
  }
  return instances.sort((a, b) => a.i - b.i);
}

/** An ARC-Message-Signature's h=, c= and l=, read as the DKIM tags are (signature-tags.ts). */
function amsCoverage(h: string | null, c: string | null, l: string | null): Pick<ArcInstance, 'amsHeaders' | 'amsCanonicalization' | 'amsBodyLength'> {
  return {
    amsHeaders: h ? h.split(':').map((name) => name.trim().toLowerCase()).filter(Boolean) : [],
    amsCanonicalization: c ? c.trim().toLowerCase() : null,
    amsBodyLength: l !== null && /^\d{1,76}$/.test(l.trim()) ? Number(l.trim()) : null,
  };
}
