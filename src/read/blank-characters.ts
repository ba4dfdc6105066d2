/**
 * Characters that draw as blank space, beyond the ASCII space and tab: no-break and typographic
 * spaces, the ideographic space, and the Hangul and Braille fillers, which are letters to Unicode
 * (so no trim and no `\s` removes them). The body of a regular-expression character class.
 */
export const BLANK_LOOKING = String.raw`\s\u00a0\u115f\u1160\u1680\u2000-\u200a\u202f\u205f\u2800\u3000\u3164\uffa0`;
