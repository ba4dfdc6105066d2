/**
 * A lenient, linear reader of RFC 5322 address lists (From, To, Cc, Reply-To, Sender). It
 * accepts what genuine mail programs write, obsolete forms included (groups such as
 * `undisclosed-recipients:;`, empty list members, an unquoted `@` or `.` in a display name,
 * comments, 8-bit text), and reports only what no address parser can make sense of.
 */
export interface AddressListReading {
  /** mailboxes found (addresses, lower-cased), in order */
  addresses: string[];
  /** the first problem found, or null */
  problem: string | null;
}

interface Segment {
  text: string;
  quoted: boolean;
  angles: string[];
}

const ADDR_PART = /^[^\s"(),:;<>@[\\\]]+$/;
const QUOTED = /^"(?:[^"\\]|\\.)*"$/;
const DOMAIN_LITERAL = /^\[[^[\]\\]*\]$/;

export function readAddressList(value: string): AddressListReading {
  const segments: Segment[] = [];
  let current: Segment = { text: '', quoted: false, angles: [] };
  const push = (): void => {
    segments.push(current);
    current = { text: '', quoted: false, angles: [] };
  };
  let i = 0;
  const n = value.length;
  while (i < n) {
    const ch = value[i]!;
    if (ch === '"') {
      const end = closingQuote(value, i);
      if (end < 0) return { addresses: [], problem: 'a quotation mark is never closed' };
      current.text += value.slice(i, end + 1);
      current.quoted = true;
      i = end + 1;
    } else if (ch === '(') {
      const end = closingParen(value, i);
      if (end < 0) return { addresses: [], problem: 'a parenthesis is never closed' };
      current.text += ' ';
      i = end + 1;
    } else if (ch === '<') {
      const end = closingAngle(value, i);
      if (end < 0) return { addresses: [], problem: 'a "<" is never closed by ">"' };
      current.angles.push(value.slice(i + 1, end));
      i = end + 1;
    } else if (ch === '>') {
      return { addresses: [], problem: 'a ">" has no matching "<"' };
    } else if (ch === ',') {
      push();
      i++;
    } else if (ch === ':' && current.angles.length === 0) {
      // group: "name: member, member;" (the name is not a mailbox)
      current = { text: '', quoted: false, angles: [] };
      i++;
    } else if (ch === ';') {
      push();
      i++;
    } else {
      current.text += ch;
      i++;
    }
  }
  push();

  const addresses: string[] = [];
  for (const seg of segments) {
    const text = seg.text.trim();
    if (seg.angles.length === 0 && text === '') continue; // an empty list member (obsolete syntax allows it)
    if (seg.angles.length > 1) return { addresses, problem: `one mailbox has ${seg.angles.length} <addresses>` };
    if (seg.angles.length === 1) {
      const addr = stripRoute(seg.angles[0]!.replace(/\([^()]*\)/g, '').trim());
      if (addr === '') return { addresses, problem: 'an empty <> where an address belongs' };
      const bad = addrSpecProblem(addr);
      if (bad) return { addresses, problem: `<${addr.slice(0, 100)}>: ${bad}` };
      addresses.push(addr.toLowerCase());
      continue;
    }
    const bad = addrSpecProblem(text);
    if (bad) return { addresses, problem: `"${text.slice(0, 100)}": ${bad}` };
    addresses.push(text.toLowerCase());
  }
  return { addresses, problem: null };
}

/** Why an addr-spec (local@domain) is not one, or null. Spaces around "@" and dots (obsolete CFWS) are tolerated. */
function addrSpecProblem(raw: string): string | null {
  // (an addr-spec without whitespace, nearly every one, is left as it is by both replacements)
  const spec = /\s/.test(raw) ? raw.replace(/\s+/g, ' ').replace(/ ?([@.]) ?/g, '$1').trim() : raw;
  const at = spec.lastIndexOf('@');
  if (at < 0) return 'no address (no "@")';
  const local = spec.slice(0, at);
  const domain = spec.slice(at + 1);
  if (local === '') return 'nothing before the "@"';
  if (domain === '') return 'no domain after the "@"';
  if (!QUOTED.test(local) && !ADDR_PART.test(local)) {
    return local.includes('@') ? 'more than one "@"' : 'the part before "@" has characters an address cannot have';
  }
  if (!DOMAIN_LITERAL.test(domain) && !ADDR_PART.test(domain)) return 'the domain has characters a domain cannot have';
  return null;
}

/** Obsolete source routes: `<@relay1,@relay2:user@host>`. */
const stripRoute = (addr: string): string => (/^@[^:]*:/.test(addr) ? addr.slice(addr.indexOf(':') + 1) : addr);

/** The index of the quotation mark that closes the quoted string opening at `start`, or -1. */
export function closingQuote(s: string, start: number): number {
  for (let i = start + 1; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i;
  }
  return -1;
}

/** The index of the parenthesis that closes the comment opening at `start` (comments nest), or -1. */
export function closingParen(s: string, start: number): number {
  let depth = 0;
  for (let i = start; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\') i++;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return i;
  }
  return -1;
}

function closingAngle(s: string, start: number): number {
  for (let i = start + 1; i < s.length; i++) {
    const ch = s[i];
    if (ch === '"') {
      const end = closingQuote(s, i);
      if (end < 0) return -1;
      i = end;
    } else if (ch === '>') return i;
    else if (ch === '<') return -1;
  }
  return -1;
}
