import { isUtf8 } from 'node:buffer';
import { KeyCollector, notDkimKeyReason, splitKeyName } from './common.ts';
import { KeyImportError, type ParsedKeyFile } from './types.ts';

/*
 * Zone-file text (RFC 1035 section 5.1, as BIND writes it) and `dig` output, which is zone-file
 * text whose headers and question lines are comments. The lexer works on bytes: every
 * character with a meaning (space, ;, ", (, ), \) is ASCII, and \DDD escapes are bytes.
 */

interface Token {
  /** the token with its escapes undone, as UTF-8 text */
  text: string;
  quoted: boolean;
  /** false when the unescaped bytes are not UTF-8 (\DDD escapes of stray bytes) */
  utf8: boolean;
}

/** A logical line: one physical line, or several joined by parentheses. */
interface RawRecord {
  /** where it starts */
  line: number;
  /** it begins with white space, so its owner may be omitted (the previous record's) */
  indented: boolean;
  tokens: Token[];
}

interface LexResult {
  records: RawRecord[];
  /** the record being read when the lexer stopped at an error */
  partial: RawRecord | null;
  error: { line: number; message: string } | null;
}

const NL = 0x0a;
const SEMICOLON = 0x3b;
const QUOTE = 0x22;
const OPEN = 0x28;
const CLOSE = 0x29;
const BACKSLASH = 0x5c;
const isSpace = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0b || b === 0x0c;
const isDigit = (b: number | undefined): b is number => b !== undefined && b >= 0x30 && b <= 0x39;

/** `\X` is X; `\DDD` is the byte DDD (decimal, exactly three digits). */
function readEscape(bytes: Buffer, at: number): { byte: number; next: number } | string {
  const a = bytes[at + 1];
  if (a === undefined || a === NL || a === 0x0d) return 'a backslash ends the line (nothing to escape)';
  if (!isDigit(a)) return { byte: a, next: at + 2 };
  const b = bytes[at + 2];
  const c = bytes[at + 3];
  if (!isDigit(b) || !isDigit(c)) return 'bad escape: a backslash followed by a digit must be \\DDD, three decimal digits';
  const value = (a - 0x30) * 100 + (b - 0x30) * 10 + (c - 0x30);
  if (value > 255) return `bad escape \\${String.fromCharCode(a, b, c)}: a byte is at most \\255`;
  return { byte: value, next: at + 4 };
}

/** Splits zone text into logical records of tokens; stops at the first lexical error. */
function lexZone(bytes: Buffer): LexResult {
  const records: RawRecord[] = [];
  let cur: RawRecord | null = null;
  let line = 1;
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
  let lineStart = i;
  let depth = 0;
  let openLine = 0;
  const n = bytes.length;
  const fail = (at: number, message: string): LexResult => ({ records, partial: cur, error: { line: at, message } });

  while (i < n) {
    const c = bytes[i] as number;
    if (c === NL) {
      if (depth === 0 && cur !== null) {
        records.push(cur);
        cur = null;
      }
      line++;
      i++;
      lineStart = i;
      continue;
    }
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === SEMICOLON) {
      while (i < n && bytes[i] !== NL) i++;
      continue;
    }
    cur ??= { line, indented: i > lineStart, tokens: [] };
    if (c === OPEN) {
      if (depth === 0) openLine = line;
      depth++;
      i++;
      continue;
    }
    if (c === CLOSE) {
      if (depth === 0) return fail(line, "')' without a matching '(' (unbalanced parenthesis)");
      depth--;
      i++;
      continue;
    }
    const out: number[] = [];
    const quoted = c === QUOTE;
    if (quoted) {
      const startLine = line;
      i++;
      for (;;) {
        const b = bytes[i];
        if (b === undefined || b === NL) return fail(startLine, 'unterminated quoted string (the closing " is missing)');
        if (b === QUOTE) {
          i++;
          break;
        }
        if (b === BACKSLASH) {
          const r = readEscape(bytes, i);
          if (typeof r === 'string') return fail(line, r);
          out.push(r.byte);
          i = r.next;
          continue;
        }
        out.push(b);
        i++;
      }
    } else {
      while (i < n) {
        const b = bytes[i] as number;
        if (b === NL || isSpace(b) || b === SEMICOLON || b === QUOTE || b === OPEN || b === CLOSE) break;
        if (b === BACKSLASH) {
          const r = readEscape(bytes, i);
          if (typeof r === 'string') return fail(line, r);
          out.push(r.byte);
          i = r.next;
          continue;
        }
        out.push(b);
        i++;
      }
    }
    const buf = Buffer.from(out);
    cur.tokens.push({ text: buf.toString('utf8'), quoted, utf8: isUtf8(buf) });
  }
  if (depth > 0) return fail(openLine, "'(' is never closed (unbalanced parenthesis at end of file)");
  if (cur !== null) records.push(cur);
  return { records, partial: null, error: null };
}

