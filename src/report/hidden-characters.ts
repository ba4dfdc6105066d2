/**
 * The characters every output makes visible (or, in JSON, escapes), besides control characters:
 * the bidirectional controls and marks (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069),
 * which can make "gpj.exe" read as "exe.jpg" or reorder an address, and the invisible ones that
 * can split a name unseen (U+200B, U+2060–U+2064, U+FEFF) or break a line (U+2028, U+2029).
 * Not U+200C and U+200D, the zero-width (non-)joiners: Persian and Indic text and emoji need
 * them. The body of a regular-expression character class, so that the terminal, HTML, Markdown
 * and JSON escapers share one list.
 */
export const HIDDEN_CHARACTERS = String.raw`\u061c\u200b\u200e\u200f\u2028-\u202e\u2060-\u2069\ufeff`;
