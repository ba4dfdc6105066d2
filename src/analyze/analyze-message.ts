import { hash } from 'node:crypto';
import { inventoryParts } from '../attachments/inventory.ts';
import { isPlainTextMessage } from '../attachments/inventory-options.ts';
import { partsWithinSignedLength, partsWithUnpinnedWhitespace } from '../attachments/layout.ts';
import { paddedDelimiterLine } from '../attachments/padded-delimiters.ts';
import { partsRemovedByClient } from '../attachments/removed-by-client.ts';
import { partsStoredApart, signedBodyReachesStoredApart } from '../attachments/stored-apart.ts';
import type { MimePartRecord, PartInventory } from '../attachments/types.ts';
import { escapeControls } from '../checks/check-support.ts';
import { forwardedCutAmbiguity } from '../checks/forwarded-cut.ts';
import { runMessageChecks } from '../checks/index.ts';
import type { Finding } from '../checks/types.ts';
import type { ContainerKind } from '../discover/types.ts';
import type { KeyLookup } from '../keys/types.ts';
import { findHeaderEnd, MAX_HEADER_BYTES, parseHeaders, type HeaderField, type ParsedHeaders } from '../read/headers.ts';
import { parseTags } from '../keys/parse-key.ts';
import { readMessageMeta, type MessageMeta } from '../read/message-meta.ts';
import { readMessageTraits, type MessageTraits, type VerifierBodyHash } from '../read/message-traits.ts';
import { headerBlockOnly, rebuiltByConverter } from '../read/rebuilt-by-converter.ts';
import { decideVerdict } from '../verdict/decide.ts';
import type { VerdictDecision } from '../verdict/types.ts';
import { REASONS } from '../verdict/reasons.ts';
import { isTrustedSealer } from '../verify/arc-sealers.ts';
import { arcKeyNamesAsked, newestAmsFailure, verifyArc, type ArcFailure, type ArcVerification } from '../verify/arc.ts';
import { alignWithAuthors, readAuthors } from '../verify/authors.ts';
import { MAX_SIGNATURES_CHECKED, verifyDkim, type DkimSignatureResult, type DkimVerification, type SignaturesNotChecked } from '../verify/dkim.ts';
import { NO_ARC, verifySignatures } from '../verify/verify-signatures.ts';
import { FORM_SEARCH_PASSES, FormSearchBudget, FormsKept, type SealedForm } from './form-search.ts';
import { RepairMemory } from './repair-memory.ts';
import { repairVariants, type Repair, type RepairVariant } from './repair-variants.ts';

export type { Repair };

export interface MessageAnalysis {
  /** sha256 of the raw bytes as found, before any repair */
  sha256: string;
  size: number;
  meta: MessageMeta;
  /** the instant x= expiry was judged at, and where it came from ('date' is no longer chosen, but older databases hold it) */
  judgedAt: string | null;
  judgedAtSource: 'date' | 'signature-t' | 'none';
  repairs: Repair[];
  signatures: DkimSignatureResult[];
  arc: ArcVerification;
  findings: Finding[];
  verdict: VerdictDecision;
  /** what the cross-dump checks compare */
  traits: MessageTraits;
  /** the message's MIME parts (attachments, inline parts, forwarded messages) */
  parts: AttachmentRecord[];
  /** why the part inventory stopped early, if it did */
  partsError: string | null;
  /**
   * forwarded messages (message/rfc822 parts), to be verified as messages in their own right;
   * `raw` null for one over the size cap, recorded as not read (red team Y, Y-17: it was dropped
   * without a word)
   */
  embedded: Array<{ partIndex: number; raw: Buffer | null; size: number }>;
}

/**
 * One MIME part, and what the message's verdict proves about it: `verified-content` when the
 * message is verified and a proving signature covers the part (its body hash covers every
 * byte of it: the whole body, or, with l=, a part that closes inside the signed length), signs
 * Content-Type (which names the boundaries), and pins its decoded bytes exactly;
 * `covered-except-whitespace` when it covers the part but whitespace in it could differ from
 * what was signed (a part that is not base64, under relaxed canonicalization or left open at
 * the end of the body: see partsWithUnpinnedWhitespace); `covered-ambiguous-decoding` when it
 * would be verified content but is base64 that decoders read to different bytes (data after its
 * padding, characters outside the alphabet: MimePartRecord.base64Ambiguous), so that the
 * signature fixes the text and not the bytes a reader saves (red team Y, Y-07). With several
 * proving signatures, the best any of them gives.
 */
