import { quotedPrintableDecoded } from '../attachments/content-decode.ts';
import { loadMimeLibraries } from '../attachments/parser-config.ts';
import { firstValue, parseHeaders } from '../read/headers.ts';
import { readMultipartBoundary } from './part-headers.ts';

/**
 * Which of a multipart message's parts a mail program shows is decided by the subtype of the
 * top-level Content-Type, and many signers (Gmail among them) leave that header out of h=.
 * multipart/mixed shows every part; changed to multipart/alternative, the same signed parts
 * show one of them, the last: a genuine "Do NOT pay invoice 4471, below is their request"
 * followed by the quoted request in HTML shows only the request, as the signer's own verified
 * words (red team, round 6). Changed to multipart/related, only the root part shows; to
 * multipart/digest, parts without a Content-Type become messages; to multipart/signed, the
 * second part is taken for a signature and hidden.
 *
 * So the declared subtype is held against the parts it governs, and this says what does not fit
 * a genuine message of that subtype (null when everything does, or the subtype shows every
 * part). The test for an alternative is that every text part before the part shown (the last, of
 * whatever type) says the same thing as the part shown: mail programs make one from the other,
 * so their word pairs agree, apart from link targets (alternativeProblem). A genuine alternative
 * whose parts differ (a newsletter's "view this in a browser" plain part) is reported too: under
 * its unsigned Content-Type the signature does not prove which text the sender meant a reader to
 * see instead of the other.
 */
export function multipartShownPartsProblem(message: Buffer, bodyStart: number, contentType: string): string | null {
  const read = readMultipartBoundary(contentType);
  // an unreadable or misplaced boundary is the boundary checks' (part-headers.ts)
  if (!read || read.boundary === null) return null;
  const subtype = read.type.slice('multipart/'.length);
  const hidden = hiddenTextProblem(message, bodyStart, read.boundary, `multipart/${subtype}`);
  if (hidden !== null) return hidden;
  // mixed, parallel, report, encrypted and unknown subtypes (read as mixed) show every part: their parts are not read
  if (!SUBTYPES_THAT_HIDE.has(subtype)) return null;
  const parts = childParts(message, bodyStart, message.length, read.boundary, subtype === 'digest' ? 'message/rfc822' : 'text/plain');
  if (parts === null) return null;
  const declared = `multipart/${subtype}`;
  switch (subtype) {
    case 'alternative':
      return alternativeProblem(message, parts, declared);
    case 'related':
      return relatedProblem(parts, contentType, declared);
    case 'digest': {
      const untyped = parts.filter((p) => !p.typeDeclared).length;
      return untyped
        ? `declares ${declared}, under which ${untyped === 1 ? 'a part' : `${untyped} parts`} without a Content-Type of ${untyped === 1 ? 'its' : 'their'} own ${untyped === 1 ? 'is' : 'are'} read as a forwarded message instead of as text`
        : null;
    }
    case 'signed': {
      const [, second, ...more] = parts;
      return second && !more.length && SIGNATURE_TYPES.test(second.type)
        ? null
        : `declares ${declared}, under which a mail program shows the first part and takes the second for a signature, but the parts are ${parts.map((p) => p.type).join(', ')}`;
    }
    default:
      return null;
  }
}

const SUBTYPES_THAT_HIDE: ReadonlySet<string> = new Set(['alternative', 'related', 'digest', 'signed']);

/** How much of a preamble or an epilogue is read; text before that decides. */
const MAX_HIDDEN_SCAN = 64 * 1024;
/** The line mail programs write for readers that know no MIME, which no reader shows. */
const MIME_NOTICE = /\bMIME\b|multi-?part|encapsulated/i;
const MAX_NOTICE_CHARS = 400;

/**
 * Signed text that no mail program shows, whatever the subtype: what comes before a multipart
 * body's first delimiter (the preamble) and after its closing one (the epilogue). RFC 2046 has
 * readers ignore both, and mail programs write there at most a line for readers that know no
 * MIME ("This is a multi-part message in MIME format."). A forger who makes a single-part reply
 * multipart, with a boundary taken from a separator line of the signed text
 * ("-----Original Message-----" is "--" and a boundary), hides the author's own words above it,
 * and the quoted text below shows as the message, verified, with no byte changed but the
 * unsigned Content-Type (red team 27, A-01). A body that never uses the boundary is all preamble:
 * a reader shows none of it.
 */
