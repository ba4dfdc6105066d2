/**
 * A message with one large base64 attachment, written straight into a single Buffer (no string
 * copies), with the sha256 of the attachment computed as it is generated.
 */
import { createHash, randomFillSync } from 'node:crypto';

export interface BigMessage {
  message: Buffer;
  attachmentBytes: number;
  sha256: string;
}

const HEAD =
  'From: Alice <alice@example.com>\r\n' +
  'To: Bob <bob@example.org>\r\n' +
  'Subject: the big file\r\n' +
  'Date: Mon, 14 Mar 2016 09:26:50 +0000\r\n' +
  'Message-ID: <big@example.com>\r\n' +
  'MIME-Version: 1.0\r\n' +
  'Content-Type: multipart/mixed; boundary="big-boundary"\r\n' +
  '\r\n' +
  '--big-boundary\r\n' +
  'Content-Type: text/plain; charset=us-ascii\r\n' +
  '\r\n' +
  'The file is attached.\r\n' +
  '--big-boundary\r\n' +
  'Content-Type: application/octet-stream; name="big.bin"\r\n' +
  'Content-Transfer-Encoding: base64\r\n' +
  'Content-Disposition: attachment; filename="big.bin"\r\n' +
  '\r\n';
const TAIL = '\r\n--big-boundary--\r\n';

/** 57 input bytes make one 76-character base64 line. */
const LINE_INPUT = 57;
const BLOCK_LINES = 1000;

export function buildBigMessage(attachmentBytes: number): BigMessage {
  const fullLines = Math.floor(attachmentBytes / LINE_INPUT);
  const rest = attachmentBytes % LINE_INPUT;
  const lastLineChars = rest === 0 ? 0 : 4 * Math.ceil(rest / 3);
  const lineCount = fullLines + (rest === 0 ? 0 : 1);
  const bodyChars = fullLines * 76 + lastLineChars + Math.max(0, lineCount - 1) * 2;
  const total = HEAD.length + bodyChars + TAIL.length;
  const message = Buffer.allocUnsafe(total);
  let pos = message.write(HEAD, 0, 'latin1');
  const hash = createHash('sha256');
  const block = Buffer.allocUnsafe(LINE_INPUT * BLOCK_LINES);
  let remaining = attachmentBytes;
  let first = true;
  while (remaining > 0) {
    const size = Math.min(remaining, block.length);
    const input = block.subarray(0, size);
    randomFillSync(input);
    hash.update(input);
    const encoded = input.toString('base64');
    for (let i = 0; i < encoded.length; i += 76) {
      if (!first) pos += message.write('\r\n', pos, 'latin1');
      first = false;
      pos += message.write(encoded.slice(i, i + 76), pos, 'latin1');
    }
    remaining -= size;
  }
  pos += message.write(TAIL, pos, 'latin1');
  if (pos !== total) throw new Error(`size mismatch: wrote ${pos}, expected ${total}`);
  return { message, attachmentBytes, sha256: hash.digest('hex') };
}
