import { loadMimeLibraries } from '../attachments/parser-config.ts';
import { escapeControls } from './check-support.ts';
import { MAX_HEADER_VALUE, readAgreedParameter } from './header-parameters.ts';
import { signatureLabel } from './signed-headers.ts';
import { multipartShownPartsProblem } from './multipart-shown-parts.ts';
import type { Finding, MessageCheck } from './types.ts';
import type { HeaderField } from '../read/headers.ts';

/** Character sets in which a text reads the same whatever a reader guesses among them for ASCII. */
const PLAIN_CHARSETS = /^(?:us-ascii|utf-8|iso-8859-\d{1,2}|windows-125\d)$/;

/** File names a reader takes for plain text when it types a part by its name (libmime.detectMimeType). */
const PLAIN_FILE_NAME = /\.(?:txt|text)$/i;

const NOT_PROVEN = 'The signed bytes are genuine; what a reader sees of them is not proven.';

/**
 * A single-part message whose Content-Type no passing signature by the From domain covers, and
 * which declares anything but plain text in a common character set. The body's bytes are
 * signed, but how a mail program shows them is not: changed from text/plain to text/html (or
 * added where there was none), "We will <not pay this invoice…> pay it on Friday" shows as "We
 * will pay it on Friday" (red team, round 4). Plain text in a common character set is left alone:
 * most signers that leave Content-Type out of h= send exactly that, and it reads the same if a
 * Content-Type is taken away. A multipart type decides which parts are shown: it is held against
 * the parts (multipart-shown-parts.ts); its boundary is the boundary checks' (part-headers.ts), a
 * Content-Type present twice content-header-ambiguous's.
 *
 * The charset is read as readers read parameters (readAgreedParameter), never by a pattern over
 * the text: `charset*=''utf-7`, or `charset=utf-7` after a quoted `"; charset=utf-8"`, read as
 * utf-7 to mail programs (red team 28, I-04). And a message is typed by more than its
 * Content-Type (red team 28, I-05, I-06): without one, mailparser types the body by the file name
 * of its Content-Disposition (`note.html` is HTML, `request.eml` a forwarded message); with one,
 * an unsigned disposition or file name turns the signed text into an attachment named by whoever
 * added it. Those are judged too, against signatures that leave Content-Disposition out of h=.
 *
 * A warning, and the signature does not prove the message (docs/verdicts.md): the bytes are
 * genuine, what the reader sees of them is not proven.
 */
export const auditUnsignedContentType: MessageCheck = ({ bytes, headers, signatures }) => {
  const types = headers.fields.filter((f) => f.name === 'content-type');
  if (types.length > 1) return [];
  const dispositions = headers.fields.filter((f) => f.name === 'content-disposition');
  const findings: Finding[] = [];
  for (const sig of signatures) {
    if (sig.outcome !== 'pass' || !sig.aligned) continue;
    const signs = (name: string): boolean => sig.tags.signedHeaders.includes(name);
    const type = types[0]?.value ?? null;
    const problem =
      (signs('content-type') ? null : type === null ? untypedProblem(dispositions) : shownPartsProblem(type, bytes, headers.headerBytes)) ??
      (signs('content-disposition') || !isPlainText(type) ? null : dispositionProblem(dispositions, signs('content-type') ? null : type));
    if (problem === null) continue;
    findings.push({
      code: 'content-type-not-signed',
      severity: 'warning',
      text: `The signature ${signatureLabel(sig)} does not cover ${problem.field}, which ${problem.what}: ${problem.consequence}`,
      evidence: { signature: signatureLabel(sig), contentType: type?.slice(0, 300) ?? null, ...(dispositions.length ? { contentDisposition: dispositions[0]!.value.slice(0, 300) } : {}) },
    });
  }
  return findings;
};

interface ShownProblem {
  field: string;
  what: string;
  consequence: string;
}

/**
 * The body is the message's text (no type, or text/plain): only then does a disposition turn
 * what the author wrote into an attachment. A body the signer typed as something else (a CSV,
 * a PDF sent whole) is an attachment already, and its type is judged above.
 */
const isPlainText = (type: string | null): boolean => type === null || ['text/plain', '"text/plain"', ''].includes(mediaType(type));

