import { closingParen, closingQuote } from '../checks/address-syntax.ts';

/**
 * Message-IDs as the msg-ids they hold (RFC 5322, section 3.6.4), so that copies and threads are
 * matched by the identifier a mail program threads on, not by the header's text. The comments and
 * folding around a msg-id are no part of it: `<id@host> (Sent copy)`, `(x) <id@host>` and
 * `<id@host>` name one message, and a forger who added a comment to an altered copy's Message-ID
 * kept it in every reader's thread while it was never compared with its proven twin (red team 30,
 * M-04). A msg-id written without its angle brackets (`id@host`, which mail programs accept) is
 * given them.
 *
 * The id itself is kept as written, its case included: RFC 5322 gives id-left no case rule and mail
 * programs thread on the exact text, so two ids that differ in case are two messages to them too.
 */

/** A msg-id between angle brackets: no whitespace or bracket inside, at most a line's length. */
const MSG_ID_TEXT = /^[^<>\s]{1,998}$/;
/** id-left@id-right written without its brackets, as one token. */
const BARE_MSG_ID = /^[^<>\s"(),;:@]{1,500}@[^<>\s"(),;:@]{1,500}$/;
/** No real field is that long (References keeps its first 200 ids); a hostile one is not read whole. */
const MAX_READ = 100_000;

/**
 * The Message-ID field's msg-id: the first `<…>` outside comments, else the field's one token
 * (comments dropped) in brackets. A field that holds neither keeps its trimmed text, so that two
 * copies with the same unreadable Message-ID are still compared; an empty one (or a comment
 * alone) is none.
 */
export function canonicalMessageId(value: string | null): string | null {
  if (value === null) return null;
  const { ids, rest } = readMsgIds(value);
  if (ids.length) return ids[0]!;
  const bare = rest.trim();
  if (!bare) return null;
  return MSG_ID_TEXT.test(bare) && !/["()]/.test(bare) ? `<${bare}>` : value.trim();
}

/**
 * The msg-ids an In-Reply-To or References field names, in order: each `<…>` outside comments, or,
 * when there is none, the field's tokens in brackets if every one is an id-left@id-right (an
 * In-Reply-To written `id@host`). A field of words (the obsolete "your message of …") names none.
 */
export function messageIds(value: string | null): string[] {
  if (value === null) return [];
  const { ids, rest } = readMsgIds(value);
  if (ids.length) return ids;
  const tokens = rest.trim().split(/\s+/).filter(Boolean);
  return tokens.length && tokens.every((t) => BARE_MSG_ID.test(t)) ? tokens.map((t) => `<${t}>`) : [];
}

/** The `<…>` msg-ids of a field, outside its comments, and the field's text with comments and msg-ids taken out. */
function readMsgIds(field: string): { ids: string[]; rest: string } {
  const value = field.length > MAX_READ ? field.slice(0, MAX_READ) : field;
  const ids: string[] = [];
  let rest = '';
  let i = 0;
  while (i < value.length) {
    const ch = value[i]!;
    if (ch === '(') {
      i = pastClosing(value, i, closingParen);
      rest += ' ';
    } else if (ch === '"') {
      // a quoted string outside a msg-id is text (an obsolete phrase), never an id's brackets
      const end = pastClosing(value, i, closingQuote);
      rest += value.slice(i, end);
      i = end;
    } else if (ch === '<') {
      const close = value.indexOf('>', i + 1);
      const inner = close < 0 ? null : value.slice(i + 1, close).trim();
      if (inner !== null && MSG_ID_TEXT.test(inner)) {
        ids.push(`<${inner}>`);
        rest += ' ';
        i = close + 1;
      } else {
        rest += ch;
        i++;
      }
    } else {
      rest += ch;
      i++;
    }
  }
  return { ids, rest };
}

/** Past the comment, or the quoted string, that opens at `start`; an unclosed one runs to the end. */
function pastClosing(s: string, start: number, closing: (s: string, start: number) => number): number {
  const end = closing(s, start);
  return end < 0 ? s.length : end + 1;
}
