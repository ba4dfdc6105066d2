import type { ChalkInstance } from 'chalk';
import type { AttachmentListing, CustodyChange, MessageListing, MessageReading, MessageRecord, SignatureRecord } from '../store/queries.ts';
import { shownFrom, shownText } from './shown-from.ts';
import { labelIndex, labelQuoted, messageLabel } from './message-label.ts';
import { jsonText } from './json-text.ts';
import { shownPath, terminalSafe, terminalSafeUncut } from './terminal-safe.ts';
import { describeChange } from './text.ts';
import { describeRepair } from '../verdict/repairs.ts';
import { KEY_NOT_SIGNER_NOTE, keyNotSigner } from './key-not-signer.ts';
import { shownKeyOrigin } from '../keys/key-file-name.ts';
import { alignmentLabel, storedSignatureLabel } from './alignment-label.ts';

/**
 * An RFC 8601 Authentication-Results line for the message as leakcheck judged it, so that an
 * examiner can compare it with the one the receiving server wrote at the time.
 */
export function authenticationResults(m: MessageRecord): string {
  const notSigner = keyNotSigner(m);
  const parts = m.signatures.map((s) => {
    const result = s.outcome === 'pass' ? 'pass' : s.outcome === 'body-modified' || s.outcome === 'signature-mismatch' ? 'fail' : s.result === 'temperror' ? 'temperror' : s.outcome === 'key-not-found' ? 'neutral' : 'permerror';
    const why = s.outcome === 'pass' ? '' : ` (${notSigner(s) ? 'key-not-signer' : s.outcome})`;
    // d=, s= and a= are the message's own text: a selector of escape sequences could redraw the verdict
    return `dkim=${result}${why} header.d=${terminalSafe(s.domain ?? '?', 255)} header.s=${terminalSafe(s.selector ?? '?', 255)} header.a=${terminalSafe(s.algorithm ?? '?', 64)}`;
  });
  if (!parts.length) parts.push('dkim=none');
  parts.push(`arc=${m.arc.result}`);
  return `Authentication-Results: leakcheck; ${parts.join(';\n\t')}`;
}


