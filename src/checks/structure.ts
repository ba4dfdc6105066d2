import { readUtf8 } from '../read/message-meta.ts';
import { readAddressList } from './address-syntax.ts';
import { MAX_VALUE_CHARS, escapeControls } from './check-support.ts';
import type { Finding, MessageCheck } from './types.ts';

/** Fields RFC 5322 section 3.6 allows at most once. */
export const SINGLETONS = [
  'from', 'sender', 'reply-to', 'to', 'cc', 'bcc', 'message-id', 'in-reply-to', 'references', 'subject', 'date',
] as const;

const ADDRESS_FIELDS = ['from', 'sender', 'reply-to', 'to', 'cc'] as const;

const DISPLAY: Record<string, string> = {
  from: 'From', sender: 'Sender', 'reply-to': 'Reply-To', to: 'To', cc: 'Cc', bcc: 'Bcc', 'message-id': 'Message-ID',
  'in-reply-to': 'In-Reply-To', references: 'References', subject: 'Subject', date: 'Date',
};

/**
 * RFC 5322 structure: singleton fields present more than once, a missing From or Date, and
 * address fields no parser can read. All warnings: mail programs disagree on which duplicate
 * they show, which is what header injection exploits, but the red flag for that is
 * `header-injected` (an unsigned duplicate beside a signed copy); a duplicate it already
 * reports is not reported again here.
 */
export const auditStructure: MessageCheck = ({ bytes, headers, signatures }) => {
  const fields = headers.fields;
  if (fields.length === 0) return [];
  const findings: Finding[] = [];
  const head = bytes.subarray(0, headers.headerBytes);
  // Bytes and lines that readers of the header disagree on. No signer writes them, so beside a
  // verifying signature they are a red flag: added to an unsigned header, they make different
  // programs see different messages while the signature still verifies.
  const verifying = signatures.some((s) => s.outcome === 'pass');
  // (each code is written as `code:`, where tests/unit/reasons-doc.test.ts finds the codes to check the docs for)
  const disagreement = ({ code, text, whenSigned, evidence }: { code: string; text: string; whenSigned: string; evidence: Record<string, unknown> }): Finding => ({
    code,
    severity: verifying ? 'red-flag' : 'warning',
    text: verifying ? `${text} ${whenSigned}` : text,
    evidence,
  });
  const bareCr = bareCarriageReturnIn(head);
  if (bareCr >= 0) {
    const at = placeInHeader(head, bareCr);
    findings.push(
      disagreement({
        code: 'header-bare-cr',
        text: `${at.text} holds a carriage return that does not end a line. Some programs break the line there, others do not, so they disagree on which headers the message has and on where its body starts.`,
        whenSigned: 'No signer writes one, and a signature does not stop one from being added to an unsigned header, for example to start the body early for some readers with unsigned text.',
        evidence: { byteOffset: bareCr, line: at.line, field: at.field },
      }),
    );
  }
  const nul = head.indexOf(0);
  if (nul >= 0) {
    const at = placeInHeader(head, nul);
    findings.push(
      disagreement({
        code: 'header-nul',
        text: `${at.text} holds a NUL byte. Programs differ on what follows it (some end the field or the header there, some keep it), so they disagree on what the message says.`,
        whenSigned: 'No signer writes one; added to an unsigned header, it can make tools set the message aside as binary data.',
        evidence: { byteOffset: nul, line: at.line, field: at.field },
      }),
    );
  }
  const stray = strayHeaderLine(head);
  if (stray) {
    findings.push(
      disagreement({
        code: 'header-line-not-a-field',
        text:
          `Line ${stray.line} of the header is neither a header field nor the continuation of one. DKIM verifiers join such a line to the field above it; ` +
          "mail programs, and leakcheck's own reading of the headers, drop it or end the header there. What was signed and what a reader sees then differ: " +
          'a signed value can be cut short, or a signed field hidden so that a forged one above it passes for it.',
        whenSigned: 'No signer writes such a line.',
        evidence: { line: stray.line, text: escapeControls(stray.text.slice(0, 200)) },
      }),
    );
  }
  const spaced = spacedFieldName(head);
  if (spaced) {
    findings.push(
      disagreement({
        code: 'header-name-space',
        text:
          `Line ${spaced.line} of the header has a space or a tab between a field name and its colon (the obsolete form \`Name : value\`). ` +
          "DKIM verifiers, mailparser and leakcheck read it as a field; Python's email package does not, and ends the header there, so everything " +
          'after it, the rest of the header included, is shown as the first lines of the body.',
        whenSigned:
          'No current signer writes one, and relaxed canonicalization drops the space, so one can be put into a signed field, or an unsigned field written so can be added, ' +
          'while the signature still verifies: its continuation lines then read as text above the signed body for some readers.',
        evidence: { line: spaced.line, text: escapeControls(spaced.text.slice(0, 200)) },
      }),
    );
  }
  const byName = new Map<string, typeof fields>();
  for (const f of fields) {
    const list = byName.get(f.name);
    if (list) list.push(f);
    else byName.set(f.name, [f]);
  }

  for (const name of SINGLETONS) {
    const present = byName.get(name) ?? [];
    if (present.length < 2) continue;
    const signedCounts = signatures.filter((s) => s.outcome === 'pass').map((s) => s.tags.signedHeaders.filter((h) => h === name).length);
    // header-injected (signed-headers.ts) already reports this duplicate, as a red flag: say it once.
    if (signedCounts.some((n) => n > 0 && n < present.length)) continue;
    findings.push({
      code: 'duplicate-singleton-header',
      severity: 'warning',
      text: `The message has ${present.length} ${DISPLAY[name]} headers where RFC 5322 allows one; mail programs differ in which one they show.`,
      evidence: {
        header: DISPLAY[name],
        count: present.length,
        values: present.slice(0, 10).map((f) => f.value.slice(0, 500)),
        positions: present.slice(0, 10).map((f) => f.position),
      },
    });
  }

  const missing = (['from', 'date'] as const).filter((name) => !byName.has(name));
  if (missing.length) {
    const names = missing.map((n) => DISPLAY[n]);
    findings.push({
      code: 'required-header-missing',
      severity: 'warning',
      text: `The message has no ${names.join(' and no ')} header, which RFC 5322 requires of every message; drafts and some exports lack them, forgeries assembled by hand too.`,
      evidence: { missing: names },
    });
  }

  for (const name of ADDRESS_FIELDS) {
    for (const field of (byName.get(name) ?? []).slice(0, 10)) {
      const value = field.value;
      if (value.length > MAX_VALUE_CHARS) continue; // cannot judge a cut list fairly
      if (value.trim() === '' && name !== 'from' && name !== 'sender') continue; // empty To/Cc: common, harmless
      // read as a mail program reads it: UTF-8 (RFC 6532) as such, or a "voilà" is bytes, one of them 0xA0, which reads as a blank
      const reading = value.trim() === '' ? null : readAddressList(readUtf8(value).text);
      let problem = reading ? reading.problem : 'the field is empty';
      if (reading && !problem && (name === 'sender' || name === 'from')) {
        const count = reading.addresses.length;
        if (name === 'sender' && count > 1) problem = `Sender must name one mailbox, and names ${count}`;
        if (name === 'from' && count > 1 && !byName.has('sender')) problem = `From names ${count} mailboxes, which RFC 5322 allows only with a Sender header, and there is none`;
      }
      if (!problem) continue;
      findings.push({
        code: 'malformed-address',
        severity: 'warning',
        text: `The ${DISPLAY[name]} header cannot be read as RFC 5322 addresses (${escapeControls(problem, 200)}); mail programs may show it differently.`,
        evidence: { header: DISPLAY[name], value: value.slice(0, 500), position: field.position, problem },
      });
    }
  }
  return findings;
};

