import { HIDDEN_CHARACTERS } from './hidden-characters.ts';

/**
 * JSON.stringify escapes C0 control characters but writes DEL, the C1 controls (U+009B is a
 * complete escape-sequence introducer for many terminals) and the bidirectional and invisible
 * formatting characters as they are. JSON output is often read on a terminal (`export --format
 * jsonl | less`, `show --json`), so these are written as \u escapes too: the same JSON value, every
 * character kept, nothing a terminal acts on.
 */
// (every one of them, even where it is part of ordinary text: escaping keeps the value, so JSON can afford it)
const TERMINAL_ACTIVE = new RegExp(String.raw`[\u007f-\u009f${HIDDEN_CHARACTERS}]`, 'gu');

export function jsonText(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(TERMINAL_ACTIVE, jsonEscapes);
}

/** A character as JSON escapes it: `\uNNNN` for each of its UTF-16 units (two beyond the first plane). */
export function jsonEscapes(c: string): string {
  let out = '';
  for (let i = 0; i < c.length; i++) out += `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}