export interface AttachmentRecord extends Omit<MimePartRecord, 'embedded'> {
  strength: PartStrength;
  /**
   * A signature covers the part's bytes, but none that does fixes its file name: the name of a
   * single-part message comes from a top-level header its h= leaves out, which anyone may change.
   */
  nameUnsigned?: true;
}

export type PartStrength = 'verified-content' | 'covered-except-whitespace' | 'covered-ambiguous-decoding' | 'not-covered' | 'unverified';

export interface AnalyzeInput {
  raw: Buffer;
  format: ContainerKind;
}

/**
 * What the user decides for a whole run, beyond the bytes and the keys: the same for every
 * message, and part of the run's analysis context (a change re-analyses every file).
 */
export interface AnalysisOptions {
  /** ARC sealers vouched for beside the well-known ones (domains, lower case, no trailing dot) */
  trustedArcSealers: readonly string[];
}

export const DEFAULT_ANALYSIS_OPTIONS: AnalysisOptions = { trustedArcSealers: [] };

/** The same set for every message of a run: options objects are few, messages many. */
const sealerSets = new WeakMap<AnalysisOptions, ReadonlySet<string>>();
const trustedSealersOf = (options: AnalysisOptions): ReadonlySet<string> => {
  let set = sealerSets.get(options);
  if (!set) sealerSets.set(options, (set = new Set(options.trustedArcSealers)));
  return set;
};

/**
 * The whole per-message analysis: a pure function of the message bytes and a key lookup, so
 * that it gives the same answer in any order, in any worker thread, on any machine (with the
 * same options).
 */
export async function analyzeMessage(input: AnalyzeInput, lookup: KeyLookup, options: AnalysisOptions = DEFAULT_ANALYSIS_OPTIONS): Promise<MessageAnalysis> {
  const sha256 = hash('sha256', input.raw, 'hex');
  // The repaired copies (the CRLF copy of every message stored with bare LFs) are made in memory
  // reused from one message to the next: nothing of the result points into them (forwarded
  // messages are copied out).
  const memory = new RepairMemory();
  try {
    return await analyzeForms(input, sha256, memory, lookup, options);
  } finally {
    memory.giveBack();
  }
}