function hiddenTextProblem(message: Buffer, bodyStart: number, boundary: string, declared: string): string | null {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  let first = -1;
  let closeEnd = -1;
  for (let at = message.indexOf(delimiter, bodyStart); at >= 0; at = message.indexOf(delimiter, at + 1)) {
    if (at !== bodyStart && message[at - 1] !== 0x0a) continue;
    const after = at + delimiter.length;
    const lineEnd = message.indexOf(0x0a, after);
    const closing = message[after] === 0x2d && message[after + 1] === 0x2d;
    // only transport padding may follow a delimiter on its line (a closing one may end the message)
    if (!closing && (lineEnd < 0 || !/^[ \t\r]*$/.test(message.toString('latin1', after, lineEnd)))) continue;
    if (first < 0) first = at;
    if (closing) {
      closeEnd = lineEnd < 0 ? message.length : lineEnd + 1;
      break;
    }
  }
  const preambleEnd = first < 0 ? message.length : first;
  const before = hiddenBytes(message, bodyStart, preambleEnd);
  const after = closeEnd < 0 ? null : hiddenBytes(message, closeEnd, message.length);
  if (before === null && after === null) return null;
  const where = [
    before === null ? null : first < 0 ? `the whole body (${before} bytes), which never uses its boundary` : `${before} bytes before its first part`,
    after === null ? null : `${after} bytes after its last`,
  ].filter(Boolean);
  return `declares ${declared}, under which mail programs show none of the signed text in ${where.join(' and ')}`;
}

/** How many bytes [start, end) holds when it is more than blank lines and a MIME notice (text a reader would miss), else null. */
function hiddenBytes(message: Buffer, start: number, end: number): number | null {
  const text = message.toString('latin1', start, Math.min(end, start + MAX_HIDDEN_SCAN)).trim();
  if (text === '' || (text.length <= MAX_NOTICE_CHARS && MIME_NOTICE.test(text))) return null;
  return end - start;
}

const SIGNATURE_TYPES = /^application\/(?:pgp-signature|(?:x-)?pkcs7-signature)$/;
/** No genuine alternative or related has more; past it the message is not read. */
const MAX_PARTS = 50;
const MAX_PART_HEADER_BYTES = 16 * 1024;
/** Enough of a text part to compare its words; a mail body is rarely longer. */
const MAX_TEXT_BYTES = 256 * 1024;
/**
 * Of the word pairs of a part a mail program hides, at least this share must be in the part it
 * shows. Pairs, not words: a short hidden note ("Do not pay this. It is not from me.") is made of
 * common words that a longer shown text nearly always holds, in another order (red team 7).
 * Alternatives made one from the other keep their word order; what the shown part has beyond
 * the hidden one (a forum's avatar names, a link preview) is signed text shown, and does not
 * count against it.
 */
const MIN_SHARED_PHRASES = 0.75;

interface ChildPart {
  type: string;
  typeDeclared: boolean;
  contentType: string | null;
  contentId: string | null;
  encoding: string | null;
  contentStart: number;
  contentEnd: number;
}

/**
 * The direct children of a multipart body between `start` and `end`: the parts between its
 * delimiter lines. Null when the body has no delimiter of the boundary, more than MAX_PARTS
 * parts, or a part header that does not end; the boundary checks speak for such bodies.
 */
function childParts(message: Buffer, start: number, end: number, boundary: string, defaultType: string): ChildPart[] | null {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const starts: number[] = [];
  let closed = false;
  for (let at = message.indexOf(delimiter, start); at >= 0 && at < end; at = message.indexOf(delimiter, at + 1)) {
    if (at !== start && message[at - 1] !== 0x0a) continue;
    const after = at + delimiter.length;
    if (message[after] === 0x2d && message[after + 1] === 0x2d) {
      starts.push(at);
      closed = true;
      break;
    }
    // only transport padding may follow the boundary on its line
    const lineEnd = message.indexOf(0x0a, after);
    if (lineEnd < 0 || lineEnd >= end || !/^[ \t\r]*$/.test(message.toString('latin1', after, lineEnd))) continue;
    starts.push(at);
    if (starts.length > MAX_PARTS + 1) return null;
  }
  if (!closed && starts.length) starts.push(end);
  const parts: ChildPart[] = [];
  for (let i = 0; i + 1 < starts.length; i++) {
    const headerStart = message.indexOf(0x0a, starts[i]!) + 1;
    const next = starts[i + 1]!;
    // the line break before a delimiter belongs to the delimiter
    const contentEnd = next > 0 && message[next - 1] === 0x0a ? (message[next - 2] === 0x0d ? next - 2 : next - 1) : next;
    const partHeaders = parseHeaders(message.subarray(headerStart, Math.min(contentEnd, headerStart + MAX_PART_HEADER_BYTES)));
    if (partHeaders.hasBody === false && contentEnd - headerStart > MAX_PART_HEADER_BYTES) return null;
    const contentType = firstValue(partHeaders, 'content-type');
    const type = contentType ? (contentType.split(';')[0] ?? '').trim().toLowerCase() : '';
    parts.push({
      type: type || defaultType,
      typeDeclared: Boolean(type),
      contentType,
      contentId: firstValue(partHeaders, 'content-id')?.trim() ?? null,
      encoding: firstValue(partHeaders, 'content-transfer-encoding')?.trim().toLowerCase() ?? null,
      contentStart: Math.min(headerStart + partHeaders.headerBytes, contentEnd),
      contentEnd,
    });
  }
  return parts.length ? parts : null;
}