/**
 * Where a byte of the header is: its 1-based line (lines end at LF, as the other checks here
 * count them) and the field that line starts or continues, so that the reader can find it in
 * the file; the offset alone sent them counting bytes (red team K, K-10). A line that is neither
 * a field nor a continuation, the byte's own line among them when the byte is in a field's
 * name, belongs to no field.
 */
function placeInHeader(head: Buffer, offset: number): { line: number; field: string | null; text: string } {
  const ownEnd = head.indexOf(0x0a, offset);
  const lines = head.toString('latin1', 0, ownEnd < 0 ? head.length : ownEnd).split('\n');
  let field: string | null = null;
  for (let i = lines.length - 1; i >= 0; i--) {
    const text = lines[i]!;
    const name = FIELD_START.exec(text)?.[1];
    if (name) field = escapeControls(name, 100);
    // a continuation line belongs to the field above it
    if (name || !(text[0] === ' ' || text[0] === '\t')) break;
  }
  const line = lines.length;
  return { line, field, text: field ? `Line ${line} of the header, in the ${field} field,` : `Line ${line} of the header` };
}

/** The offset of the first CR in `head` that is not followed by LF, or -1. */
function bareCarriageReturnIn(head: Buffer): number {
  for (let cr = head.indexOf(0x0d); cr >= 0; cr = head.indexOf(0x0d, cr + 1)) if (head[cr + 1] !== 0x0a) return cr;
  return -1;
}

/**
 * A field starts with a name (captured) and a colon (mailauth's own test, tools.js FIELD_START,
 * which allows whitespace before the colon); a continuation with a space or a tab.
 */
const FIELD_START = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:/;

/**
 * The first line, the first included, that writes a field name and its colon apart (obs-optional,
 * RFC 5322 section 4.5), with its 1-based number (red team 28, I-03). Python's email package
 * reads a field only as a name directly followed by a colon.
 */
function spacedFieldName(head: Buffer): { line: number; text: string } | null {
  const lines = head.toString('latin1').split('\n');
  for (const [i, line] of lines.entries()) if (SPACED_FIELD_START.test(line)) return { line: i + 1, text: line.replace(/\r$/, '') };
  return null;
}

const SPACED_FIELD_START = /^[\x21-\x39\x3b-\x7e]+[ \t]+:/;

/**
 * The first line after the first that is neither, with its 1-based number. (The first line is
 * left alone: an mbox envelope left at the top of a file is no field either, and nothing is
 * joined to it.) Lines end at LF; a CR alone is header-bare-cr's.
 */
function strayHeaderLine(head: Buffer): { line: number; text: string } | null {
  const lines = head.toString('latin1').split('\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!;
    if (line === '' || line[0] === ' ' || line[0] === '\t' || FIELD_START.test(line)) continue;
    return { line: i + 1, text: line };
  }
  return null;
}