/** The analysis proper, over the forms in which the message may match what was signed (repairVariants). */
async function analyzeForms(input: AnalyzeInput, sha256: string, memory: RepairMemory, lookup: KeyLookup, options: AnalysisOptions): Promise<MessageAnalysis> {
  let best: { attempt: Attempt; variant: RepairVariant } | null = null;
  const forms = repairVariants(input.raw, input.format, memory);
  const budget = new FormSearchBudget(input.raw.length);
  // the forms the ARC chain may be judged on later (arcOverForms): the others' memory goes back at once
  const keep = new FormsKept(() => best?.variant);
  for (let next = forms.next(); !next.done; next = forms.next()) {
    const variant = next.value;
    const attempt = await attemptVerification(variant.bytes, variant.repairs, lookup);
    budget.spend(variant.bytes.length - attempt.headers.headerBytes, attempt.signatures, attempt.headers.fields);
    const previous = best?.variant;
    if (!best || better(score(attempt), score(best.attempt))) best = { attempt, variant };
    keep.consider({ variant, arc: attempt.arc });
    if (previous && previous !== best.variant) keep.lost(previous);
    // Nothing failed under this form: no other form can do better. Unless its header could not
    // be read at all: a message stored with CR CR LF line ends has no blank line before its
    // repair, and past 2 MiB its whole self was one header too large to read, so a genuine
    // message with a 3 MB attachment stopped at "unparseable", and was verified at 1 MB.
    if (!attempt.parseError && attempt.signatures.every((s) => s.outcome !== 'body-modified' && s.outcome !== 'signature-mismatch')) break;
    if (budget.spent()) {
      budget.cutShort(forms);
      break;
    }
    // Another form is tried: the best one's copy is given back meanwhile, and made again at the
    // end should it stay the best. Kept, it was a third copy alive beside the message and the
    // form tried, in every search over a message altered after signing (50 MB more at 50 MB).
    best.variant.release?.();
  }
  const chosen = best!.attempt;
  const sealed = await arcOverForms({ variant: best!.variant, arc: chosen.arc }, forms, lookup, budget, keep);
  const trustedArcSealers = trustedSealersOf(options);
  const underneath = await failureUnderneath(sealed, keep, lookup, trustedArcSealers);
  best!.variant.restore?.();
  chosen.bytes = best!.variant.bytes;
  const arc = underneath ? { ...sealed.arc, failureUnderneath: underneath } : sealed.arc;
  // the repairs DKIM's form needed, and those the ARC chain needed on top
  const repairs = [...chosen.repairs, ...sealed.repairs.filter((r) => !chosen.repairs.includes(r))];
  const findings = [...chosen.findings];
  const quoting = best!.variant.quoting;
  if (quoting) findings.push(mixedQuotingFinding(quoting));
  if (budget.cut) findings.push(formsNotTriedFinding(chosen.signatures.length));
  const verdict = decideVerdict({
    signatures: chosen.signatures,
    arc,
    findings,
    repairs,
    parseError: chosen.parseError,
    trustedArcSealers,
    storedApart: await partsNotInFileOf(chosen, arc, partsStoredApart),
    removedByClient: await partsNotInFileOf(chosen, arc, partsRemovedByClient),
    rebuiltBy: rebuiltByConverter(chosen.headers.fields),
    headerBlockOnly: headerBlockOnly(chosen.bytes, chosen.headers.headerBytes, chosen.headers.hasBody),
    fromDomain: chosen.meta.fromDomain,
    formsNotTried: budget.cut,
    signatureFields: chosen.headers.fields.filter((f) => f.name === 'dkim-signature').length,
  });
  // A header block past the limit is not read again by the MIME parser, which would make strings of all of it.
  const { walked, ...inventory } = chosen.headers.tooLarge ? headerTooLargeInventory() : await inventoryAttachments(chosen, verdict);
  return {
    sha256,
    size: input.raw.length,
    meta: chosen.meta,
    judgedAt: chosen.judgedAt?.toISOString() ?? null,
    judgedAtSource: chosen.judgedAtSource,
    repairs,
    signatures: chosen.signatures,
    arc,
    verdict,
    traits: readMessageTraits(chosen.bytes, chosen.headers, chosen.bodyHashes, { walked, readerText: !chosen.headers.tooLarge }),
    ...inventory,
    findings: [...findings, ...verdict.findings, ...inventory.findings],
  };
}



/**
 * The ARC chain's result, and the repairs it needed. DKIM chooses the form the message is judged
 * on; ARC has no say in it, and the chain's result must not hang on it: a repair must never
 * manufacture a mismatch the stored bytes do not have. A form unquoted for the author's signature,
 * or with a gateway's Subject tag taken out, is not what a sealer sealed when it sealed the
 * message as found, and a genuine message came out `arc-body-modified` (red team L, L-01, L-06).
 * So when the newest ARC-Message-Signature fails on DKIM's form, the chain is validated on the
 * other forms too: the form as found is believed when the chain validates there, else the first
 * form on which it validates, its repairs recorded; else the form as found, where, as on every
 * form tried, it fails. A seal that does not validate or a key not on record is the same on every
 * form (a seal signs ARC header fields, which no repair touches), so only an
 * ARC-Message-Signature that fails under a key on record costs more validations; a message
 * without ARC costs none.
 */
async function arcOverForms(
  chosen: SealedForm,
  rest: Iterator<RepairVariant>,
  lookup: KeyLookup,
  budget: FormSearchBudget,
  keep: FormsKept,
): Promise<SealedForm & { repairs: Repair[] }> {
  const result = (form: SealedForm) => ({ ...form, repairs: form.arc.instances.length ? form.variant.repairs : [] });
  if (chosen.arc.failure?.part !== 'message-signature') return result(chosen);
  while (!keep.asFound || (keep.asFound.arc.result !== 'pass' && !keep.firstPass)) {
    if (budget.spent()) {
      budget.cutShort(rest);
      break;
    }
    const next = rest.next();
    if (next.done) break;
    const { dkim, fields, headerBytes } = await dkimOver(next.value.bytes, lookup);
    budget.spend(next.value.bytes.length - headerBytes, dkim.signatures, fields);
    keep.consider({ variant: next.value, arc: await verifyArc(dkim.arc, fields) });
  }
  const { asFound, firstPass } = keep;
  return result(asFound?.arc.result === 'pass' ? asFound : (firstPass ?? asFound ?? chosen));
}