/** Parts a mail program shows beside the alternative it picks, not instead of it: an invitation's event. */
const SHOWN_BESIDE: ReadonlySet<string> = new Set(['text/calendar', 'application/ics']);

interface ReadText {
  type: string;
  tokens: string[];
}

function alternativeProblem(message: Buffer, parts: ChildPart[], declared: string): string | null {
  const candidates = parts.filter((p) => !SHOWN_BESIDE.has(p.type));
  // RFC 2046 section 5.1.4: the last part a program can show is the one shown, whatever its type
  const last = candidates[candidates.length - 1];
  if (!last) return null;
  const shown = textOf(message, last);
  const hidden = candidates.slice(0, -1).flatMap((p) => textOf(message, p) ?? []);
  if (!hidden.length) return null;
  const unseen = `under which a mail program shows only its last part`;
  if (!shown) {
    return `declares ${declared}, ${unseen}, ${last.type}, and not the text part${hidden.length === 1 ? '' : 's'} before it, which may have been shown beside it before the header was changed`;
  }
  const plain = [...hidden, shown].filter((t) => t.type === 'text/plain').length;
  const html = hidden.length + 1 - plain;
  if (plain > 1 || html > 1) {
    return `declares ${declared}, ${unseen}, but it holds ${plain} text/plain and ${html} text/html parts, which are not versions of one text`;
  }
  for (const text of hidden) {
    const share = sharedPhraseShare(text.tokens, shown.tokens);
    if (share < MIN_SHARED_PHRASES) {
      return (
        `declares ${declared}, ${unseen}, ${shown.type}, but the ${text.type} part before it says other things ` +
        `(${Math.round(share * 100)} % of its word pairs are in the part shown): the two may be parts that were both shown before the header was changed`
      );
    }
  }
  return null;
}

/**
 * The text a part shows, for the comparison: a text/plain or text/html part's own, or, one level
 * down, the root of a related part (the HTML with its images, as Apple Mail and Outlook send it),
 * the text parts of a mixed one in order (Apple Mail's HTML pieces around inline attachments),
 * or the last text of a nested alternative. Null for anything else (an image, a forwarded
 * message, text/enriched): a text that could not be compared.
 */
function textOf(message: Buffer, part: ChildPart): ReadText | null {
  if (part.type === 'text/plain' || part.type === 'text/html') return { type: part.type, tokens: tokens(partText(message, part), part.type === 'text/html') };
  if (part.type !== 'multipart/related' && part.type !== 'multipart/mixed' && part.type !== 'multipart/alternative') return null;
  const read = part.contentType ? readMultipartBoundary(part.contentType) : null;
  const children = read && read.boundary !== null ? childParts(message, part.contentStart, part.contentEnd, read.boundary, 'text/plain') : null;
  const isText = (c: ChildPart): boolean => c.type === 'text/plain' || c.type === 'text/html';
  const texts = (children ?? []).filter(isText);
  const root = children?.[0];
  const chosen = part.type === 'multipart/related' ? (root && isText(root) ? [root] : []) : part.type === 'multipart/alternative' ? texts.slice(-1) : texts;
  if (!chosen.length) return null;
  const type = chosen.some((c) => c.type === 'text/html') ? 'text/html' : 'text/plain';
  return { type, tokens: chosen.flatMap((c) => tokens(partText(message, c), c.type === 'text/html')) };
}

function relatedProblem(parts: ChildPart[], contentType: string, declared: string): string | null {
  const start = loadMimeLibraries().libmime.parseHeaderValue(contentType).params['start'];
  const rootIndex = start === undefined ? 0 : parts.findIndex((p) => p.contentId === start.trim());
  if (rootIndex < 0) return `declares ${declared} with a start parameter (${start!.slice(0, 200)}) that names none of its parts, so which part a mail program shows is anyone's guess`;
  if (rootIndex > 0) return `declares ${declared} with a start parameter that makes part ${rootIndex + 1} of ${parts.length} the one a mail program shows, instead of the first`;
  const hiddenTexts = parts.slice(1).filter((p) => p.type === 'text/plain' || p.type === 'text/html').length;
  return hiddenTexts
    ? `declares ${declared}, under which a mail program shows only the first part and uses the others as its images, but ${hiddenTexts === 1 ? 'another part is' : `${hiddenTexts} other parts are`} text that would not be shown`
    : null;
}

