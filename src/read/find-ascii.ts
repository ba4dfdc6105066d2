const isUpper = (byte: number): boolean => byte >= 0x41 && byte <= 0x5a;
const isLower = (byte: number): boolean => byte >= 0x61 && byte <= 0x7a;

/**
 * Whether `bytes` hold `needle` (ASCII), in any case, as a case-insensitive regular expression
 * over the bytes read as latin1 finds it (no other latin1 character folds to an ASCII letter).
 * Header field names are case-insensitive, so a marker field is looked for this way before a
 * message is parsed for it. The whole message made one latin1 string for that search cost a
 * 50 MB message 50 MB more at its peak, twice over when two markers were looked for (a message
 * whose body hash failed is searched for Apple Mail's and Thunderbird's); read in strings of a
 * MiB, it left 70 MB of them for the collector and took 160 ms. Instead, a native search finds
 * the needle's first two bytes, in each of their cases ("x-" and "X-"), and the rest is compared
 * where they are found: a few places in text, none in base64.
 */
export function includesAsciiIgnoringCase(bytes: Uint8Array, needle: string): boolean {
  const lower = Buffer.from(needle.toLowerCase(), 'latin1');
  if (!lower.length) return true;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const prefix of casings(lower.subarray(0, 2))) {
    for (let at = view.indexOf(prefix); at !== -1; at = view.indexOf(prefix, at + 1)) {
      if (matchesAt(view, at, lower)) return true;
    }
  }
  return false;
}

/** Every way of writing `lower` (a byte or two) with its letters in either case. */
function casings(lower: Buffer): Buffer[] {
  let all = [Buffer.alloc(0)];
  for (const byte of lower) {
    const forms = isLower(byte) ? [byte, byte - 0x20] : [byte];
    all = all.flatMap((head) => forms.map((form) => Buffer.concat([head, Buffer.of(form)])));
  }
  return all;
}

function matchesAt(view: Buffer, start: number, lower: Buffer): boolean {
  if (start + lower.length > view.length) return false;
  for (let i = 0; i < lower.length; i++) {
    const byte = view[start + i]!;
    if ((isUpper(byte) ? byte | 0x20 : byte) !== lower[i]) return false;
  }
  return true;
}