async function dkimOver(bytes: Buffer | readonly [head: Buffer, body: Buffer], lookup: KeyLookup): Promise<{ dkim: DkimVerification; fields: HeaderField[]; headerBytes: number }> {
  const headers = parseHeaders(Buffer.isBuffer(bytes) ? bytes : bytes[0]);
  const { at } = messageTime(headers);
  return { dkim: await verifyDkim(bytes, headers.fields, { lookup, curTime: at ?? new Date(0), askAhead: arcKeyNamesAsked(headers.fields) }), fields: headers.fields, headerBytes: headers.headerBytes };
}

/**
 * What fails in the ARC-Message-Signature of the newest set a trusted sealer sealed, in a chain
 * that passes sealed last by a sealer not trusted. A validator checks the newest
 * ARC-Message-Signature only (RFC 8617 section 5.2): a forger who edits a message Gmail sealed and
 * seals it again with a key of their own gets a chain that passes, and the edit, which Google's
 * ARC-Message-Signature still shows, was never looked at (red team L, L-02). The older set is
 * checked on the message without the sets after it, on the form the chain passed on and on the
 * form as found: a failure on only one of them is a repair's doing (arcOverForms), and not told.
 * Costs a DKIM pass a form, only for such chains.
 */
async function failureUnderneath(passed: SealedForm, kept: FormsKept, lookup: KeyLookup, trusted: ReadonlySet<string>): Promise<ArcFailure | undefined> {
  const chain = passed.arc.result === 'pass' ? passed.arc.instances : [];
  if (!chain.length || isTrustedSealer(chain.at(-1)!.sealDomain, trusted)) return undefined;
  const set = chain.findLast((i) => isTrustedSealer(i.sealDomain, trusted) && isTrustedSealer(i.amsDomain, trusted));
  if (!set) return undefined;
  const asFound = kept.asFound;
  const forms = [passed.variant, ...(asFound && asFound.variant !== passed.variant ? [asFound.variant] : [])];
  let failure: ArcFailure | undefined;
  for (const form of forms) {
    const found = await kept.read(form, async (bytes) => newestAmsFailure((await dkimOver(withoutArcSetsAfter(bytes, set.i), lookup)).dkim.arc));
    if (!found || found.i !== set.i || (failure && found.what !== failure.what)) return undefined;
    failure ??= found;
  }
  return failure;
}

const ARC_FIELD = /^(arc-seal|arc-message-signature|arc-authentication-results)[ \t]*:/i;

/**
 * The message with the header fields of ARC sets after set `instance` taken out, as it was when
 * that set was sealed: the header block rewritten, and the body as it is in `bytes`, not copied
 * beside it (a 50 MB message took one more copy of itself here, 309 MB in all).
 */
function withoutArcSetsAfter(bytes: Buffer, instance: number): [head: Buffer, body: Buffer] {
  const end = findHeaderEnd(bytes);
  const head = (end < 0 ? bytes : bytes.subarray(0, end)).toString('latin1');
  // each field with its continuation lines
  const fields: string[] = [];
  for (const line of head.split(/(?<=\n)/)) {
    if ((line[0] === ' ' || line[0] === '\t') && fields.length) fields[fields.length - 1] += line;
    else fields.push(line);
  }
  const after = (field: string): boolean => {
    const arc = ARC_FIELD.exec(field);
    if (!arc) return false;
    const value = field.slice(arc[0].length).replace(/\r?\n/g, '');
    const i = arc[1]!.toLowerCase() === 'arc-authentication-results' ? /^\s*i\s*=\s*(\d+)\s*;/.exec(value)?.[1] : parseTags(value).get('i');
    return i !== undefined && Number(i) > instance;
  };
  return [Buffer.from(fields.filter((f) => !after(f)).join(''), 'latin1'), end < 0 ? Buffer.alloc(0) : bytes.subarray(end)];
}

/**
 * The attachment inventory, for messages that can have attachments: a full MIME parse costs
 * more than the whole DKIM check of a text message, and a single text part has none.
 */
