/**
 * Builds one dump holding every kind of hostile or broken input the issue lists, and says what
 * leakcheck must record for each directory entry. Everything is generated here, deterministically.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { mulberry32 } from '../../src/fuzz/mutate.ts';
import { DEMO_DUMP } from '../helpers/cli.ts';
import { DEMO_DOMAIN, DEMO_SELECTOR, demoMessage, demoPrivateKey, handSign, signWithFixtureKey } from './sign.ts';
import { IS_ROOT } from './support.ts';

export type Status = 'ok' | 'partial' | 'skipped' | 'error';

/** What the database must say about one entry. */
export interface Expectation {
  /** path as leakcheck records it (relative, `/`-separated, invalid UTF-8 bytes as `\xNN`) */
  path: string;
  /** why this entry is in the dump */
  what: string;
  status: Status;
  reason?: string | null;
  detail?: RegExp;
  kind?: string;
  messages?: number;
  /** verdict of each message, by index; `not-verified` = unverifiable or suspicious */
  verdicts?: Array<'verified' | 'unverifiable' | 'suspicious' | 'not-verified'>;
  /** the entry is only meaningful when the run is unprivileged (file permissions) */
  needsUnprivileged?: boolean;
  /** a known defect in leakcheck: the test states the correct behaviour (see the report) */
  knownBug?: string;
}

export interface HostileDump {
  root: string;
  expectations: Expectation[];
  /** paths that must NOT appear (never followed, or directories) */
  absent: string[];
  /** sub-cases that could not be built here, with why */
  skipped: string[];
  /** call after the run: closes the socket's server */
  close: () => Promise<void>;
}

const CRLF = '\r\n';
const demo = (path: string): string => readFileSync(join(DEMO_DUMP, path), 'latin1');
/** A genuine, verified demo message (CRLF, relaxed/relaxed, s2048). */
const GENUINE = 'inbox/2017-02-14 Q1 budget.eml';
/** A genuine demo message signed with l=114. */
const WITH_L = 'inbox/2018-03-12 Weekly status.eml';

const headerEnd = (text: string): number => text.indexOf('\r\n\r\n') + 2;
/** `text` with `insert` placed right after the header field that starts with `afterField`. */
function insertAfterField(text: string, afterField: string, insert: string): string {
  const start = text.indexOf(`${CRLF}${afterField}`) + 2;
  let end = text.indexOf(CRLF, start) + 2;
  while (text[end] === ' ' || text[end] === '\t') end = text.indexOf(CRLF, end) + 2;
  return text.slice(0, end) + insert + text.slice(end);
}

function randomBytes(seed: number, length: number): Buffer {
  const rng = mulberry32(seed);
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(rng() * 256);
  return out;
}

function nestedMime(depth: number): { contentHeaders: string[]; body: string } {
  let body = `Content-Type: text/plain; charset=us-ascii${CRLF}${CRLF}The innermost part.${CRLF}`;
  for (let level = depth - 1; level >= 1; level--) {
    body = `Content-Type: multipart/mixed; boundary="b${level}"${CRLF}${CRLF}--b${level}${CRLF}${body}--b${level}--${CRLF}`;
  }
  return { contentHeaders: [`Content-Type: multipart/mixed; boundary="b0"`], body: `--b0${CRLF}${body}--b0--${CRLF}` };
}

const SIGNED_HEADERS = ['from', 'to', 'subject', 'date', 'message-id'];
const HAND_TAGS = `v=1; a=rsa-sha256; c=relaxed/relaxed; d=${DEMO_DOMAIN}; s=${DEMO_SELECTOR}; h=${SIGNED_HEADERS.join(':')}`;

