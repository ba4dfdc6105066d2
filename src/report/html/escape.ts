import { cutText } from '../cut-text.ts';
import { HIDDEN_CHARACTERS, keptWhereItStands } from '../hidden-characters.ts';
import { pathShownBy } from '../terminal-safe.ts';

/**
 * The one escaping function of the HTML report. Every piece of text that reaches the page goes
 * through it, in element content and in (always double-quoted) attribute values alike, so that
 * text from a message can never become markup, however it was crafted.
 *
 * Beyond the five HTML-significant characters it makes invisible tricks visible:
 * - bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) and the implicit
 *   direction marks (U+200E, U+200F, U+061C), which can make "gpj.exe" read as "exe.jpg" or
 *   reorder a sender's address, become a visible `[U+202E]`, as do the characters that draw
 *   nothing and can split a name unseen (the soft hyphen, U+200B, the tag characters …) and the
 *   line and paragraph separators (HIDDEN_CHARACTERS), but where they are part of ordinary text:
 *   the joiners of Persian and Indic text and of emoji, an emoji's variation selector;
 * - control characters (C0 other than tab, DEL, C1) become `\xNN`, as in the terminal report.
 *   The line feed too: text from a message never needs one on the page, and inside the headers'
 *   `<pre>` a line feed decoded from an RFC 2047 Subject drew a header line of its own under a
 *   verified badge (red team 14, finding 03). The page's own line breaks are never escaped
 *   text. A tab draws blank space, no line (unfolded headers keep theirs).
 */
const HTML_UNSAFE = new RegExp(String.raw`[&<>"'\u0000-\u0008\u000a-\u001f\u007f-\u009f${HIDDEN_CHARACTERS}]`, 'gu');

export function escapeHtml(text: string | number | null | undefined): string {
  if (text === null || text === undefined) return '';
  const whole = String(text);
  return whole.replace(HTML_UNSAFE, (c: string, offset: number) => (c.length === 1 && c.charCodeAt(0) < 0x80) || !keptWhereItStands(whole, offset, c) ? escapeChar(c) : c);
}

/** A path of the dump on the page: escaped, look-alike spaces shown, quoted if it begins or ends with a blank (pathShownBy). */
export const htmlPath = (path: string, quoted = false): string => pathShownBy(path, escapeHtml, (code) => `[U+${code}]`, quoted);

function escapeChar(c: string): string {
  switch (c) {
    case '&':
      return '&amp;';
    case '<':
      return '&lt;';
    case '>':
      return '&gt;';
    case '"':
      return '&quot;';
    case "'":
      return '&#39;';
    default: {
      const code = c.codePointAt(0)!;
      if (code > 0x9f /* beyond the controls */) return `[U+${code.toString(16).toUpperCase().padStart(4, '0')}]`;
      return `\\x${code.toString(16).padStart(2, '0')}`;
    }
  }
}

/** Shortens text (after which it must still be escaped) to at most `max` characters. */
export function clip(text: string | null | undefined, max: number): string {
  if (!text) return '';
  return cutText(text, max);
}

/** 70000 → "70,000": fixed, so that the page does not depend on the machine's locale. */
export function formatInt(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function percent(n: number, total: number): string {
  if (total === 0) return '0%';
  const p = (n / total) * 100;
  if (n > 0 && p < 0.1) return '<0.1%';
  return `${p.toFixed(1).replace(/\.0$/, '')}%`;
}

/** An ISO instant as "2018-03-12 15:20 UTC"-style text (without the zone), or null. */
export function formatInstant(iso: string | null | undefined): string | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return null;
  const s = new Date(t).toISOString();
  return `${s.slice(0, 10)} ${s.slice(11, 16)}`;
}