async function inventoryAttachments(
  attempt: Attempt,
  verdict: VerdictDecision,
): Promise<Pick<MessageAnalysis, 'parts' | 'partsError' | 'embedded'> & { findings: Finding[]; walked?: PartInventory['walked'] }> {
  const contentType = (attempt.headers.fields.find((f) => f.name === 'content-type')?.value ?? 'text/plain').toLowerCase();
  const disposition = attempt.headers.fields.find((f) => f.name === 'content-disposition')?.value ?? '';
  if (isPlainTextMessage(contentType, disposition)) return { parts: [], partsError: null, embedded: [], findings: [] };
  const inventory = await inventoryParts(attempt.bytes);
  // Every signature that proves the message counts, and a part is as strong as the best of them
  // makes it: the order of the DKIM-Signature fields is not signed, so taking the topmost let
  // anyone turn a document into "not covered" by moving a narrower signature above (red team Y, Y-20).
  const proving = verdict.verdict === 'verified' ? verdict.provenBy.map((i) => attempt.signatures.find((s) => s.index === i)).filter((s) => s !== undefined) : [];
  // What the bytes decode to hangs on headers: a multipart's Content-Type names its boundaries, a
  // single part's Content-Transfer-Encoding says how its body decodes (base64, quoted-printable,
  // as is). A part's own headers lie in the body, under the body hash.
  const structureHeader = contentType.startsWith('multipart/') ? 'content-type' : 'content-transfer-encoding';
  const best = new Map<number, PartStrength>();
  // The parts of a multipart are named in their own headers, under the body hash; a single-part
  // message's file name is in its top-level Content-Disposition (or Content-Type name=), which
  // h= may leave out (red team Y, Y-02).
  const signsName = contentType.startsWith('multipart/') ? () => true : topLevelNameSigned(contentType, disposition);
  const named = new Set<number>();
  let findings: Finding[] = [];
  let padded: { line: number; text: string } | null | undefined;
  // (what a signature covers and pins hangs on its body canonicalization and signed length alone:
  // a message signed twice alike, as most are, is measured once)
  const measured = new Map<string, Set<number>>();
  for (const signature of proving.filter((s) => s.tags.signedHeaders.includes(structureHeader))) {
    const canon = signature.tags.canonicalization.split('/')[1] === 'relaxed' ? 'relaxed' : 'simple';
    const signedLength = signature.tags.bodyLength === null ? null : (signature.bodyBytesSigned ?? 0);
    const key = `${canon} ${signedLength}`;
    const again = measured.get(key);
    const covered = again ?? (await partsWithinSignedLength(attempt.bytes, inventory.parts, signedLength, canon));
    measured.set(key, covered);
    if (!covered.size) continue;
    if (signsName(signature.tags.signedHeaders)) for (const partIndex of covered) named.add(partIndex);
    if (again) continue;
    // the parts listed are not the parts a mail program saves: none is what the signer sent
    if (padded === undefined) padded = contentType.startsWith('multipart/') ? paddedDelimiterLine(attempt.bytes, attempt.headers.headerBytes) : null;
    if (padded) break;
    const unpinned = await partsWithUnpinnedWhitespace(attempt.bytes, inventory.parts.filter((p) => covered.has(p.partIndex)), canon);
    for (const partIndex of covered) {
      const strength = unpinned.has(partIndex) ? 'covered-except-whitespace' : 'verified-content';
      if (best.get(partIndex) !== 'verified-content') best.set(partIndex, strength);
    }
  }
  if (padded) {
    best.clear();
    findings = [paddedDelimiterFinding(padded)];
  }
  const carriesForwarded = inventory.parts.some((p) => p.embedded);
  const ambiguousCut = carriesForwarded ? forwardedCutAmbiguity(attempt.bytes, attempt.headers, inventory.parts) : null;
  if (ambiguousCut) findings = [...findings, ambiguousCut];
  if (inventory.error !== null) findings = [...findings, inventoryIncompleteFinding(inventory.error, inventory.parts.length)];
  return {
    parts: inventory.parts.map(({ embedded: _embedded, ...part }) => {
      const covered = !proving.length ? 'unverified' : (best.get(part.partIndex) ?? 'not-covered');
      // (leakcheck's decoding of it is one of several, which another reader's copy would be a red flag against)
      const strength = covered === 'verified-content' && part.base64Ambiguous ? 'covered-ambiguous-decoding' : covered;
      const nameUnsigned = part.filename !== null && best.has(part.partIndex) && !named.has(part.partIndex);
      return { ...part, strength, ...(nameUnsigned ? { nameUnsigned: true as const } : {}) };
    }),
    partsError: inventory.error,
    embedded: inventory.parts.filter((p) => p.embedded || (p.isMessage && p.tooLarge)).map((p) => ({ partIndex: p.partIndex, raw: p.embedded ?? null, size: p.size })),
    findings,
    walked: inventory.walked,
  };
}

