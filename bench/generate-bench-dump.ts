import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dkimSign, type DKIMSignOptions } from 'mailauth';

/**
 * A deterministic synthetic dump for `npm run bench`: the mix a newsroom receives (mostly 2–20 KB
 * text, some base64 attachments of 100 KB–10 MB, about 180 KB a message on average), signed by the
 * project's test keys: RSA 2048 and 1024 and Ed25519, relaxed and simple canonicalization, one or
 * two signatures each. The same size and seed give the same bytes, so runs are comparable.
 */
export interface BenchDump {
  dir: string;
  keysFile: string;
  messages: number;
  bytes: number;
}

const KEYS_DIR = new URL('../fixtures/keys/', import.meta.url);
const SIGNERS = [
  { domain: 'demo.example', selector: 's2048', file: 's2048._domainkey.demo.example.pem' },
  { domain: 'news.example', selector: 's1024', file: 's1024._domainkey.news.example.pem' },
  { domain: 'demo.example', selector: 'ed1', file: 'ed1._domainkey.demo.example.pem' },
] as const;

function prng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x6d2b79f5) >>> 0;
    let t = Math.imul(x ^ (x >>> 15), 1 | x);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = 'the of and to in report budget meeting draft final numbers attached please review contract vendor invoice schedule campaign press release statement donor event travel'.split(' ');

function text(random: () => number, bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const words = Array.from({ length: 8 + Math.floor(random() * 8) }, () => WORDS[Math.floor(random() * WORDS.length)]);
    const line = words.join(' ');
    lines.push(line);
    size += line.length + 2;
  }
  return lines.join('\r\n');
}

function publicTxt(file: string): string {
  const key = createPublicKey(createPrivateKey(readFileSync(new URL(file, KEYS_DIR))));
  const der = key.export({ type: 'spki', format: 'der' });
  return key.asymmetricKeyType === 'ed25519' ? `v=DKIM1; k=ed25519; p=${der.subarray(12).toString('base64')}` : `v=DKIM1; k=rsa; p=${der.toString('base64')}`;
}

export async function generateBenchDump(root: string, count: number, seed = 2017): Promise<BenchDump> {
  const dir = join(root, `mix-${count}-${seed}`);
  const keysFile = join(root, 'bench-keys.json');
  // Beside the dump, not in it: the dump holds messages only.
  const doneMarker = `${dir}.complete.json`;
  writeFileSync(keysFile, `${JSON.stringify(Object.fromEntries(SIGNERS.map((s) => [`${s.selector}._domainkey.${s.domain}`, [publicTxt(s.file)]])), null, 2)}\n`);
  if (existsSync(doneMarker)) return { dir, keysFile, ...(JSON.parse(readFileSync(doneMarker, 'utf8')) as { messages: number; bytes: number }) };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const random = prng(seed);
  const keys = SIGNERS.map((s) => ({ ...s, privateKey: readFileSync(new URL(s.file, KEYS_DIR), 'utf8') }));
  let bytes = 0;
  const base = Date.UTC(2016, 0, 1);
  for (let i = 0; i < count; i++) {
    const date = new Date(base + Math.floor(random() * 3 * 365 * 86_400_000));
    const signer = keys[Math.floor(random() * keys.length)]!;
    const hasAttachment = random() < 0.055;
    const bodyText = text(random, 2_000 + Math.floor(random() * 18_000));
    const boundary = `----=_Part_${i}_${Math.floor(random() * 1e9)}`;
    let body: string;
    let contentType: string;
    if (hasAttachment) {
      // log-uniform 100 KB – 10 MB, the spread of real attachments
      const size = Math.floor(100_000 * Math.pow(100, random()));
      const attachment = createHash('sha256').update(`${seed}:${i}`).digest();
      const payload = Buffer.alloc(size);
      for (let off = 0; off < size; off += attachment.length) attachment.copy(payload, off, 0, Math.min(attachment.length, size - off));
      contentType = `multipart/mixed; boundary="${boundary}"`;
      body = [`--${boundary}`, 'Content-Type: text/plain; charset=utf-8', '', bodyText, `--${boundary}`,
        `Content-Type: application/pdf; name="doc-${i}.pdf"`, 'Content-Transfer-Encoding: base64',
        `Content-Disposition: attachment; filename="doc-${i}.pdf"`, '', payload.toString('base64').replace(/.{76}/g, '$&\r\n'), `--${boundary}--`, ''].join('\r\n');
    } else {
      contentType = 'text/plain; charset=utf-8';
      body = `${bodyText}\r\n`;
    }
    const headers = [
      `Received: from mail.${signer.domain} (mail.${signer.domain} [192.0.2.${i % 250}]) by mx.example.org; ${date.toUTCString().replace('GMT', '+0000')}`,
      `From: Staff ${i % 97} <staff${i % 97}@${signer.domain}>`,
      `To: Desk <desk@example.org>`,
      `Subject: ${text(random, 30).split('\r\n')[0]} #${i}`,
      `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
      `Message-ID: <bench.${seed}.${i}@${signer.domain}>`,
      'MIME-Version: 1.0',
      `Content-Type: ${contentType}`,
    ];
    const unsigned = `${headers.join('\r\n')}\r\n\r\n${body}`;
    const canonicalization = random() < 0.5 ? 'relaxed/relaxed' : 'simple/simple';
    const entry: DKIMSignOptions = { signingDomain: signer.domain, selector: signer.selector, privateKey: signer.privateKey, canonicalization };
    const signatureData = [entry];
    if (random() < 0.3) {
      const second = keys[(keys.indexOf(signer) + 1) % keys.length]!;
      signatureData.push({ signingDomain: second.domain, selector: second.selector, privateKey: second.privateKey, canonicalization: 'relaxed/relaxed' });
    }
    const signed = await dkimSign(Buffer.from(unsigned), { ...entry, signTime: new Date(date.getTime() + 1000), signatureData });
    if (signed.errors.length) throw new Error(`signing message ${i}: ${signed.errors[0]!.err.message}`);
    const message = Buffer.concat([Buffer.from(signed.signatures), Buffer.from(unsigned)]);
    const sub = join(dir, `box-${String(Math.floor(i / 500)).padStart(3, '0')}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `${String(i).padStart(6, '0')}.eml`), message);
    bytes += message.length;
  }
  writeFileSync(doneMarker, JSON.stringify({ messages: count, bytes }));
  return { dir, keysFile, messages: count, bytes };
}