export function renderShow(m: MessageRecord, c: ChalkInstance, fileChanges: CustodyChange[] = [], attachments: AttachmentListing[] = [], runNote: string | null = null): string {
  const colour = m.verdict === 'verified' ? c.green.bold : m.verdict === 'suspicious' ? c.red.bold : c.yellow.bold;
  const t = (value: unknown, max = 300): string => terminalSafe(value === null || value === undefined ? '' : String(value), max);
  const out: string[] = [];
  out.push(c.bold(shownLocation(m)), `  sha256      ${m.sha256}`, `  size        ${m.size} bytes, ${m.format}, offset ${m.offset}`);
  // (a forwarded message or a zip entry: what holds it, whose own verdict is another's; red team Y, Y-04)
  if (m.container !== null) out.push(`  inside      ${shownPath(m.container, 300)}${c.dim(m.derived && /#attachment-\d+$/.test(m.path) ? '  (forwarded inside it; each has its own verdict)' : '')}`);
  out.push(`  Message-ID  ${t(m.messageId)}`, `  From        ${shownFrom(m.from, m.fromAddress, 300, terminalSafeUncut)}`, `  Subject     ${shownText(m.subject, 300, terminalSafeUncut)}`, `  Date        ${t(m.dateHeader)}${m.date ? c.dim(`  (${m.date}${m.dateZoneKnown === false ? ', no readable zone: read as UTC, may be up to 14 h off' : ''})`) : ''}`);
  for (const [i, r] of m.repairs.entries()) out.push(`  ${i ? '           ' : 'repairs    '} ${t(r, 64)}: ${t(describeRepair(r))}`);
  // Before the verdict: it is about the bytes last read, and the reader must know they changed.
  for (const change of fileChanges) out.push(c.red(`  custody     ${describeChange(change)}`) + c.dim(`  noticed ${t(change.noticedAt)}`));
  // (the verdict of a run cut short or under way may not be the final one: red team V, V-03, V-04)
  if (runNote) out.push(c.red.bold(`  run         ${runNote}`));
  out.push('', colour(`Verdict: ${m.verdict}`) + c.dim(`  (${m.reasons.join(', ')})`), wrap(t(m.explanation, 4000), 2));
  out.push('', c.bold(`Signatures (${m.signatures.length})`));
  // a body hash that fails over content a mail client took out of the file says nothing about the body
  const notInFile = new Map(m.findings.flatMap((f) => (BODY_NOT_IN_FILE.has(f.code) ? [[String(f.evidence['signature']), BODY_NOT_IN_FILE.get(f.code)!] as const] : [])));
  const notSigner = keyNotSigner(m);
  for (const s of m.signatures) out.push(...renderSignature(s, c, t, notInFile.get(storedSignatureLabel(s)) ?? null, alignmentLabel(s, m.findings), notSigner(s)));
  out.push('', c.bold(`ARC: ${m.arc.result}`) + (m.arc.reason ? c.dim(`  ${t(m.arc.reason)}`) : ''));
  for (const i of m.arc.instances as Array<Record<string, unknown>>) {
    out.push(`  i=${t(i['i'])}  seal d=${t(i['sealDomain'])} s=${t(i['sealSelector'])} cv=${t(i['cv'])}  AMS d=${t(i['amsDomain'])} s=${t(i['amsSelector'])}`);
    if (i['authResults']) out.push(c.dim(`        ${t(i['authResults'], 300)}`));
    out.push(...renderArcKey('seal key', i['sealKey'], c, t), ...renderArcKey('AMS key ', i['amsKey'], c, t));
  }
  out.push('', c.bold(`Findings (${m.findings.length})`));
  for (const f of m.findings) {
    const sev = f.severity === 'red-flag' ? c.red('red-flag') : f.severity === 'warning' ? c.yellow('warning ') : c.dim('info    ');
    // the first line of the text follows "  warning  code: " (the severity is 8 columns wide)
    const lead = 2 + 8 + 1 + f.code.length + 2;
    out.push(`  ${sev} ${t(f.code, 80)}: ${wrap(t(f.text, 2000), 4, 100, lead).trimStart()}`);
  }
  if (attachments.length) {
    // what a loose document of the dump would be matched against (docs/documents.md)
    out.push('', c.bold(`Attachments (${attachments.length})`));
    for (const a of attachments) {
      const proof = a.strength === 'verified-content' ? c.green(a.strength) : a.strength === 'unverified' ? c.dim(a.strength) : c.yellow(a.strength);
      out.push(`  #${a.partIndex} ${a.filename === null ? c.dim('(no name)') : t(a.filename, 200)}  ${t(a.contentType, 80)}, ${a.size} bytes${a.transferEncoding ? `, ${t(a.transferEncoding, 40)}` : ''}${a.isMessage ? ', a forwarded message' : ''}  ${proof}`);
      // the bytes are proven, the name is not: one a forger changed reads as signed (red team Y, Y-02)
      // readers that take another of the names the part declares save it under that one (red team Y, Y-16)
      if (a.otherNames.length) out.push(`     also named ${a.otherNames.map((n) => t(n, 200)).join(', ')}: the part declares more than one name, and mail programs differ on which they save it under`);
      // (red team Y, Y-07)
      if (a.strength === 'covered-ambiguous-decoding') out.push(c.yellow('     decoded differently: its base64 goes on after its padding, or holds characters outside the alphabet, which mail programs decode to different bytes; the signature fixes the text, not these bytes'));
      if (a.nameUnsigned) out.push(c.yellow('     name not signed: the signature covers these bytes, not the Content-Disposition or Content-Type that names them'));
      out.push(c.dim(`     sha256 ${a.sha256}`));
    }
  }
  out.push('', c.dim(authenticationResults(m)), '');
  return out.join('\n');
}

/** What the signature line says of headers that verify over a body a mail client took content out of, by the finding that says so. */
const BODY_NOT_IN_FILE: ReadonlyMap<string, string> = new Map([
  ['body-stored-apart', 'still verifies; the body is not all in the file (body-stored-apart)'],
  ['attachment-removed-by-client', "still verifies; Thunderbird's record says an attachment was deleted or detached (attachment-removed-by-client)"],
  ['message-rebuilt-by-converter', 'still verifies; the body was written anew by a converter (message-rebuilt-by-converter)'],
  ['body-not-in-file', 'still verifies; the file holds no body (body-not-in-file)'],
]);