function headerTooLargeInventory(): Pick<MessageAnalysis, 'parts' | 'partsError' | 'embedded'> & { findings: Finding[]; walked?: undefined } {
  return { parts: [], partsError: `header block over ${MAX_HEADER_BYTES.toLocaleString('en-US')} bytes: parts not read`, embedded: [], findings: [] };
}

/**
 * Whether a signature's h= fixes the file name of a single-part message: mail programs take it
 * from Content-Disposition's filename, else from Content-Type's name, so Content-Disposition must
 * be signed (absent, it then cannot be added with a filename of the forger's), and Content-Type
 * too when the name is its own.
 */
function topLevelNameSigned(contentType: string, disposition: string): (signedHeaders: readonly string[]) => boolean {
  const dispositionNames = /(^|;)\s*filename\s*\*?\s*(\d+\s*\*?\s*)?=/i.test(disposition);
  return (signedHeaders) => signedHeaders.includes('content-disposition') && (dispositionNames || signedHeaders.includes('content-type'));
}

/**
 * The list of parts stopped short (a limit, a parser error): said where the reader looks, not only
 * in messages.parts_error, which no report showed, so that a message of 10,000 parts was listed
 * with 523 of them as if they were all (red team W, W-01). A dump can hide a document behind
 * decoy parts.
 */
function inventoryIncompleteFinding(error: string, listed: number): Finding {
  return {
    code: 'attachment-inventory-incomplete',
    severity: 'warning',
    text:
      `The list of this message's parts is incomplete (${error}): ${listed} part(s) are listed. ` +
      'Parts past them are not listed, hashed or matched with the documents of the dump, and a mail program may show more than the list does.',
    evidence: { error, partsListed: listed },
  };
}

function paddedDelimiterFinding(padded: { line: number; text: string }): Finding {
  return {
    code: 'mime-delimiter-padded',
    severity: 'info',
    text:
      `Line ${padded.line} is a MIME delimiter followed by spaces or tabs (transport padding): mail programs read it as a delimiter, leakcheck's MIME parser as content, ` +
      'so the attachments listed may not be the files a mail program saves, and none of them counts as verified content. Relaxed canonicalization lets such padding be added after signing.',
    evidence: { line: padded.line, delimiter: padded.text },
  };
}

/**
 * Parts whose content is not in the file, as `find` reads them from the bytes (Apple Mail's kept
 * apart, Thunderbird's deleted or detached attachments), and the signatures whose body hash
 * failed over them; looked for only when a body hash failed, a DKIM signature's or the newest
 * ARC-Message-Signature's (whose failure over them shows no change either).
 */
async function partsNotInFileOf<P extends { contentStart: number }>(
  attempt: Attempt,
  arc: ArcVerification,
  find: (message: Buffer) => Promise<{ bodyStart: number; parts: P[] } | null>,
): Promise<{ parts: P[]; signatures: ReadonlySet<number> } | undefined> {
  const failed = attempt.signatures.filter((s) => s.outcome === 'body-modified');
  const arcBody = arc.failure?.what === 'body' || arc.failureUnderneath?.what === 'body';
  if (!failed.length && !arcBody) return undefined;
  const found = await find(attempt.bytes);
  if (!found) return undefined;
  const signatures = new Set(failed.filter((s) => signedBodyReachesStoredApart(attempt.bytes, found, s)).map((s) => s.index));
  return signatures.size || arcBody ? { parts: found.parts, signatures } : undefined;
}

function formsNotTriedFinding(signatures: number): Finding {
  return {
    code: 'repairs-not-all-tried',
    severity: 'info',
    text:
      `The message carries ${signatures} signature(s): verifying each under every repaired form of the message (line ends, mbox quoting, padding) would take more than ${FORM_SEARCH_PASSES} passes over it, ` +
      'so the search stopped before the last forms. The verdict is the best found among the forms tried; a signature that fails under them is not taken as evidence of tampering.',
    evidence: { signatures, passes: FORM_SEARCH_PASSES },
  };
}

