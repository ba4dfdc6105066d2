/**
 * A message as readpst (libpst) writes it from an Outlook PST, following its readpst.c
 * (write_normal_email, write_body_part) as libpst 0.6.55 and later have it: the stored transport
 * headers with carriage returns removed and every MIME-Version, Content-Type,
 * Content-Transfer-Encoding, Content-class, X-MimeOLE and X-From_ field taken out (header_strip_field
 * loops while the name is found; Bcc is kept since 0.6.55), then readpst's own MIME-Version and
 * multipart/mixed Content-Type, then a body rebuilt from the text and HTML Outlook stored. Used to
 * test what leakcheck makes of a dump converted from a PST; no PST is needed.
 */
const STRIPPED = ['mime-version:', 'content-type:', 'content-transfer-encoding:', 'content-class:', 'x-mimeole:', 'x-from_:'];

export const LIBPST_BOUNDARY = '--boundary-LibPST-iamunique-1804289383_-_-';

/** `original` (latin1 string, any line ends) rebuilt by readpst, with `text` and optional `html` as Outlook stored them. */
export function readpstRebuild(
  original: string,
  stored: { text: string; html?: string; attachments?: Array<{ filename: string; contentType: string; content: Buffer }> },
  boundary = LIBPST_BOUNDARY,
): string {
  const lf = original.replace(/\r/g, '');
  const header = lf.slice(0, lf.indexOf('\n\n') + 1);
  // readpst's header_strip_field removes every field of each name, with its folded lines
  const kept: string[] = [];
  let skipping = false;
  for (const line of header.split('\n')) {
    if (/^[ \t]/.test(line)) {
      if (!skipping) kept.push(line);
      continue;
    }
    skipping = STRIPPED.some((s) => line.toLowerCase().startsWith(s));
    if (!skipping) kept.push(line);
  }
  const alt = `alt-${boundary}`;
  const part = (inner: string, type: string, content: string) => `\n--${inner}\nContent-Type: ${type}; charset="utf-8"\n\n${content}\n`;
  const both = stored.html !== undefined;
  const inner = both ? alt : boundary;
  const body =
    (both ? `\n--${boundary}\nContent-Type: multipart/alternative;\n\tboundary="${alt}"\n` : '') +
    part(inner, 'text/plain', stored.text) +
    (both ? part(inner, 'text/html', stored.html!) + `\n--${alt}--\n` : '') +
    // write_inline_attachment: the bytes Outlook stored, in base64, under a name in RFC 2231 form
    (stored.attachments ?? [])
      .map(
        (a) =>
          `\n--${boundary}\nContent-Type: ${a.contentType}\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; \n        filename*=utf-8''${encodeURIComponent(a.filename)}\n\n` +
          `${a.content.toString('base64').replace(/(.{76})/g, '$1\n')}\n\n`,
      )
      .join('') +
    `\n--${boundary}--\n\n`;
  return `${kept.join('\n')}MIME-Version: 1.0\nContent-Type: multipart/mixed;\n\tboundary="${boundary}"\n\n${body}`;
}