const CLASS = /^(IN|CH|HS|CS|NONE|ANY|CLASS\d+)$/i;
const TTL = /^(\d+|(\d+[smhdw])+)$/i;
const TYPES = new Set(
  (
    'A AAAA AFSDB APL CAA CDNSKEY CDS CERT CNAME CSYNC DHCID DLV DNAME DNSKEY DS EUI48 EUI64 HINFO HIP ' +
    'HTTPS IPSECKEY KEY KX LOC MB MD MF MG MINFO MR MX NAPTR NINFO NS NSAP NSEC NSEC3 NSEC3PARAM NULL NXT ' +
    'OPENPGPKEY OPT PTR RKEY RP RRSIG SIG SMIMEA SOA SPF SRV SSHFP SVCB TA TALINK TKEY TLSA TSIG TXT URI ' +
    'WKS X25 ZONEMD'
  ).split(' '),
);

function recordType(token: Token | undefined): string | null {
  if (token === undefined || token.quoted) return null;
  const upper = token.text.toUpperCase();
  if (upper === 'TYPE16') return 'TXT';
  return TYPES.has(upper) || /^TYPE\d+$/.test(upper) ? upper : null;
}

/** What an owner name is made of in practice (A-labels, _, * wildcards, RFC 2317 /, @). */
const OWNER = /^(@|\.|[A-Za-z0-9_*/-][A-Za-z0-9_*/.-]*)$/;

const isTtlOrClass = (token: Token | undefined): boolean =>
  token !== undefined && !token.quoted && (TTL.test(token.text) || CLASS.test(token.text));

/**
 * `owner [ttl] [class] type rdata…` (ttl and class in either order). An indented record may
 * omit its owner; an indented line whose first token is no ttl, class or type is read as
 * having an owner all the same (pasted dig output is often indented). Null: not a record,
 * which includes an owner that cannot be a domain name ("Subject:" in a mail header).
 */
function shape(rec: RawRecord): { owner: Token | null; type: string; rdata: Token[] } | null {
  const t = rec.tokens;
  const first = t[0];
  if (first === undefined) return null;
  let i = 0;
  let owner: Token | null = null;
  if (!rec.indented || !(isTtlOrClass(first) || recordType(first) !== null)) {
    if (first.quoted || !OWNER.test(first.text)) return null;
    owner = first;
    i = 1;
  }
  if (isTtlOrClass(t[i])) i++;
  if (isTtlOrClass(t[i])) i++;
  const type = recordType(t[i]);
  return type === null ? null : { owner, type, rdata: t.slice(i + 1) };
}

/** A resolved owner name (lower-case, no trailing dot), or why it cannot be. */
type Resolved = { name: string; relativeWithoutOrigin: boolean } | { error: string };

/** `@` is the origin; a name without a trailing dot is relative to it. */
function resolveName(raw: string, origin: string | null): Resolved {
  if (raw === '@') {
    return origin === null ? { error: '"@" stands for the $ORIGIN, but the file sets none before this line' } : { name: origin, relativeWithoutOrigin: false };
  }
  if (raw.endsWith('.')) return { name: raw.slice(0, -1).toLowerCase(), relativeWithoutOrigin: false };
  // Without $ORIGIN, a name is taken as written: "s._domainkey.example.com" in a pasted
  // list almost always means the absolute name.
  if (origin === null) return { name: raw.toLowerCase(), relativeWithoutOrigin: true };
  return { name: (origin === '' ? raw : `${raw}.${origin}`).toLowerCase(), relativeWithoutOrigin: false };
}

/** True when some record of the text is a TXT record: then the file is zone-file or dig text. */
export function hasTxtRecord(bytes: Buffer): boolean {
  const lexed = lexZone(bytes);
  const records = lexed.partial === null ? lexed.records : [...lexed.records, lexed.partial];
  return records.some((rec) => shape(rec)?.type === 'TXT');
}

/**
 * A TXT record kept in zone-file form, `"v=DKIM1; k=rsa; " "p=…"`, as its joined strings; null
 * when the text is not a sequence of quoted strings.
 */
export function unquoteTxtStrings(value: string): string | null {
  if (!value.trimStart().startsWith('"')) return null;
  const lexed = lexZone(Buffer.from(value, 'utf8'));
  const only = lexed.records[0];
  if (lexed.error !== null || lexed.records.length !== 1 || only === undefined) return null;
  if (!only.tokens.every((t) => t.quoted && t.utf8)) return null;
  return only.tokens.map((t) => t.text).join('');
}

type Item =
  | { kind: 'ignore'; line: number; why: string }
  | { kind: 'record'; line: number; owner: Resolved | null; type: string; rdata: Token[]; target: string | null };

/**
 * Zone-file or dig text. TXT records with a p= tag are keys; other records, and TXT records
 * that are not DKIM keys, are listed as ignored. A key found at the target of a CNAME in the
 * same file (dig follows CNAMEs: selectors delegated to a mail provider) is also imported
 * under the CNAME's name, which is the name verifiers ask for.
 */