/** The signatures past the cap, in words: how many, and which (bounded, whatever the message carries). */
function notCheckedFinding(notChecked: SignaturesNotChecked): Finding {
  const { fields, count, claimingAuthor, first } = notChecked;
  const checked = fields - count;
  const named = first.map(({ index, domain }) => `#${index + 1} d=${domain === null ? '?' : escapeControls(domain, 100)}`);
  return {
    code: 'signatures-not-checked',
    severity: 'warning',
    text:
      `The message carries ${fields.toLocaleString('en-US')} DKIM-Signature fields, where a genuine message carries a handful: only ${checked} were verified ` +
      `(those claiming the From domain first, then the others, each from the bottom up), and ${count.toLocaleString('en-US')} were not checked (${named.join(', ')}${count > first.length ? ', …' : ''}). ` +
      (claimingAuthor
        ? `${claimingAuthor.toLocaleString('en-US')} of those not checked claim the From domain: a signature of the author's among them may have gone unchecked. `
        : 'None of those not checked claims the From domain. ') +
      'A signature not checked proves nothing and is no evidence of tampering.',
    evidence: { fields, checked, notChecked: count, cap: MAX_SIGNATURES_CHECKED, notCheckedClaimingFromDomain: claimingAuthor, firstNotChecked: named },
  };
}

/** Which `>From ` lines had to be unquoted, and which kept, for the one form that verified. */
function mixedQuotingFinding(quoting: NonNullable<RepairVariant['quoting']>): Finding {
  const list = (lines: number[]) => lines.join(', ');
  return {
    code: 'mbox-quoting-mixed',
    severity: 'info',
    text:
      `The signature verifies only with the ">" of mbox quoting removed from line${quoting.unquotedLines.length > 1 ? 's' : ''} ${list(quoting.unquotedLines)} of the message as found ` +
      `and kept on line${quoting.keptLines.length > 1 ? 's' : ''} ${list(quoting.keptLines)}: an mboxo writer quoted the message's "From " lines ` +
      'and left its own ">From " lines as they were.',
    evidence: { unquotedLines: quoting.unquotedLines, keptLines: quoting.keptLines },
  };
}

interface Attempt {
  bytes: Buffer;
  repairs: Repair[];
  meta: MessageMeta;
  headers: ParsedHeaders;
  judgedAt: Date | null;
  judgedAtSource: MessageAnalysis['judgedAtSource'];
  signatures: DkimSignatureResult[];
  arc: ArcVerification;
  findings: Finding[];
  parseError: string | null;
  /** sha256 body hashes the verifier computed over the whole body */
  bodyHashes: VerifierBodyHash[];
}

async function attemptVerification(bytes: Buffer, repairs: Repair[], lookup: KeyLookup): Promise<Attempt> {
  const headers = parseHeaders(bytes);
  const meta = readMessageMeta(headers, bytes);
  // A header block too large to read whole could hide a forged header past the part that was
  // read: such a message is never called verified.
  const parseError = headers.tooLarge
    ? `its header block is ${headers.headerBytes.toLocaleString('en-US')} bytes, over the limit of ${MAX_HEADER_BYTES.toLocaleString('en-US')} (mail servers keep far less: Postfix 102,400 bytes); a header past the part read could not be checked`
    : headers.fields.length === 0
      ? 'no header fields found'
      : headers.truncated
        ? `more than ${headers.fields.length} header fields; a header past them could not be checked`
        : null;
  const { at: judgedAt, source: judgedAtSource } = messageTime(headers);
  if (parseError) {
    return { bytes, repairs, meta, headers, judgedAt, judgedAtSource, signatures: [], arc: NO_ARC, findings: [], parseError, bodyHashes: [] };
  }
  const { dkim, arc } = await verifySignatures(bytes, headers, judgedAt, lookup);
  // a signature speaks for the message only if it speaks for every author the From field names
  const { signatures, findings: authorFindings } = alignWithAuthors(dkim.signatures, readAuthors(headers.fields));
  const findings = [...runMessageChecks({ bytes, headers, meta, signatures, arc, judgedAt }), ...authorFindings];
  if (dkim.notChecked) findings.push(notCheckedFinding(dkim.notChecked));
  if (!judgedAt && dkim.signatures.some((s) => s.tags.expiration !== null)) {
    findings.push({
      code: 'expiry-not-judged',
      severity: 'info',
      text: 'No signature carries a signing time (t=), so signature expiry (x=) could not be judged at the time the message was sent and was ignored. The Date, signed or not, is the author\'s own clock, set before signing, and says nothing about when the signature was received.',
      evidence: { date: meta.dateHeader },
    });
  }
  // A repair only counts when something it touched was signed; otherwise it is noise. (What the
  // ARC chain needed is arcOverForms's to say.)
  const effectiveRepairs = dkim.signatures.length ? repairs : [];
  return { bytes, repairs: effectiveRepairs, meta, headers, judgedAt, judgedAtSource, signatures, arc, findings, parseError, bodyHashes: dkim.bodyHashes };
}

