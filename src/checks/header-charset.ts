import { loadMimeLibraries } from '../attachments/parser-config.ts';
import type { HeaderField } from '../read/headers.ts';
import { charsetParameter, declaredHeaderCharset, readUtf8 } from '../read/message-meta.ts';
import type { DkimSignatureResult } from '../verify/dkim.ts';
import { escapeControls, headerAttested, speaksForAuthor } from './check-support.ts';
import type { Finding, MessageCheck } from './types.ts';

/** The headers a reader is shown, where an encoded word decides what they read. */
const SHOWN_HEADERS: ReadonlyMap<string, string> = new Map([['from', 'From'], ['sender', 'Sender'], ['reply-to', 'Reply-To'], ['to', 'To'], ['cc', 'Cc'], ['subject', 'Subject']]);
const ENCODED_WORD = /=\?([^?\s*]{1,64})(?:\*[^?\s]*)?\?[bBqQ]\?[^?\s]*\?=/g;
const MAX_SHOWN = 10;
/** (a message names few sets, a dump the same few over and over: each is asked about once) */
const DECODABLE = new Map<string, boolean>();
const MAX_REMEMBERED = 1_000;
function decodable(charset: string): boolean {
  const key = charset.toLowerCase();
  let known = DECODABLE.get(key);
  if (known === undefined) {
    known = loadMimeLibraries().canDecodeCharset(charset);
    if (DECODABLE.size < MAX_REMEMBERED) DECODABLE.set(key, known);
  }
  return known;
}

/**
 * An RFC 2047 encoded word in a shown header, in a character set that leakcheck's decoder
 * (libmime and its iconv-lite) does not know: libmime then reads the bytes as UTF-8, silently,
 * and every report shows noise where a mail program that knows the set shows words. In EBCDIC
 * (ibm037, which Windows and Python's email decode), a display name the reports show as
 * "���|����K" reads "CEO ceo@bank.example" to a reader (red team 6). What the reader sees is
 * then not what leakcheck read, and no check of the decoded text (display-name-address, the
 * lookalike checks) could look at it. A warning, naming the set; the verdict is the
 * signatures'.
 */
export const auditHeaderCharset: MessageCheck = ({ headers }) => {
  const unknown = new Map<string, Set<string>>();
  for (const field of headers.fields) {
    // (a Map: a field named "constructor" must not find Object's)
    const shown = SHOWN_HEADERS.get(field.name);
    if (!shown || !field.value.includes('=?')) continue;
    for (const [, charset] of field.value.slice(0, 8192).matchAll(ENCODED_WORD)) {
      if (decodable(charset!)) continue;
      const sets = unknown.get(shown) ?? new Set<string>();
      sets.add(charset!.toLowerCase());
      unknown.set(shown, sets);
    }
  }
  return [...unknown].map(([header, sets]): Finding => {
    const charsets = [...sets].slice(0, MAX_SHOWN).map((c) => escapeControls(c, 64));
    return {
      code: 'header-charset-unknown',
      severity: 'warning',
      text:
        `The ${header} header has text encoded in the character set ${charsets.join(', ')}, which leakcheck cannot decode: reports show it as undecoded noise, ` +
        'while a mail program that knows the set shows words, which no check here has read.',
      evidence: { header, charsets },
    };
  });
};

/**
 * A shown header holds raw 8-bit bytes that are not UTF-8: the only 8-bit text a header may hold
 * is UTF-8 (RFC 6532), so no standard says how to read them. Older Russian and Japanese clients
 * wrote KOI8-R or Shift_JIS there, and mail programs read them in the charset the message
 * declares for its text, or their own language's; leakcheck read them as Latin-1, silently, and
 * every report showed "é×ÁÎ ðÅÔÒÏ×" for "Иван Петров" (red team S, S-07). They are now read in
 * the declared charset where there is a usable one (declaredHeaderCharset), else as Latin-1 as
 * before; an info finding names the reading, since a reader set for another language may see
 * other characters. Info: the signature verifies the bytes, whichever way they are read. A
 * warning when the author's signature verifies but does not cover the declaration the reading
 * comes from: changing an unsigned charset= changes the characters shown (iso-8859-1 to -2 turns
 * "£ 5000" into "Ł 5000") and the message stays verified (red team T, T-03).
 */
export const auditHeaderRawBytes: MessageCheck = ({ headers, bytes, signatures }) => {
  const shown = new Set<string>();
  for (const field of headers.fields) {
    const name = SHOWN_HEADERS.get(field.name);
    if (name && !readUtf8(field.value).utf8) shown.add(name);
  }
  if (!shown.size) return [];
  const charset = declaredHeaderCharset(headers, bytes);
  const unsignedDeclaration = charset !== null && declarationUnsigned(headers.fields, signatures.filter(speaksForAuthor));
  const names = [...shown];
  const list = names.length === 1 ? `The ${names[0]} header holds` : `The ${names.slice(0, -1).join(', ')} and ${names.at(-1)} headers hold`;
  return [
    {
      code: 'header-charset-assumed',
      severity: unsignedDeclaration ? 'warning' : 'info',
      text:
        `${list} 8-bit text that is not UTF-8, the only 8-bit text a header may hold (RFC 6532), so no standard says how to read it. ` +
        (charset === null
          ? 'The message declares no character set leakcheck can read it in, so it is shown as Latin-1 (ISO-8859-1); '
          : `leakcheck reads it, as mail programs do, in ${escapeControls(charset, 64)}, the character set the message declares for its text; `) +
        'a mail program set for another language may show other characters.' +
        (unsignedDeclaration
          ? " The author's signature verifies these bytes but not the declaration they are read by: whoever changes that character set changes the characters shown, and the signature still verifies."
          : ''),
      evidence: { headers: names, charset: charset ?? 'iso-8859-1', declared: charset !== null, ...(unsignedDeclaration ? { declarationSigned: false } : {}) },
    },
  ];
};

/**
 * Whether the author's signatures verify the message but not the charset declaration raw header
 * bytes are read by: the top-level Content-Type when it names one (then it must be signed), else
 * a part in the body (then the whole body must be signed). False when nothing of the author's
 * verifies: there is then no proof for the reading to undermine.
 */
function declarationUnsigned(fields: HeaderField[], authorSignatures: DkimSignatureResult[]): boolean {
  if (!authorSignatures.length) return false;
  const topLevel = fields.find((f) => f.name === 'content-type');
  if (topLevel && charsetParameter(topLevel.value) !== null) return !headerAttested(fields, authorSignatures, 'content-type');
  return !authorSignatures.some((sig) => sig.tags.bodyLength === null || (sig.bodyBytesSigned ?? -1) >= (sig.bodyBytesTotal ?? Number.POSITIVE_INFINITY));
}