export function parseZone(bytes: Buffer, path: string): ParsedKeyFile {
  const lexed = lexZone(bytes);
  if (lexed.error !== null) throw new KeyImportError(path, `line ${lexed.error.line}`, lexed.error.message);

  const items: Item[] = [];
  let origin: string | null = null;
  let lastOwner: Resolved | null = null;
  for (const rec of lexed.records) {
    const first = rec.tokens[0] as Token;
    if (!first.quoted && first.text.startsWith('$')) {
      const directive = first.text.toUpperCase();
      if (directive === '$ORIGIN') {
        const arg = rec.tokens[1];
        if (arg === undefined || arg.quoted || arg.text === '@') {
          throw new KeyImportError(path, `line ${rec.line}`, '$ORIGIN needs a domain name');
        }
        const resolved = resolveName(arg.text, origin);
        if ('name' in resolved) origin = resolved.name;
      } else if (directive === '$INCLUDE') {
        items.push({ kind: 'ignore', line: rec.line, why: '$INCLUDE not followed (import the included file by itself)' });
      } else if (directive !== '$TTL') {
        items.push({ kind: 'ignore', line: rec.line, why: `unsupported directive ${first.text}` });
      }
      continue;
    }
    const s = shape(rec);
    if (s === null) {
      items.push({ kind: 'ignore', line: rec.line, why: 'not a DNS record (no record type found)' });
      continue;
    }
    const owner: Resolved | null = s.owner === null ? lastOwner : resolveName(s.owner.text, origin);
    lastOwner = owner;
    let target: string | null = null;
    if (s.type === 'CNAME' && s.rdata[0] !== undefined && !s.rdata[0].quoted) {
      const t = resolveName(s.rdata[0].text, origin);
      if ('name' in t) target = t.name;
    }
    items.push({ kind: 'record', line: rec.line, owner, type: s.type, rdata: s.rdata, target });
  }

  // CNAMEs: alias -> target, and which names hold a TXT record.
  const aliasesOf = new Map<string, Array<{ name: string; line: number }>>();
  const targetOf = new Map<string, string>();
  const txtNames = new Set<string>();
  for (const item of items) {
    if (item.kind !== 'record' || item.owner === null || !('name' in item.owner)) continue;
    if (item.type === 'TXT') txtNames.add(item.owner.name);
    if (item.type === 'CNAME' && item.target !== null) {
      const list = aliasesOf.get(item.target) ?? [];
      list.push({ name: item.owner.name, line: item.line });
      aliasesOf.set(item.target, list);
      targetOf.set(item.owner.name, item.target);
    }
  }
  const leadsToTxt = (name: string): boolean => {
    const seen = new Set<string>();
    for (let n: string | undefined = name; n !== undefined && !seen.has(n); n = targetOf.get(n)) {
      if (txtNames.has(n)) return true;
      seen.add(n);
    }
    return false;
  };
  const allAliases = (name: string): Array<{ name: string; line: number }> => {
    const found: Array<{ name: string; line: number }> = [];
    const seen = new Set<string>([name]);
    const queue = [name];
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      for (const alias of aliasesOf.get(n) ?? []) {
        if (seen.has(alias.name)) continue;
        seen.add(alias.name);
        found.push(alias);
        queue.push(alias.name);
      }
    }
    return found;
  };

  const out = new KeyCollector();
  for (const item of items) {
    const where = `line ${item.line}`;
    if (item.kind === 'ignore') {
      out.ignore(where, item.why);
      continue;
    }
    if (item.type === 'CNAME') {
      if (item.target === null || !leadsToTxt(item.target)) out.ignore(where, 'CNAME record with no TXT record at its target in this file');
      continue;
    }
    if (item.type !== 'TXT') {
      out.ignore(where, `${item.type} record (not TXT)`);
      continue;
    }
    if (item.rdata.length === 0) throw new KeyImportError(path, where, 'TXT record without any string');
    if (item.rdata.some((t) => !t.utf8)) throw new KeyImportError(path, where, 'TXT record whose strings are not UTF-8 text (\\DDD escapes of stray bytes)');
    const txt = item.rdata.map((t) => t.text).join('');
    const why = notDkimKeyReason(txt);
    if (why !== null) {
      out.ignore(where, why);
      continue;
    }
    const owner: Resolved | null = item.owner;
    if (owner === null) throw new KeyImportError(path, where, 'the record has no owner name (an indented line with no record before it)');
    if ('error' in owner) throw new KeyImportError(path, where, owner.error);

    const own = splitKeyName(owner.name);
    const named = allAliases(owner.name).flatMap((alias) => {
      const parts = splitKeyName(alias.name);
      return typeof parts === 'string' ? [] : [{ parts, where: `${where} (named by the CNAME at line ${alias.line})` }];
    });
    if (typeof own !== 'string') named.unshift({ parts: own, where });
    if (named.length === 0) {
      const hint = owner.relativeWithoutOrigin
        ? '; the name is relative and the file sets no $ORIGIN: add a line such as "$ORIGIN example.com." above it'
        : '';
      throw new KeyImportError(path, where, `${own as string}${hint}`);
    }
    for (const { parts, where: at } of named) {
      out.add({ ...parts, txt, provenance: 'file', origin: path, firstSeen: null, lastSeen: null, where: at });
    }
  }
  return { format: 'zone', keys: out.keys, ignored: out.ignored };
}