/** compiled once: a pattern built per call cost 3 µs a message */
const TIME_T = /(?:^|;)\s*t\s*=\s*([^;]*)/;

/**
 * The time signature expiry (x=) is judged at: the earliest signature t=. x= bounds how long a
 * signature may be received and verified, not when the author wrote, and t= is the signing
 * server's own clock, which b= covers: the earliest moment the message could have been received.
 * A signature judged there fails only when its x= comes before its own t=, which is what no
 * genuine signer writes. A Date, even a signed one, is the author's device clock, set before
 * signing: a signed Date after x= shows that clock was wrong, never that the signature expired,
 * and judging at it made a genuine message from a fast clock expired, then suspicious (red team
 * R, R-01). An unsigned Date or Received stamp is anyone's to edit and would revive an expired
 * signature. Never "now": leaked mail is years old and its signatures' x= would all have expired.
 */
function messageTime(headers: ParsedHeaders): { at: Date | null; source: MessageAnalysis['judgedAtSource'] } {
  const times = headers.fields
    .filter((f) => f.name === 'dkim-signature')
    .map((f) => /^\s*(\d{1,12})\s*$/.exec(TIME_T.exec(f.value)?.[1] ?? '')?.[1])
    .filter((t): t is string => t !== undefined)
    .map((t) => Number(t) * 1000);
  if (times.length) return { at: new Date(Math.min(...times)), source: 'signature-t' };
  return { at: null, source: 'none' };
}

/**
 * Which repaired form to believe: one whose header could be read, then the one under which the
 * most signatures verify, then the one with the fewest failures (a repair must never manufacture
 * a mismatch the stored bytes do not have), then the one under which the most failed signatures
 * still verify over their signed headers, then the one with the fewest repairs. A gateway's tag on the Subject of a message
 * whose body was also edited fails in both forms; only with the tag removed do the signed
 * headers verify, and in the form as found the message read as if its headers were forged too,
 * the gateway's repair unnamed (red team 29, K-03).
 */
const score = (attempt: Attempt): readonly number[] => {
  const failed = attempt.signatures.filter((s) => s.outcome === 'body-modified' || s.outcome === 'signature-mismatch');
  const passes = attempt.signatures.filter((s) => s.outcome === 'pass').length;
  return [attempt.parseError ? 0 : 1, passes, -failed.length, failed.filter((s) => s.headerSignatureValid === true).length, -attempt.repairs.length];
};

/** `a` ranks above `b`, criterion by criterion (a tie keeps the form tried first). */
const better = (a: readonly number[], b: readonly number[]): boolean => {
  const at = a.findIndex((x, i) => x !== b[i]);
  return at >= 0 && a[at]! > b[at]!;
};

/**
 * The record of a message the analysis could not finish (a parser made to take hours, a bug):
 * it is still in the evidence, with its sha256 and its headers as far as they can be read, and
 * with an explicit verdict that nothing was proven.
 */
export function failedAnalysis(raw: Buffer, why: string): MessageAnalysis {
  const headers = parseHeaders(raw);
  const meta = readMessageMeta(headers, raw);
  const finding: Finding = {
    code: 'analysis-failed',
    severity: 'warning',
    text: `The message could not be analysed: ${why}. No signature or header check was completed.`,
    evidence: { error: why },
  };
  return {
    sha256: hash('sha256', raw, 'hex'),
    size: raw.length,
    meta,
    judgedAt: null,
    judgedAtSource: 'none',
    repairs: [],
    signatures: [],
    arc: NO_ARC,
    findings: [finding],
    verdict: {
      verdict: 'unverifiable',
      reasons: ['analysis-failed'],
      explanation: `${REASONS['analysis-failed'].text} (${why})`,
      provenBy: [],
      findings: [],
    },
    // (on the main thread, for a message that defeated the analysis: no MIME walk for the text)
    traits: readMessageTraits(raw, headers, [], { readerText: false }),
    parts: [],
    partsError: null,
    embedded: [],
  };
}
