import { cutText } from './cut-text.ts';
import { HIDDEN_CHARACTERS, keptWhereItStands } from './hidden-characters.ts';
import { jsonEscapes } from './json-text.ts';

/**
 * Text from a message must not drive the terminal: an escape sequence in a Subject could
 * rewrite the screen or hide a line, and a bidirectional override or an invisible character
 * could make one name read as another. Control characters become visible `\xNN` escapes, the
 * bidirectional and invisible characters (HIDDEN_CHARACTERS, but where they are part of
 * ordinary text) `\uNNNN` ones (`\u{NNNNN}` beyond the first plane), and a backslash is doubled,
 * so that a literal "\x1b" in a Subject cannot pass for an escaped ESC.
 */
const UNSAFE = new RegExp(String.raw`[\\\u0000-\u001f\u007f-\u009f${HIDDEN_CHARACTERS}]`, 'gu');

export function terminalSafe(text: string | null | undefined, max = 200): string {
  if (!text) return '';
  const safe = text.replace(UNSAFE, (c: string, offset: number) => {
    if (c === '\\') return '\\\\';
    if (keptWhereItStands(text, offset, c)) return c;
    return escapedCodePoint(c);
  });
  return cutText(safe, max);
}

/** `\xNN` up to U+00FF, `\uNNNN` in the first plane, `\u{NNNNN}` beyond (a tag character). */
function escapedCodePoint(c: string): string {
  const code = c.codePointAt(0)!;
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  return code <= 0xffff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\u{${code.toString(16)}}`;
}

/** The same escapes without the cut, for text that is cut after escaping (shownText, shownFrom). */
export const terminalSafeUncut = (text: string): string => terminalSafe(text, Number.MAX_SAFE_INTEGER);

const ACTIVE_IN_MESSAGE = new RegExp(String.raw`[\u0000-\u0009\u000b-\u001f\u007f-\u009f${HIDDEN_CHARACTERS}]`, 'gu');

/**
 * One of leakcheck's own messages (an error naming a key file's entry, a line of a list) made
 * safe for the terminal: the characters a terminal acts on as `\uNNNN` escapes, the rest as it
 * is. Unlike terminalSafe it leaves backslashes alone, since such messages already quote the
 * hostile text as JSON (jsonText), whose escapes must stay readable (red team 10, finding 13: a
 * key file's entry name printed U+202E and the 8-bit CSI U+009B raw).
 */
export const terminalSafeMessage = (text: string): string =>
  text.replace(ACTIVE_IN_MESSAGE, (c: string, offset: number) => (keptWhereItStands(text, offset, c) ? c : jsonEscapes(c)));


/** The space separators but the space itself: a no-break or ideographic space reads as a space. */
const LOOKALIKE_SPACES = /[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/g;

/**
 * A path of the dump as any output shows it: `escape`d as that output escapes text (none of
 * which touches a space separator), the space separators that read as a space written with
 * `shownSpace`, and quoted when the path begins or ends with a blank. Two files whose names
 * differ by a no-break space or a trailing blank read as one in every report but `show` (red
 * team 14, finding 04): a tampered copy passed for the verified original's path.
 */
export function pathShownBy(path: string, escape: (text: string) => string, shownSpace: (code: string) => string, quoted = false): string {
  const shown = escape(path).replace(LOOKALIKE_SPACES, (c) => shownSpace(c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')));
  return quoted || /^\s|\s$/.test(path) ? `"${shown}"` : shown;
}

/**
 * A path of the dump as a terminal shows it when it must be typed back exactly (`show` reads a
 * path as given, blanks included): escaped as terminalSafe does, the space separators that read
 * as a space written `\uNNNN`, and quoted, with its own quotes escaped, when it begins or ends
 * with a blank or begins with a quote, so that "invoice.eml " is never read as "invoice.eml"
 * (red team 10, finding 05).
 */
export function shownPath(path: string, max = 300, quoted = false): string {
  const safe = terminalSafeUncut(path).replace(LOOKALIKE_SPACES, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return quoted || /^\s|\s$|^"/.test(path) ? `"${cutText(safe.replaceAll('"', '\\"'), max - 2)}"` : cutText(safe, max);
}
