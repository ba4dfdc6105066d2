import { loadMimeLibraries } from '../attachments/parser-config.ts';
import { escapeControls } from './check-support.ts';
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
