import { BLACK_FLAG, FLAG_TAG_NAMES, HANGUL_FILLERS, INTERLINEAR_ANNOTATION, INVISIBLE, VARIATION_SELECTORS } from '../read/blank-characters.ts';

/**
 * The characters every output makes visible (or, in JSON, escapes), besides control characters:
 * - the bidirectional controls and marks (U+061C, U+200E, U+200F, U+202A–U+202E,
 *   U+2066–U+2069), which can make "gpj.exe" read as "exe.jpg" or reorder an address;
 * - the line and paragraph separators (U+2028, U+2029), which break a line;
 * - every character that draws nothing (INVISIBLE: the soft hyphen, the zero-width space, the
 *   combining grapheme joiner, the tag characters, the ignorable code points …), the zero-width
 *   (non-)joiners, the variation selectors, the Hangul fillers and the interlinear annotation
 *   controls (U+FFF9–U+FFFB, which a reader's font draws as nothing or not at all). `invoice<U+00AD>.eml` read as
 *   `invoice.eml` in every report while the name comparison already told them apart (red team 11,
 *   finding 07): what the comparison drops, the reports show.
 *
 * Some of them are part of ordinary text where they stand, and stay there (keptWhereItStands):
 * a joiner between two letters of a script that needs it, or inside an emoji; a variation
 * selector after the character it picks a form of; the tags of a flag emoji. The body of a
 * regular-expression character class that needs the `u` flag (tags are beyond U+FFFF).
 */
export const HIDDEN_CHARACTERS =
  String.raw`\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\u200c\u200d` + INVISIBLE + VARIATION_SELECTORS + HANGUL_FILLERS + INTERLINEAR_ANNOTATION;

const ZERO_WIDTH_JOINERS = /^[\u200c\u200d]$/;
const VARIATION_SELECTOR = new RegExp(`^[${VARIATION_SELECTORS}]$`, 'u');
const TAG = /^[\u{e0020}-\u{e007f}]$/u;
const CANCEL_TAG = 0xe007f;
const KEYCAP = 0x20e3;

/**
 * The scripts whose spelling needs the zero-width (non-)joiners (Unicode's joining and Indic
 * scripts): between two of their letters a joiner is part of the word. Between two Latin or
 * Cyrillic letters it only makes another name that reads the same.
 */
const JOINING_SCRIPT = /^[\p{Script=Arabic}\p{Script=Syriac}\p{Script=Nko}\p{Script=Mongolian}\p{Script=Thaana}\p{Script=Devanagari}\p{Script=Bengali}\p{Script=Gurmukhi}\p{Script=Gujarati}\p{Script=Oriya}\p{Script=Tamil}\p{Script=Telugu}\p{Script=Kannada}\p{Script=Malayalam}\p{Script=Sinhala}\p{Script=Myanmar}\p{Script=Khmer}]$/u;
/**
 * What an emoji ZWJ sequence joins: emoji drawn as emoji, by default (👨, 🔥) or by the U+FE0F
 * after them (❤️, ♀️), and skin-tone modifiers. A symbol drawn as text (©, ®, ™, ‼) joins
 * nothing: a joiner between two of them only makes another name (red team 14, finding 06).
 */
const EMOJI_PRESENTATION = /^[\p{Emoji_Presentation}\p{Emoji_Modifier}]$/u;
const PICTOGRAPH = /^\p{Extended_Pictographic}$/u;

/** What an emoji variation selector (U+FE0E text, U+FE0F emoji) picks a form of. */
const EMOJI_BASE = /^\p{Emoji}$/u;
/**
 * What the other standardized and ideographic variation selectors pick a form of. Mathematical
 * symbols beyond ASCII only: no variation sequence has an ASCII base, and after "+" or "~" a
 * selector only made a second name that read as the first (red team 14, finding 06).
 */
const VARIANT_BASE = /^[\p{Unified_Ideograph}\p{Script=Han}\p{Script=Mongolian}\p{Script=Phags_Pa}\p{Script=Myanmar}\p{Extended_Pictographic}]$|^[^\x00-\x7f]$/u;
const MATH_SYMBOL = /^\p{Sm}$/u;

