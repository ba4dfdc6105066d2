/**
 * Attachments Thunderbird removed from a stored message.
 *
 * Thunderbird's "Delete Attachment" and "Detach" rewrite the attachment's MIME part in the
 * mailbox and mark it with `X-Mozilla-Altered: AttachmentDeleted|AttachmentDetached; date="…"`.
 * A deleted attachment's part becomes `Content-Type: text/x-moz-deleted; name="Deleted: …"`; a
 * detached one keeps its type and gains `X-Mozilla-External-Attachment-URL`, naming the file the
 * content was saved to. Either way the body a DKIM signature hashed is no longer in the file.
 *
 * Anyone can write the marker into a message, so it counts only in the form Thunderbird gives the
 * part it rewrote: a part of a multipart body (never the whole body), one marker, and the type or
 * the URL field that goes with it. The text Thunderbird puts in the part is localised, so it is
 * not required.
 */
import { includesAsciiIgnoringCase } from '../read/find-ascii.ts';
import { parseHeaders } from '../read/headers.ts';
import { mimeLayout } from './layout.ts';

/** One MIME part Thunderbird rewrote when its attachment was deleted or detached. */
export interface RemovedByClientPart {
  partId: string;
  removal: 'deleted' | 'detached';
  /** the date the marker gives, as written (Thunderbird writes it in local time, no zone) */
  date: string | null;
  /** where a detached attachment was saved (X-Mozilla-External-Attachment-URL) */
  url: string | null;
  contentType: string | null;
  filename: string | null;
  /** raw offset of the part's content in the message */
  contentStart: number;
}

export interface RemovedByClient {
  bodyStart: number;
  parts: RemovedByClientPart[];
}

const MARKER = 'x-mozilla-altered';
const URL_FIELD = 'x-mozilla-external-attachment-url';
const MARKER_VALUE = /^Attachment(Deleted|Detached)\s*(?:;\s*date\s*=\s*"([^"]{0,100})")?/i;

/** The parts of `message` Thunderbird rewrote to delete or detach their attachment; null when none. */
export async function partsRemovedByClient(message: Buffer): Promise<RemovedByClient | null> {
  if (!includesAsciiIgnoringCase(message, MARKER)) return null;
  const layout = await mimeLayout(message);
  const parts: RemovedByClientPart[] = [];
  for (const leaf of layout.leaves) {
    if (leaf.partId === null || leaf.headerStart === null || leaf.contentStart === null) continue;
    const fields = parseHeaders(message.subarray(leaf.headerStart, leaf.contentStart)).fields;
    const markers = fields.filter((f) => f.name === MARKER);
    const match = markers.length === 1 ? MARKER_VALUE.exec(markers[0]!.value) : null;
    if (!match) continue;
    const removal = match[1]!.toLowerCase() === 'deleted' ? 'deleted' : 'detached';
    const urls = fields.filter((f) => f.name === URL_FIELD);
    const confirmed = removal === 'deleted' ? leaf.contentType === 'text/x-moz-deleted' : urls.length === 1 && urls[0]!.value !== '';
    if (!confirmed) continue;
    parts.push({
      partId: leaf.partId,
      removal,
      date: match[2] ?? null,
      url: removal === 'detached' ? urls[0]!.value : null,
      contentType: leaf.contentType,
      filename: leaf.filename,
      contentStart: leaf.contentStart,
    });
  }
  return parts.length ? { bodyStart: layout.bodyStart, parts } : null;
}
