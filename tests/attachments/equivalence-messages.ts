/**
 * Messages for the equivalence test of the two inventory implementations: random MIME trees of
 * the shapes real mail has (with large parts, so that delimiters fall on the 64 KiB slices the
 * streaming parser is fed in), the odd spellings the fast path must notice, and a mangler.
 * Everything is seeded: a failure names its seed and reproduces.
 */

export type Random = (n: number) => number;

/** A small deterministic generator (an LCG is plenty to pick shapes). */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0 || 1;
  return (n: number): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % n;
  };
}

const WORDS = ['report', 'budget', 'the', 'final', 'draft', 'of', 'meeting', 'Zoë', 'naïve', 'contract', '--', '=', 'press', 'attached'];

function pick<T>(random: Random, items: readonly T[]): T {
  return items[random(items.length)]!;
}

function randomBytes(random: Random, length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = random(256);
  return bytes;
}

function text(random: Random, lines: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const words: string[] = [];
    for (let w = 1 + random(12); w > 0; w--) words.push(pick(random, WORDS));
    out.push(words.join(' '));
  }
  return out.join('\n');
}

/** How a base64 body is written: line width (0: one line), and the irregularities to put in. */
interface Base64Style {
  width: number;
  /** every line padded on its own (each line an independent base64 block) */
  paddedLines?: boolean;
  /** characters libbase64 drops that Node's decoder reads differently or skips: spaces, "-", high bytes */
  junk?: string;
  /** a last line with fewer than 4 characters left over */
  ragged?: boolean;
}

export function base64Body(random: Random, data: Buffer, style: Base64Style): string {
  let lines: string[];
  if (style.paddedLines) {
    lines = [];
    const step = Math.max(1, Math.floor(((style.width || 76) / 4) * 3) - random(3));
    for (let i = 0; i < data.length; i += step) lines.push(data.subarray(i, i + step).toString('base64'));
  } else {
    const encoded = data.toString('base64');
    lines = [];
    if (style.width === 0) lines.push(encoded);
    else for (let i = 0; i < encoded.length; i += style.width) lines.push(encoded.slice(i, i + style.width));
  }
  if (style.ragged && lines.length > 0) lines[lines.length - 1] = lines[lines.length - 1]!.replace(/=+$/, '') + pick(random, ['Q', 'QU', 'QUJ', '']);
  if (style.junk) {
    for (let n = 1 + random(4); n > 0 && lines.length > 0; n--) {
      const at = random(lines.length);
      const line = lines[at]!;
      const pos = random(line.length + 1);
      lines[at] = line.slice(0, pos) + pick(random, [...style.junk]) + line.slice(pos);
    }
  }
  return lines.join('\n');
}

/** A quoted-printable body, with soft line breaks, escapes, and trailing whitespace here and there. */
export function quotedPrintableBody(random: Random, length: number): string {
  const out: string[] = [];
  let line = '';
  let written = 0;
  while (written < length) {
    const r = random(20);
    let piece: string;
    if (r === 0) piece = '=C3=A9';
    else if (r === 1) piece = '=3D';
    else if (r === 2) piece = ' ';
    else if (r === 3) piece = '\t';
    else piece = pick(random, WORDS).replace(/[^\x21-\x3c\x3e-\x7e]/g, 'x');
    line += piece;
    written += piece.length;
    if (line.length > 60 + random(20)) {
      const end = random(4);
      out.push(end === 0 ? line + '=' : end === 1 ? line + '= ' : end === 2 ? line + '  ' : line);
      line = '';
    }
  }
  out.push(line);
  return out.join('\n');
}

interface Leaf {
  headers: string[];
  body: string;
}

function filenameHeader(random: Random, name: string): string {
  switch (random(4)) {
    case 0:
      return `filename="${name}"`;
    case 1:
      return `filename*=utf-8''${encodeURIComponent(name)}`;
    case 2:
      return `filename="=?UTF-8?B?${Buffer.from(name).toString('base64')}?="`;
    default:
      return `filename*0*=utf-8''${encodeURIComponent(name.slice(0, 3))};\n filename*1*=${encodeURIComponent(name.slice(3))}`;
  }
}

