import { createHash, createPrivateKey, sign as cryptoSign } from 'node:crypto';

/*
 * DKIM signatures written by hand with node:crypto, for what mailauth's signer refuses to make
 * (an h= without From, a repeated tag, an l= in another notation). One implementation serves
 * the unit and the hostile-input tests.
 */

const relaxedField = (raw: string): string => {
  const colon = raw.indexOf(':');
  const name = raw.slice(0, colon).trim().toLowerCase();
  const value = raw.slice(colon + 1).replace(/\r\n/g, '').replace(/[ \t]+/g, ' ').trim();
  return `${name}:${value}`;
};

const relaxedBody = (body: string): string => {
  let canon = body
    .split('\r\n')
    .map((line) => line.replace(/[ \t]+/g, ' ').replace(/ $/, ''))
    .join('\r\n')
    .replace(/(\r\n)*$/, '');
  if (canon !== '') canon += '\r\n';
  return canon;
};

/**
 * A relaxed/relaxed rsa-sha256 DKIM-Signature header (CRLF-terminated). `tags` is the tag list
 * up to (not including) `bh=` and `b=`, exactly as it will appear, e.g.
 * `v=1; a=rsa-sha256; c=relaxed/relaxed; d=demo.example; s=s2048; l=99999999999999999999; h=from:to:subject`.
 * The body hash covers the first `bodyLength` canonical bytes when given, else the whole body.
 * `headers` are the fields to sign (bottom-most instance first, RFC 6376 section 5.4.2).
 * `fieldName` makes it an ARC-Message-Signature instead (the same syntax, RFC 8617 section 4.1.2).
 */
export function handSignatureHeader(
  message: string,
  spec: { privateKeyPem: string; tags: string; headers: string[]; bodyLength?: number; fieldName?: 'DKIM-Signature' | 'ARC-Message-Signature' },
): string {
  const split = message.indexOf('\r\n\r\n');
  const fields = message
    .slice(0, split)
    .split(/\r\n(?![ \t])/)
    .map((raw) => ({ name: raw.slice(0, raw.indexOf(':')).trim().toLowerCase(), raw }));
  const canonBody = Buffer.from(relaxedBody(message.slice(split + 4)), 'latin1');
  const hashed = spec.bodyLength === undefined ? canonBody : canonBody.subarray(0, spec.bodyLength);
  const bh = createHash('sha256').update(hashed).digest('base64');
  const used = new Map<string, number>();
  const lines: string[] = [];
  for (const name of spec.headers) {
    const lower = name.toLowerCase();
    const instances = fields.filter((f) => f.name === lower);
    const n = used.get(lower) ?? 0;
    used.set(lower, n + 1);
    const field = instances[instances.length - 1 - n];
    if (field) lines.push(relaxedField(field.raw));
  }
  const unsigned = `${spec.fieldName ?? 'DKIM-Signature'}: ${spec.tags}; bh=${bh}; b=`;
  const data = [...lines, relaxedField(unsigned)].join('\r\n');
  const b = cryptoSign('sha256', Buffer.from(data, 'latin1'), createPrivateKey(spec.privateKeyPem)).toString('base64');
  return `${unsigned}${b}\r\n`;
}

/**
 * `message` (which carries one ARC set, i=1) with its ARC-Seal replaced by one whose tag list is
 * `tags`, exactly as written, signed with `privateKeyPem` (RFC 8617 section 5.1.1: the relaxed
 * ARC-Authentication-Results and ARC-Message-Signature, then the seal with an empty b=). The
 * seal is cryptographically valid whatever its syntax, which mailauth's sealer would refuse.
 */
export function handResealed(message: string, spec: { privateKeyPem: string; tags: string }): string {
  const end = message.indexOf('\r\n\r\n');
  const fields = message.slice(0, end).split(/\r\n(?![ \t])/);
  const named = (name: string): string => {
    const field = fields.find((f) => f.toLowerCase().startsWith(`${name}:`));
    if (!field) throw new Error(`no ${name} to reseal`);
    return field;
  };
  const unsigned = `ARC-Seal: ${spec.tags}; b=`;
  const data = [relaxedField(named('arc-authentication-results')), relaxedField(named('arc-message-signature')), relaxedField(unsigned)].join('\r\n');
  const b = cryptoSign('sha256', Buffer.from(data, 'latin1'), createPrivateKey(spec.privateKeyPem)).toString('base64');
  const rest = fields.filter((f) => !f.toLowerCase().startsWith('arc-seal:'));
  return [`${unsigned}${b}`, ...rest].join('\r\n') + message.slice(end);
}
