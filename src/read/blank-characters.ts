/**
 * Characters that draw as blank space, beyond the ASCII space and tab: no-break and typographic
 * spaces, the ideographic space, and the Hangul and Braille fillers, which are letters to Unicode
 * (so no trim and no `\s` removes them). The body of a regular-expression character class.
 */
export const BLANK_LOOKING = String.raw`\s\u00a0\u115f\u1160\u1680\u2000-\u200a\u202f\u205f\u2800\u3000\u3164\uffa0`;

/**
 * Characters that draw nothing at all: Unicode's Default_Ignorable_Code_Point set but for the
 * blank-looking fillers (BLANK_LOOKING) and the variation selectors (below). The soft hyphen, the
 * combining grapheme joiner, the Khmer inherent vowels, the Mongolian vowel separator, the
 * zero-width spaces and joiners, the direction marks and controls (which draw nothing but
 * reorder what follows), the word joiner, the invisible operators and the deprecated format
 * characters, the byte-order mark, the musical and shorthand format controls, the tag
 * characters, and the code points reserved as ignorable (U+2065, U+FFF0–FFF8, U+E0080–E0FFF:
 * a font draws nothing for them; red team 9 padded Subjects with each). Padding made of them
 * hides text as well as blanks do, and no reader sees them in an address. The body of a
 * regular-expression character class that needs the `u` flag (some are beyond U+FFFF).
 */
export const INVISIBLE = String.raw`\u00ad\u034f\u061c\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff0-\ufff8\u{1bca0}-\u{1bca3}\u{1d173}-\u{1d17a}\u{e0000}-\u{e00ff}\u{e01f0}-\u{e0fff}`;

/**
 * The variation selectors (Unicode's Variation_Selector property: the Mongolian free ones, the
 * standard and the ideographic ones): each picks a form of the character before it (the emoji
 * form of "❤" in "❤️"), and draws nothing. Kept apart from INVISIBLE because one after a visible
 * character is part of ordinary text, emoji above all; one after another unseen character has
 * nothing to pick, and is padding like the others.
 */
export const VARIATION_SELECTORS = String.raw`\u180b-\u180d\u180f\ufe00-\ufe0f\u{e0100}-\u{e01ef}`;

/**
 * The Hangul fillers (choseong, jungseong, compatibility and halfwidth): letters to Unicode, drawn
 * by some fonts as a blank and by others as nothing. Part of BLANK_LOOKING.
 */
export const HANGUL_FILLERS = String.raw`\u115f\u1160\u3164\uffa0`;

/** The interlinear annotation controls: format characters outside Default_Ignorable that most fonts draw as nothing. */
export const INTERLINEAR_ANNOTATION = String.raw`\ufff9-\ufffb`;

const UNSEEN_RUN = new RegExp(`[${BLANK_LOOKING}${INVISIBLE}${VARIATION_SELECTORS}]{2,}`, 'gu');
const ORDINARY_BLANK = /^[ \t]$/;
const ORDINARY_BLANKS = /[ \t]+/g;
/** One character of each kind (`u` flag: a tag character is one code point, two UTF-16 units). */
export const BLANK_CHARACTER = new RegExp(`^[${BLANK_LOOKING}]$`, 'u');
export const INVISIBLE_CHARACTER = new RegExp(`^[${INVISIBLE}]$`, 'u');
export const VARIATION_SELECTOR = new RegExp(`^[${VARIATION_SELECTORS}]$`, 'u');
export const BLACK_FLAG = 0x1f3f4;
/**
 * The flags made of a black flag and tags that Unicode recommends (RGI), by the text their tags
 * spell: England, Scotland, Wales. Any other run of tags draws as the bare black flag.
 */
export const FLAG_TAG_NAMES: ReadonlySet<string> = new Set(['gbeng', 'gbsct', 'gbwls']);
const asTags = (text: string): string => [...text].map((c) => String.fromCodePoint(0xe0000 + c.codePointAt(0)!)).join('');
/** Those flags' tags, with their CANCEL TAG, at the start of a run. */
const FLAG_TAGS = new RegExp(`^(?:${[...FLAG_TAG_NAMES].map(asTags).join('|')})\u{e007f}`, 'u');

const INVISIBLE_CHARACTERS = new RegExp(`[${INVISIBLE}]`, 'gu');
/** Invisible characters gone: a reader sees the text without them. */
export const withoutInvisible = (text: string): string => text.replace(INVISIBLE_CHARACTERS, '');

/**
 * Text with each run of blank-looking or invisible characters replaced by its count:
 * "[300 blank characters]", "[330 invisible characters]". Padding pushes what follows it out of
 * view wherever a report cuts text; counted, the padding stays in the evidence (never silently
 * dropped) and what follows stays in view. A run with one unusual character at most is a space,
 * and keeps that character when it is invisible, so that the output's escaper still shows it
 * (the ordinary blanks around it still collapse: 300 spaces and a U+200B hid what followed).
 * A variation selector that opens a run after a visible character belongs to that character
 * (the emoji "❤️‍🔥" holds U+FE0F then a zero-width joiner): it stays, and is not counted. Not in
 * an address (`inAddress`): a selector there only makes another address that reads the same.
 */
export function collapseUnseenRuns(text: string, inAddress = false): string {
  return text.replace(UNSEEN_RUN, (run: string, offset: number) => {
    // the tags of a flag the black flag before them makes (Scotland's), as a reader sees it
    const flag = !inAddress && text.codePointAt(offset - 2) === BLACK_FLAG ? (FLAG_TAGS.exec(run)?.[0] ?? '') : '';
    if (flag) return flag + (run.length > flag.length ? collapseUnseenRuns(run.slice(flag.length), inAddress) : '');
    const chars = [...run];
    const attached = !inAddress && offset > 0 && VARIATION_SELECTOR.test(chars[0]!) ? chars.shift()! : '';
    // a selector and one character after it: no run but for the selector (`葛󠄀　葉` stays as it is)
    if (chars.length < 2) return run;
    const unusual = chars.filter((ch) => !ORDINARY_BLANK.test(ch));
    const invisible = unusual.filter((ch) => !BLANK_CHARACTER.test(ch)).length;
    if (unusual.length < 2) return invisible ? `${attached}${chars.join('').replace(ORDINARY_BLANKS, ' ')}` : `${attached} `;
    const kind = invisible === 0 ? 'blank' : invisible === unusual.length ? 'invisible' : 'blank or invisible';
    return `${attached} [${unusual.length} ${kind} characters] `;
  });
}

/** What collapsing whitespace runs changes: any whitespace but a space, or two spaces in a row. */
const WHITESPACE_TO_COLLAPSE = /[^\S ]| {2}/;

/**
 * `text.replace(/\s+/g, ' ').trim()`: every run of whitespace (JavaScript's `\s`) one space, none
 * at either end, as a reader sees folded or padded text. Text with single spaces only, most
 * header text, is only trimmed: the replacement was a third of a Date's reading.
 */
export function collapseWhitespace(text: string): string {
  return (WHITESPACE_TO_COLLAPSE.test(text) ? text.replace(/\s+/g, ' ') : text).trim();
}