function randomLeaf(random: Random, big: boolean, nested: () => string): Leaf {
  const size = big ? 20_000 + random(180_000) : random(3000);
  switch (random(14)) {
    case 0:
      return { headers: ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit'], body: text(random, 1 + Math.floor(size / 60)) };
    case 1:
      return { headers: ['Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable'], body: quotedPrintableBody(random, size) };
    case 2:
      return {
        headers: ['Content-Type: text/csv; charset=utf-8; name="data.csv"', 'Content-Transfer-Encoding: quoted-printable', `Content-Disposition: attachment; ${filenameHeader(random, 'données.csv')}`],
        body: quotedPrintableBody(random, size),
      };
    case 3:
      return {
        headers: ['Content-Type: image/png; name="logo.png"', 'Content-Transfer-Encoding: base64', `Content-ID: <logo${random(100)}@example.com>`, 'Content-Disposition: inline'],
        body: base64Body(random, randomBytes(random, size), { width: 76 }),
      };
    case 4:
      return { headers: ['Content-Type: message/rfc822', 'Content-Disposition: inline'], body: nested() };
    case 5:
      return {
        headers: ['Content-Type: message/rfc822; name="fwd.eml"', 'Content-Transfer-Encoding: base64', 'Content-Disposition: attachment; filename="fwd.eml"'],
        body: base64Body(random, Buffer.from(nested(), 'utf8'), { width: pick(random, [76, 64]) }),
      };
    case 6:
      return {
        // two names, which readers save it under each (red team Y, Y-16)
        headers: ["Content-Disposition: attachment; filename=\"notes.docx\"; filename*=utf-8''notes%20v2.docx", 'Content-Transfer-Encoding: base64'],
        body: base64Body(random, randomBytes(random, size), { width: 72 }),
      };
    case 7:
      return {
        // a second Content-Disposition naming it otherwise (red team Y, Y-16)
        headers: ['Content-Type: application/octet-stream; name="=?ISO-8859-1?Q?caf=E9.bin?="', 'Content-Transfer-Encoding: binary', 'Content-Disposition: attachment', 'Content-Disposition: attachment; filename="cafe-copy.bin"'],
        body: text(random, 1 + Math.floor(size / 60)),
      };
    case 8:
      return { headers: ['Content-Type: message/global', 'Content-Disposition: attachment'], body: nested() };
    case 9:
      return {
        headers: ['Content-Type: application/octet-stream; name="fwd.eml"', 'Content-Transfer-Encoding: base64', 'Content-Disposition: attachment; filename="fwd.eml"'],
        body: base64Body(random, Buffer.from(nested(), 'utf8'), { width: 76 }),
      };
    case 10:
      // named as a saved message, but not one
      return {
        headers: ['Content-Type: application/octet-stream; name="notes.eml"', 'Content-Transfer-Encoding: base64', 'Content-Disposition: attachment; filename="notes.eml"'],
        body: base64Body(random, randomBytes(random, size), { width: 76 }),
      };
    default: {
      const style: Base64Style = {
        width: pick(random, [76, 76, 64, 0, 60, 57]),
        paddedLines: random(6) === 0,
        ragged: random(6) === 0,
        junk: random(4) === 0 ? pick(random, [' ', '\t', '-', '_', '!', '\u00c1', '\u00bd', '.', '\u008a']) : undefined,
      };
      return {
        headers: [`Content-Type: application/pdf; name="report ${random(1000)}.pdf"`, 'Content-Transfer-Encoding: base64', `Content-Disposition: ${pick(random, ['attachment', 'inline', 'Attachment'])}; ${filenameHeader(random, `Résumé ${random(9)}.pdf`)}`],
        body: base64Body(random, randomBytes(random, size), style),
      };
    }
  }
}

/** A random message of the usual shapes: multipart/mixed around alternative and related parts. */
export function randomMessage(random: Random, options: { big?: boolean; crlf?: boolean } = {}): Buffer {
  let boundaries = 0;
  const nested = (): string =>
    ['From: carol@example.net', 'Subject: inner', 'Content-Type: multipart/mixed; boundary="inner-b"', '', '--inner-b', 'Content-Type: text/plain', '', 'inner', '--inner-b--', ''].join('\n');
  const multipart = (depth: number): { type: string; body: string } => {
    const boundary = random(3) === 0 ? `----=_Part_${boundaries++}_${random(1e9)}` : `b${boundaries++}`;
    const kind = depth === 0 ? 'mixed' : pick(random, ['alternative', 'related', 'mixed']);
    const lines: string[] = [];
    if (random(3) === 0) lines.push('This is a multi-part message in MIME format.', '');
    for (let n = 1 + random(depth === 0 ? 5 : 3); n > 0; n--) {
      lines.push(`--${boundary}`);
      if (depth < 2 && random(4) === 0) {
        const child = multipart(depth + 1);
        lines.push(`Content-Type: ${child.type}`, '', child.body);
      } else {
        const leaf = randomLeaf(random, options.big === true && random(2) === 0, nested);
        lines.push(...leaf.headers, '', leaf.body);
      }
    }
    lines.push(`--${boundary}--`);
    if (random(3) === 0) lines.push('epilogue text');
    return { type: `multipart/${kind}; boundary="${boundary}"`, body: lines.join('\n') };
  };
  const root = multipart(0);
  const message = [
    'From: Alice <alice@example.com>',
    'To: Bob <bob@example.org>',
    'Subject: =?UTF-8?Q?r=C3=A9sum=C3=A9?=',
    'MIME-Version: 1.0',
    `Content-Type: ${root.type.replace('; ', ';\n ')}`,
    '',
    root.body,
    '',
  ].join('\n');
  return Buffer.from(options.crlf === false ? message : message.replace(/\n/g, '\r\n'), 'utf8');
}

/** `message` with a few random byte edits, insertions, deletions, delimiter-ish lines, or cut short. */
export function mangle(random: Random, message: Buffer): Buffer {
  const alphabet = Buffer.from('-\r\n:;="\\ \tabcAB=?*%\u0000_/+', 'latin1');
  const inserts = ['--', '\r', '\r\n', '\n', '=\r\n', ' \r\n', 'Content-Type: a/b\r\n', '--b0--\r\n', '--b0 \r\n', '--b1\r\n'];
  let mangled = Buffer.from(message);
  for (let edits = 1 + random(5); edits > 0; edits--) {
    const at = random(mangled.length);
    switch (random(4)) {
      case 0:
        mangled[at] = alphabet[random(alphabet.length)]!;
        break;
      case 1:
        mangled = Buffer.concat([mangled.subarray(0, at), Buffer.from(pick(random, inserts), 'latin1'), mangled.subarray(at)]);
        break;
      case 2:
        mangled = Buffer.concat([mangled.subarray(0, at), mangled.subarray(at + 1 + random(4))]);
        break;
      default: {
        const lf = mangled.indexOf(0x0a, at);
        if (lf !== -1) mangled = Buffer.concat([mangled.subarray(0, lf + 1), Buffer.from(pick(random, inserts), 'latin1'), mangled.subarray(lf + 1)]);
      }
    }
  }
  return random(6) === 0 ? mangled.subarray(0, random(mangled.length)) : mangled;
}