function renderSignature(s: SignatureRecord, c: ChalkInstance, t: (v: unknown, max?: number) => string, bodyNotInFile: string | null, alignment: string, notSigner = false): string[] {
  const ok = s.outcome === 'pass';
  const head = `  #${s.index + 1} d=${t(s.domain)} s=${t(s.selector)} a=${t(s.algorithm)} c=${t(s.canonicalization)}  ${ok ? c.green(s.outcome) : c.yellow(s.outcome)}${notSigner ? c.dim(`: ${KEY_NOT_SIGNER_NOTE}`) : ''}`;
  const lines = [head];
  lines.push(`     h=${t(s.signedHeaders.join(':'), 400)}`);
  const tags = [
    s.bodyLength !== null ? `l=${s.bodyLength}` : '',
    s.timestamp !== null ? `t=${s.timestamp} (${new Date(s.timestamp * 1000).toISOString()})` : '',
    s.expiration !== null ? `x=${s.expiration} (${new Date(s.expiration * 1000).toISOString()})` : '',
    s.identity ? `i=${t(s.identity)}` : '',
  ].filter(Boolean);
  if (tags.length) lines.push(`     ${tags.join('  ')}`);
  lines.push(`     mailauth: ${t(s.result)}${s.comment ? ` (${t(s.comment)})` : ''}; ${t(alignment, 400)}`);
  if (s.headerSignatureValid !== null && !notSigner) {
    const headers = s.headerSignatureValid ? 'still verifies: only the body changed' : 'does not verify either';
    lines.push(`     header signature ${bodyNotInFile !== null && s.headerSignatureValid ? bodyNotInFile : headers}`);
  }
  if (s.keyFingerprint) {
    lines.push(`     key ${t(s.keyName)}: ${s.keyType ?? '?'} ${s.keyBits ?? '?'}-bit, ${t(s.keyProvenance ?? s.keySource)} from ${t(s.keyOrigin === null ? null : shownKeyOrigin(s.keySource, s.keyOrigin))}`);
    lines.push(`     key sha256 ${s.keyFingerprint}`);
    if (s.keyFirstSeen || s.keyLastSeen) lines.push(`     key seen ${t(s.keyFirstSeen ?? '?')} .. ${t(s.keyLastSeen ?? '?')}`);
    if (s.keyCompromised) lines.push(c.red(`     key compromised: ${t(s.keyCompromised)}`));
  } else {
    lines.push(`     key ${t(s.keyName)}: ${s.keyLookup === 'not-needed' ? 'not looked up' : s.keyLookup === 'error' ? 'lookup failed' : 'not found'}`);
  }
  return lines;
}

/**
 * The key record that validated an ARC-Seal or ARC-Message-Signature, as a DKIM signature's key
 * is shown. Read from stored JSON: rows written before keys were recorded have none.
 */
function renderArcKey(label: string, stored: unknown, c: ChalkInstance, t: (v: unknown, max?: number) => string): string[] {
  if (!stored || typeof stored !== 'object') return [];
  const k = stored as Record<string, unknown>;
  const lines = [
    `        ${label} ${t(k['name'])}: ${t(k['keyType'] ?? '?')} ${t(k['bits'] ?? '?')}-bit, ${t(k['revoked'] ? 'revoked' : k['source'])} from ${t(typeof k['origin'] === 'string' ? shownKeyOrigin(typeof k['source'] === 'string' ? k['source'] : null, k['origin']) : k['origin'])}`,
    `        ${label} sha256 ${t(k['fingerprint'] ?? '?')}`,
  ];
  if (k['compromised']) lines.push(c.red(`        ${label} compromised: ${t(k['compromised'])}`));
  return lines;
}

/** `text` in lines of at most `width` columns, indented; the first starts at column `firstColumn`. */
function wrap(text: string, indent: number, width = 100, firstColumn = indent): string {
  const pad = ' '.repeat(indent);
  const words = text.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + w.length + 1 > width - (lines.length ? indent : firstColumn)) {
      lines.push(pad + line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(pad + line);
  return lines.join('\n');
}

/**
 * The messages an argument of `show` matched, one a line: sha256, where it is, its verdict, how
 * the argument read as naming it (sha256, path, path#index, Message-ID) and its Subject.
 */
export function renderCandidates(candidates: Array<{ message: MessageListing; readings: readonly MessageReading[] }>): string {
  const lines = [`${candidates.length} messages match; name one by its path (path#index in an mbox) or sha256:`];
  for (const { message: m, readings } of candidates) {
    lines.push(`  ${m.sha256}  ${shownLocation(m)}  ${m.verdict}  matched as ${readings.join(' and ')}  ${shownText(m.subject, 60, terminalSafeUncut)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The same candidates for `show --json`: a script that pipes the output to a JSON reader gets
 * JSON whatever the argument matched, not the text list (red team 27, C-04).
 */
export function candidatesJson(candidates: Array<{ message: MessageListing; readings: readonly MessageReading[] }>): string {
  return `${jsonText(
    {
      error: 'ambiguous',
      text: `${candidates.length} messages match; name one by its path (path#index in an mbox) or sha256`,
      candidates: candidates.map(({ message: m, readings }) => ({
        sha256: m.sha256,
        path: m.path,
        index: m.index,
        label: messageLabel(m),
        labelQuoted: labelQuoted(m),
        verdict: m.verdict,
        matchedAs: readings,
        subject: m.subject,
      })),
    },
    2,
  )}\n`;
}

/** Where a message is, as `show` takes it back: its path, and its position after `#` in an mbox. */
/**
 * The message as every report names it (messageLabel): its file's path, typed back exactly
 * (shownPath), then `#index`. A file whose own name holds `#` or `!` is quoted whole, as in the
 * reports, so that it never reads as a message of another file.
 */
const shownLocation = (m: MessageListing): string => {
  const index = labelIndex(m);
  return labelQuoted(m) && !index ? shownPath(m.path, 300, true) : `${shownPath(m.path)}${index}`;
};