function partText(message: Buffer, part: ChildPart): string {
  const raw = message.subarray(part.contentStart, Math.min(part.contentEnd, part.contentStart + MAX_TEXT_BYTES));
  const { decodeBase64, libmime } = loadMimeLibraries();
  // (not libqp's decode(), which took minutes on a long run of blanks: see content-decode.ts)
  const bytes = part.encoding === 'base64' ? decodeBase64(raw.toString('latin1')) : part.encoding === 'quoted-printable' ? quotedPrintableDecoded(raw) : raw;
  const charset = part.contentType ? libmime.parseHeaderValue(part.contentType).params['charset'] : undefined;
  try {
    return new TextDecoder(charset?.trim() || 'utf-8').decode(bytes);
  } catch {
    // an unknown charset: the words of its ASCII letters still compare
    return bytes.toString('latin1');
  }
}

const NOT_SHOWN_OPENER = /<(script|style|head|title)\b|<!--/gi;
/** (a tag ends at the next ">" or where another begins: a run of "<" without ">" is read in one pass) */
const TAG = /<[^<>]*>/g;
/** An image's alt text, which Gmail's plain part writes as "[image: alt]". */
const IMAGE_ALT = /<img\b[^<>]*?\balt\s*=\s*(?:"([^"<>]*)"|'([^'<>]*)'|([^\s"'<>]+))[^<>]*>/gi;

/**
 * The HTML without what a mail program does not show: comments, and the content of script,
 * style, head and title elements (an unclosed one runs to the end). One pass: each opener's end
 * is found with indexOf from there on, never by a pattern that a thousand unclosed openers
 * would make quadratic.
 */
function withoutUnshown(html: string): string {
  const lower = html.toLowerCase();
  let out = '';
  let from = 0;
  NOT_SHOWN_OPENER.lastIndex = 0;
  for (let m = NOT_SHOWN_OPENER.exec(html); m; m = NOT_SHOWN_OPENER.exec(html)) {
    if (m.index < from) continue;
    const close = m[1] ? `</${m[1].toLowerCase()}` : '-->';
    const end = lower.indexOf(close, m.index + m[0].length);
    out += `${html.slice(from, m.index)} `;
    if (end < 0) return out;
    from = end + close.length;
    NOT_SHOWN_OPENER.lastIndex = from;
  }
  return out + html.slice(from);
}
/** Link targets: a plain part spells them out, its HTML twin keeps them in attributes. */
/** Link targets: a plain part spells them out, its HTML twin keeps them in attributes; Outlook writes an image as [cid:…]. */
const LINK = /\b(?:https?|mailto|ftp|cid):[^\s<>"\]]*|\bwww\.[^\s<>"]+|\[\d+\]/gi;
/**
 * A word, or one character of a script written without spaces between words (Chinese,
 * Japanese, Thai, ...): read as words, a Japanese clause is one "word" that a line break in the
 * plain part or a tag in the HTML cuts in two, and the two genuine versions of one text would
 * share none (red team 7).
 */
const TOKEN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]|[\p{L}\p{N}\p{M}]+/gu;

function tokens(text: string, html: boolean): string[] {
  const shown = html
    ? loadMimeLibraries().decodeHtmlEntities(withoutUnshown(text).replace(IMAGE_ALT, (_, a, b, c) => ` image ${a ?? b ?? c ?? ''} `).replace(TAG, ' '))
    : text;
  return shown.replace(LINK, ' ').normalize('NFKC').toLowerCase().match(TOKEN) ?? [];
}

/**
 * The share of `hidden`'s word pairs (counted with repeats) that `shown` has too; of its words
 * when it has fewer than two.
 */
function sharedPhraseShare(hidden: string[], shown: string[]): number {
  const pairs = (list: string[]): string[] => (hidden.length < 2 ? list : list.slice(1).map((w, i) => `${list[i]} ${w}`));
  return sharedShare(pairs(hidden), pairs(shown));
}

/** The share of `hidden`'s items (counted with repeats) that `shown` has too. */
function sharedShare(hidden: string[], shown: string[]): number {
  if (!hidden.length) return 1;
  const counts = new Map<string, number>();
  for (const w of shown) counts.set(w, (counts.get(w) ?? 0) + 1);
  let shared = 0;
  for (const w of hidden) {
    const left = counts.get(w) ?? 0;
    if (left > 0) {
      shared++;
      counts.set(w, left - 1);
    }
  }
  return shared / hidden.length;
}