/** The type/subtype of a Content-Type value, lower case, as written (a quoted one stays quoted). */
const mediaType = (value: string): string => (value.split(';')[0] ?? '').trim().toLowerCase();

/** What the unsigned Content-Type decides about what a reader sees, when that is not the signed bytes as plain text. */
function shownPartsProblem(value: string, bytes: Buffer, bodyStart: number): ShownProblem | null {
  const type = mediaType(value);
  if (type.startsWith('multipart/')) {
    const problem = multipartShownPartsProblem(bytes, bodyStart, value);
    return problem === null
      ? null
      : { field: 'Content-Type', what: problem, consequence: `which of the signed parts a reader sees may have been changed after signing. ${NOT_PROVEN}` };
  }
  const read = readAgreedParameter(value, 'charset', { field: 'Content-Type', fold: (r) => r.trim().toLowerCase() });
  if (read.problem !== null) {
    return { field: 'Content-Type', what: `declares ${type || '(no type)'} with a charset mail programs read differently (${read.problem})`, consequence: consequenceOfType };
  }
  const charset = read.readings[0] || null;
  if ((type === 'text/plain' || type === '') && (charset === null || PLAIN_CHARSETS.test(charset))) return null;
  return { field: 'Content-Type', what: `declares ${type || '(no type)'}${charset !== null ? `; charset=${charset}` : ''}`, consequence: consequenceOfType };
}

const consequenceOfType = `how the signed body is shown (as HTML, in which character set) may have been changed after signing, or the header added. ${NOT_PROVEN}`;

/**
 * No Content-Type: RFC 2045 makes the body plain US-ASCII text, but mailparser types it by the
 * file name a Content-Disposition gives, as it types attachments.
 */
function untypedProblem(dispositions: HeaderField[]): ShownProblem | null {
  const named = dispositions.map((f) => fileName(f.value)).find((name) => name !== null && !PLAIN_FILE_NAME.test(name));
  return named === undefined
    ? null
    : {
        field: 'Content-Type',
        what: `is absent, while a Content-Disposition names the body "${shownName(named!)}"`,
        consequence: `mail programs that type a part by its file name show the signed text as what the name says (HTML, a forwarded message), not as plain text, and the name may have been added after signing. ${NOT_PROVEN}`,
      };
}

/** An unsigned disposition (or a file name on an unsigned Content-Type) that makes the signed text an attachment. */
function dispositionProblem(dispositions: HeaderField[], unsignedType: string | null): ShownProblem | null {
  for (const field of dispositions) {
    const disposition = (field.value.split(';')[0] ?? '').trim().toLowerCase();
    const name = fileName(field.value);
    if (disposition === 'inline' && name === null) continue;
    const named = name === null ? '' : ` named "${shownName(name)}"`;
    return {
      field: 'Content-Disposition',
      what:
        disposition === 'inline'
          ? `gives the signed text the file name "${shownName(name!)}"`
          : disposition === 'attachment'
            ? `presents the signed text as an attachment${named}`
            : `declares the disposition "${shownName(disposition)}"${named}`,
      consequence: `a mail program may show the signed text not as the message but as an attachment, named by whoever wrote this header, possibly after signing. ${NOT_PROVEN}`,
    };
  }
  const name = unsignedType === null ? null : parameterValue(unsignedType, 'name');
  return name === null
    ? null
    : {
        field: 'Content-Disposition',
        what: `is absent, while the unsigned Content-Type names the body "${shownName(name)}"`,
        consequence: `a mail program may show the signed text as an attachment of that name, which may have been added after signing. ${NOT_PROVEN}`,
      };
}

/** A parameter's value as libmime reads it (RFC 2231 and encoded words included), or null. */
function parameterValue(value: string, name: string): string | null {
  const read = loadMimeLibraries().libmime.parseHeaderValue(value.slice(0, MAX_HEADER_VALUE)).params[name];
  return typeof read === 'string' && read.trim() ? read.trim() : null;
}

const fileName = (disposition: string): string | null => parameterValue(disposition, 'filename') ?? parameterValue(disposition, 'name');

const shownName = (name: string): string => escapeControls(name, 120);