export async function buildHostileDump(root: string): Promise<HostileDump> {
  const expectations: Expectation[] = [];
  const absent: string[] = [];
  const skipped: string[] = [];
  const put = (path: string | Buffer, content: string | Buffer): void => {
    writeFileSync(typeof path === 'string' ? join(root, path) : Buffer.concat([Buffer.from(`${root}/`), path]), content);
  };
  const want = (e: Expectation): void => {
    expectations.push(e);
  };
  const genuine = demo(GENUINE);

  // --- empty files and junk ------------------------------------------------------------------
  put('empty.eml', '');
  want({ path: 'empty.eml', what: 'empty file', status: 'skipped', reason: 'empty' });
  const junk = randomBytes(1, 64 * 1024);
  junk[0] = 0;
  put('junk.bin', junk);
  want({ path: 'junk.bin', what: '64 KB of random bytes', status: 'skipped', reason: 'binary' });
  put('control-bytes.eml', Buffer.from(Array.from({ length: 4096 }, (_, i) => 1 + (i % 8))));
  want({ path: 'control-bytes.eml', what: 'control bytes without a NUL', status: 'skipped', reason: 'binary' });
  put('junk-text.eml', 'Lorem ipsum dolor sit amet,\nconsectetur adipiscing elit.\n'.repeat(100));
  want({ path: 'junk-text.eml', what: 'prose named .eml', status: 'skipped', reason: 'not-email' });
  put('utf16.eml', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(genuine, 'utf16le')]));
  want({ path: 'utf16.eml', what: 'a message re-encoded as UTF-16', status: 'skipped', reason: 'not-email' });

  // --- truncated messages ----------------------------------------------------------------------
  put('truncated-in-header.eml', genuine.slice(0, Math.floor(headerEnd(genuine) * 0.6)));
  want({ path: 'truncated-in-header.eml', what: 'cut inside the DKIM-Signature header', status: 'ok', kind: 'eml', messages: 1, verdicts: ['not-verified'] });
  put('truncated-in-body.eml', genuine.slice(0, headerEnd(genuine) + 200));
  want({ path: 'truncated-in-body.eml', what: 'cut inside the signed body', status: 'ok', kind: 'eml', messages: 1, verdicts: ['suspicious'] });
  put('header-only.eml', genuine.slice(0, headerEnd(genuine) - 2));
  want({ path: 'header-only.eml', what: 'headers and no body at all', status: 'ok', kind: 'eml', messages: 1, verdicts: ['not-verified'] });

  // --- huge lines and many fields ----------------------------------------------------------------
  const MB = 1024 * 1024;
  put('long-header-line.eml', insertAfterField(genuine, 'DKIM-Signature:', `X-Long: ${'a'.repeat(MB)}${CRLF}`));
  want({ path: 'long-header-line.eml', what: 'a genuine message with an unsigned 1 MB header line', status: 'ok', kind: 'eml', messages: 1, verdicts: ['verified'] });
  put('long-folded-header.eml', insertAfterField(genuine, 'DKIM-Signature:', `X-Folded: x${`${CRLF} ${'b'.repeat(76)}`.repeat(MB / 79)}${CRLF}`));
  want({ path: 'long-folded-header.eml', what: 'an unsigned 1 MB header folded over 13,000 lines', status: 'ok', kind: 'eml', messages: 1, verdicts: ['verified'] });
  put('long-subject.eml', demoMessage({ id: 'long-subject', subject: `=?utf-8?q?${'=C3=A9'.repeat(MB / 6)}?=` }));
  want({ path: 'long-subject.eml', what: 'an unsigned message with a 1 MB encoded-word Subject', status: 'ok', kind: 'eml', messages: 1, verdicts: ['unverifiable'] });
  put('long-body-line.eml', await signWithFixtureKey(demoMessage({ id: 'long-body-line', body: `${'c'.repeat(MB)}${CRLF}` })));
  want({ path: 'long-body-line.eml', what: 'a signed message whose body is one 1 MB line', status: 'ok', kind: 'eml', messages: 1, verdicts: ['verified'] });
  const fields = Array.from({ length: 10_000 }, (_, i) => `X-Field-${i}: value ${i}${CRLF}`).join('');
  put('many-fields.eml', insertAfterField(genuine, 'Content-Type:', fields));
  want({ path: 'many-fields.eml', what: 'a genuine message with 10,000 unsigned header fields after its own', status: 'ok', kind: 'eml', messages: 1, verdicts: ['verified'] });
  put('many-fields-first.eml', fields + genuine);
  want({
    path: 'many-fields-first.eml',
    what: 'a genuine message behind 10,000 unsigned header fields',
    status: 'ok',
    kind: 'eml',
    messages: 1,
    verdicts: ['verified'],
    knownBug: 'src/discover/sniff.ts decides from the first 16 KB only: 10,000 X- fields hide every mail header, so the message is skipped as not-email',
  });
  put('long-first-line.eml', `X-First: ${'d'.repeat(MB)}${CRLF}${genuine}`);
  want({
    path: 'long-first-line.eml',
    what: 'a genuine message whose first header line is 1 MB long',
    status: 'ok',
    kind: 'eml',
    messages: 1,
    verdicts: ['verified'],
    knownBug: 'src/discover/sniff.ts decides from the first 16 KB only: one long first field hides every mail header, so the message is skipped as not-email',
  });
  // A From injected above the signed one, but after 20,000 fields.
  const junkFields = Array.from({ length: 20_000 }, (_, i) => `X-Pad-${i}: ${i}${CRLF}`).join('');
  put('injected-after-20000-fields.eml', insertAfterField(genuine, 'Received: from [10.20.0.15]', `${junkFields}From: "CEO" <ceo@evil.example>${CRLF}`));
  want({
    path: 'injected-after-20000-fields.eml',
    what: 'a forged From above the signed one, hidden behind 20,000 header fields',
    status: 'ok',
    kind: 'eml',
    messages: 1,
    verdicts: ['suspicious'],
    knownBug: 'src/read/headers.ts parseHeaders stops at 20,000 fields: the injected From is never seen and the message is "verified"',
  });

  // --- MIME ------------------------------------------------------------------------------------
  put('deep-mime.eml', await signWithFixtureKey(demoMessage({ id: 'deep-mime', ...nestedMime(1000) })));
  want({ path: 'deep-mime.eml', what: 'a signed message with MIME nested 1,000 levels deep', status: 'ok', kind: 'eml', messages: 1, verdicts: ['verified'] });
  put(
    'bad-base64.eml',
    await signWithFixtureKey(demoMessage({ id: 'bad-base64', contentHeaders: ['Content-Type: text/plain', 'Content-Transfer-Encoding: base64'], body: `!!!! not base64 @@@@${CRLF}SGVsbG8===${CRLF}=${CRLF}A${CRLF}` })),
  );
  want({ path: 'bad-base64.eml', what: 'a signed message whose body is invalid base64', status: 'ok', kind: 'eml', messages: 1, verdicts: ['verified'] });
  put(
    'bad-qp.eml',
    await signWithFixtureKey(demoMessage({ id: 'bad-qp', contentHeaders: ['Content-Type: text/plain', 'Content-Transfer-Encoding: quoted-printable'], body: `=ZZ=G1 broken=${CRLF}=${CRLF}=4${CRLF}soft break at the end=` })),
  );
  want({ path: 'bad-qp.eml', what: 'a signed message whose body is invalid quoted-printable', status: 'ok', kind: 'eml', messages: 1, verdicts: ['verified'] });
  put(
    'unclosed-multipart.eml',
    await signWithFixtureKey(demoMessage({ id: 'unclosed-multipart', contentHeaders: ['Content-Type: multipart/mixed; boundary="never-closed"'], body: `--never-closed${CRLF}Content-Type: text/plain${CRLF}${CRLF}open${CRLF}--wrong-boundary--${CRLF}` })),
  );
  want({ path: 'unclosed-multipart.eml', what: 'a signed multipart message whose boundary never closes', status: 'ok', kind: 'eml', messages: 1, verdicts: ['verified'] });

  // --- malformed DKIM-Signature tag lists and absurd l= ------------------------------------------
  put('garbage-tags.eml', `DKIM-Signature: ;;; ==; v; a=; =x; d=;; s=\xff\x7f; b=!!!; bh=; l=zz${CRLF}${demoMessage({ id: 'garbage-tags' })}`);
  want({ path: 'garbage-tags.eml', what: 'a DKIM-Signature that is only garbage', status: 'ok', kind: 'eml', messages: 1, verdicts: ['unverifiable'] });
  put('empty-signature.eml', `DKIM-Signature:${CRLF}DKIM-Signature: ${CRLF}\t${CRLF}${demoMessage({ id: 'empty-signature' })}`);
  want({ path: 'empty-signature.eml', what: 'empty DKIM-Signature fields', status: 'ok', kind: 'eml', messages: 1, verdicts: ['unverifiable'] });
  put('duplicate-tags.eml', handSign(demoMessage({ id: 'duplicate-tags' }), { privateKeyPem: demoPrivateKey(), tags: `${HAND_TAGS}; d=${DEMO_DOMAIN}; s=${DEMO_SELECTOR}`, headers: SIGNED_HEADERS }));
  want({ path: 'duplicate-tags.eml', what: 'a signature repeating d= and s= (RFC 6376 3.2: the tag list is invalid)', status: 'ok', kind: 'eml', messages: 1, verdicts: ['not-verified'], knownBug: 'duplicate tags are accepted: see the dkim-tag-forgery test' });
  put('absurd-l-signed.eml', handSign(demoMessage({ id: 'absurd-l-signed' }), { privateKeyPem: demoPrivateKey(), tags: `${HAND_TAGS}; l=99999999999999999999`, headers: SIGNED_HEADERS }));
  // l= beyond the body: the whole body is signed, nothing can be appended; either verdict is defensible, a crash is not.
  want({ path: 'absurd-l-signed.eml', what: 'a valid signature whose l= is 10^20 - 1', status: 'ok', kind: 'eml', messages: 1 });
  const withL = demo(WITH_L);
  for (const [name, value] of [
    ['huge', '99999999999999999999'],
    ['76-digits', '9'.repeat(76)],
    ['77-digits', '9'.repeat(77)],
    ['negative', '-1'],
    ['hex', '0x10'],
    ['empty', ''],
  ] as const) {
    put(`genuine-l-${name}.eml`, withL.replace(/\bl=114\b/, `l=${value}`));
    want({ path: `genuine-l-${name}.eml`, what: `the genuine l=114 signature with l= changed to ${JSON.stringify(value.slice(0, 24))}`, status: 'ok', kind: 'eml', messages: 1, verdicts: ['not-verified'] });
  }

  // --- mbox and emlx damage ----------------------------------------------------------------------
  mkdirSync(join(root, 'mbox'));
  const lf = (text: string): string => text.replace(/\r\n/g, '\n');
  const second = lf(await signWithFixtureKey(demoMessage({ id: 'mbox-second', subject: 'second', body: `${'Signed body line.\r\n'.repeat(40)}` })));
  put('mbox/truncated-last.mbox', `From alice@demo.example Tue Feb 14 09:12:11 2017\n${lf(genuine)}\nFrom alice@demo.example Tue Feb 14 09:13:00 2017\n${second.slice(0, second.length - 300)}`);
  want({ path: 'mbox/truncated-last.mbox', what: 'an mbox whose last message is cut off', status: 'ok', kind: 'mbox', messages: 2, verdicts: ['verified', 'suspicious'] });
  put('mbox/cut-separator.mbox', `From alice@demo.example Tue Feb 14 09:12:11 2017\n${lf(genuine)}\nFrom alice@demo.exa`);
  want({ path: 'mbox/cut-separator.mbox', what: 'an mbox that ends inside a From_ line', status: 'ok', kind: 'mbox' });
  put('mbox/huge-envelope.mbox', `From ${'e'.repeat(MB)} Tue Feb 14 09:12:11 2017\n${lf(genuine)}`);
  want({
    path: 'mbox/huge-envelope.mbox',
    what: 'an mbox whose From_ line is 1 MB long',
    status: 'ok',
    kind: 'mbox',
    messages: 1,
    verdicts: ['verified'],
    knownBug: 'src/discover/sniff.ts sees only the first 16 KB, all of it the From_ line, so the mbox is skipped as not-email (src/read/mbox-split.ts would read it)',
  });
  mkdirSync(join(root, 'Mail.mbox/Messages'), { recursive: true });
  const emlxBody = genuine;
  put('Mail.mbox/Messages/1.emlx', `${emlxBody.length}\n${emlxBody}<?xml version="1.0"?>\n<plist version="1.0"><dict/></plist>\n`);
  want({ path: 'Mail.mbox/Messages/1.emlx', what: 'an intact emlx', status: 'ok', kind: 'emlx', messages: 1, verdicts: ['verified'] });
  put('Mail.mbox/Messages/2.emlx', `${emlxBody.length + 5000}\n${emlxBody.slice(0, 900)}`);
  want({ path: 'Mail.mbox/Messages/2.emlx', what: 'a truncated emlx (declares more bytes than follow)', status: 'error', reason: 'truncated', kind: 'emlx', messages: 0 });
  put('Mail.mbox/Messages/3.emlx', `99999999999999999999999\n${emlxBody}`);
  want({ path: 'Mail.mbox/Messages/3.emlx', what: 'an emlx whose byte count is absurd', status: 'error', reason: 'malformed-emlx', kind: 'emlx', messages: 0 });

  // --- names and directory entries ------------------------------------------------------------------
  put(Buffer.from([0x66, 0xff, 0x2e, 0x65, 0x6d, 0x6c]), genuine);
  want({ path: 'f\\xFF.eml', what: 'a genuine message whose name is not UTF-8', status: 'ok', kind: 'eml', messages: 1, verdicts: ['verified'] });
  const latin1Dir = Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0x64, 0xe9, 0x6a, 0xe0])]);
  mkdirSync(latin1Dir);
  writeFileSync(Buffer.concat([latin1Dir, Buffer.from('/inner.eml')]), genuine);
  want({ path: 'd\\xE9j\\xE0/inner.eml', what: 'a message in a directory whose name is Latin-1', status: 'ok', kind: 'eml', messages: 1, verdicts: ['verified'] });
  // `c<0xFF>.eml` escapes to `c\xFF.eml`, the literal name of its sibling, which is therefore
  // escaped too (`c\x5CxFF.eml`): two files, two paths, both read (src/discover/fs-path.ts).
  put(Buffer.from([0x63, 0xff, 0x2e, 0x65, 0x6d, 0x6c]), genuine);
  put('c\\xFF.eml', genuine);
  want({ path: 'c\\x5CxFF.eml', what: 'a valid name that spells the escaped form of a sibling\'s invalid name', status: 'ok', kind: 'eml', messages: 1, verdicts: ['verified'] });
  want({ path: 'c\\xFF.eml', what: 'an invalid name whose escaped form is a sibling\'s real name', status: 'ok', kind: 'eml', messages: 1, verdicts: ['verified'] });
  mkdirSync(join(root, 'x.eml'));
  put('x.eml/inner.eml', genuine);
  want({ path: 'x.eml/inner.eml', what: 'a message inside a directory named x.eml', status: 'ok', kind: 'eml', messages: 1, verdicts: ['verified'] });
  absent.push('x.eml');
  mkdirSync(join(root, 'empty-dir.eml'));
  absent.push('empty-dir.eml');

  // --- symlinks ------------------------------------------------------------------------------------
  symlinkSync('loop-b.eml', join(root, 'loop-a.eml'));
  symlinkSync('loop-a.eml', join(root, 'loop-b.eml'));
  want({ path: 'loop-a.eml', what: 'symlink loop', status: 'skipped', reason: 'symlink', detail: /loop-b\.eml/ });
  want({ path: 'loop-b.eml', what: 'symlink loop', status: 'skipped', reason: 'symlink', detail: /loop-a\.eml/ });
  symlinkSync('/etc/passwd', join(root, 'passwd.eml'));
  want({ path: 'passwd.eml', what: 'symlink to /etc/passwd', status: 'skipped', reason: 'symlink', detail: /^symlink to \/etc\/passwd$/ });
  symlinkSync('/etc', join(root, 'outside'));
  want({ path: 'outside', what: 'symlink to a directory outside the dump', status: 'skipped', reason: 'symlink', detail: /\/etc/ });
  symlinkSync('../..', join(root, 'up'));
  want({ path: 'up', what: 'symlink to an ancestor of the dump', status: 'skipped', reason: 'symlink' });
  symlinkSync('x.eml/inner.eml', join(root, 'inside-link.eml'));
  want({ path: 'inside-link.eml', what: 'symlink to a message inside the dump', status: 'skipped', reason: 'symlink' });
  symlinkSync('does-not-exist', join(root, 'dangling.eml'));
  want({ path: 'dangling.eml', what: 'dangling symlink', status: 'skipped', reason: 'symlink' });

  // --- special files ---------------------------------------------------------------------------------
  if (spawnSync('mkfifo', [join(root, 'pipe.eml')]).status === 0) {
    want({ path: 'pipe.eml', what: 'FIFO (opening it for reading would block)', status: 'skipped', reason: 'special-file', detail: /FIFO/ });
  } else {
    skipped.push('FIFO: mkfifo failed');
  }
  let server: Server | null = null;
  const socketPath = join(root, 'sock.eml');
  if (socketPath.length < 100) {
    server = createServer();
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(socketPath, resolve);
    });
    want({ path: 'sock.eml', what: 'UNIX socket (bound while the run lasts)', status: 'skipped', reason: 'special-file', detail: /socket/ });
  } else {
    skipped.push('UNIX socket: the temp path is too long for a socket address');
  }
  if (IS_ROOT && spawnSync('mknod', [join(root, 'null.eml'), 'c', '1', '3']).status === 0) {
    want({ path: 'null.eml', what: 'character device (like /dev/null)', status: 'skipped', reason: 'special-file', detail: /character device/ });
    if (spawnSync('mknod', [join(root, 'zero.eml'), 'c', '1', '5']).status === 0) {
      want({ path: 'zero.eml', what: 'character device (like /dev/zero: reading it never ends)', status: 'skipped', reason: 'special-file' });
    }
  } else {
    skipped.push('device files: mknod needs root (CAP_MKNOD)');
  }

  // --- permissions -------------------------------------------------------------------------------------
  put('secret.eml', genuine);
  chmodSync(join(root, 'secret.eml'), 0o000);
  want({ path: 'secret.eml', what: 'a message nobody may read (mode 000)', status: 'error', reason: 'unreadable', detail: /EACCES/, needsUnprivileged: true });
  mkdirSync(join(root, 'locked'));
  put('locked/inner.eml', genuine);
  chmodSync(join(root, 'locked'), 0o000);
  want({ path: 'locked', what: 'a directory nobody may list (mode 000)', status: 'error', reason: 'unreadable', detail: /cannot be listed/, needsUnprivileged: true });

  return {
    root,
    expectations,
    absent,
    skipped,
    close: () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
  };
}