/** The code point that ends just before `offset` (a UTF-16 index), or undefined at the start. */
function codePointBefore(text: string, offset: number): string | undefined {
  if (offset <= 0) return undefined;
  const low = text.charCodeAt(offset - 1);
  return low >= 0xdc00 && low <= 0xdfff && offset >= 2 ? text.slice(offset - 2, offset) : text[offset - 1];
}

const codePointAt = (text: string, offset: number): string | undefined => {
  const code = text.codePointAt(offset);
  return code === undefined ? undefined : String.fromCodePoint(code);
};

/**
 * Whether `hidden`, one of HIDDEN_CHARACTERS found at `offset` of `text`, is part of ordinary text
 * there, and is written as it is:
 * - a zero-width (non-)joiner between two letters of a script that needs it (Persian "می‌خواهم",
 *   Hindi), or between two emoji ("👨‍👩‍👧"; a variation selector before it belongs to the
 *   emoji it follows: "❤️‍🔥");
 * - an emoji variation selector after an emoji ("❤️", the keycap "1️⃣"), another after the
 *   ideograph, mathematical symbol or Mongolian letter it picks a form of;
 * - the tags of the three flag emoji made of tags (U+1F3F4, "gbsct", CANCEL TAG: the flag of
 *   Scotland; England's and Wales' likewise).
 * Anywhere else it is escaped: between Latin or Cyrillic letters, in a file name's extension, at
 * either end, after another character that draws nothing.
 */
export function keptWhereItStands(text: string, offset: number, hidden: string): boolean {
  if (ZERO_WIDTH_JOINERS.test(hidden)) {
    let before = offset;
    let emojiSelected = false;
    while (VARIATION_SELECTOR.test(codePointBefore(text, before) ?? '')) {
      emojiSelected ||= codePointBefore(text, before) === '\ufe0f';
      before -= codePointBefore(text, before)!.length;
    }
    const left = codePointBefore(text, before) ?? '';
    const right = codePointAt(text, offset + 1) ?? '';
    if (JOINING_SCRIPT.test(left) && JOINING_SCRIPT.test(right)) return true;
    const leftIsEmoji = EMOJI_PRESENTATION.test(left) || (emojiSelected && PICTOGRAPH.test(left));
    const rightIsEmoji = EMOJI_PRESENTATION.test(right) || (PICTOGRAPH.test(right) && text.codePointAt(offset + 1 + right.length) === 0xfe0f);
    return leftIsEmoji && rightIsEmoji;
  }
  if (VARIATION_SELECTOR.test(hidden)) {
    const before = codePointBefore(text, offset) ?? '';
    const code = hidden.codePointAt(0)!;
    if (code === 0xfe0e || code === 0xfe0f) {
      if (/^[0-9#*]$/.test(before)) return text.codePointAt(offset + hidden.length) === KEYCAP;
      return EMOJI_BASE.test(before);
    }
    return VARIANT_BASE.test(before) && (MATH_SYMBOL.test(before) ? before.charCodeAt(0) > 0x7f : true);
  }
  if (TAG.test(hidden)) {
    let start = offset;
    while (TAG.test(codePointBefore(text, start) ?? '')) start -= 2;
    let end = offset;
    while (TAG.test(codePointAt(text, end) ?? '') && text.codePointAt(end) !== CANCEL_TAG) end += 2;
    if (text.codePointAt(start - 2) !== BLACK_FLAG || start >= end || text.codePointAt(end) !== CANCEL_TAG) return false;
    // Only a flag a reader's font draws (RGI): any other run of tags draws as the bare black
    // flag, and hid arbitrary text in a name that read as another (red team 14, finding 05).
    let tags = '';
    for (let i = start; i < end; i += 2) tags += String.fromCodePoint(text.codePointAt(i)! - 0xe0000);
    return FLAG_TAG_NAMES.has(tags);
  }
  return false;
}
