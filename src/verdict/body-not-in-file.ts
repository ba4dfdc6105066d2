import type { RemovedByClientPart } from '../attachments/removed-by-client.ts';
import type { StoredApartPart } from '../attachments/stored-apart.ts';
import { escapeControls } from '../checks/check-support.ts';
import { signatureLabel as label } from '../checks/signed-headers.ts';
import type { Finding } from '../checks/types.ts';
import { type RebuiltMessage, rewrittenFieldsSigned } from '../read/rebuilt-by-converter.ts';
import type { DkimSignatureResult } from '../verify/dkim.ts';
import type { ReasonCode } from './reasons.ts';
import type { VerdictInput } from './types.ts';
import { describeKey, listed } from './describe-signature.ts';

/**
 * A body hash that fails because the body it hashed is not (all) in the file: a mail program or a
 * converter changed what the file holds, on its user's behalf, in a form it names. Each case
 * gets a warning that says which program, which parts, and what is still proven (the signed
 * header fields, when they verify); none of them is evidence of tampering, nor a proof.
 */

/**
 * Why a failed body hash says nothing about a change: the body it hashed is not all in the file,
 * kept apart by Apple Mail or removed by Thunderbird at its user's request, or not in it at all,
 * the message having been written anew by a converter. Null otherwise.
 */
export function bodyNotInFile(sig: DkimSignatureResult, input: VerdictInput): { finding: Finding; reason: ReasonCode } | null {
  if (input.rebuiltBy) return { finding: rebuiltFinding(sig, input.rebuiltBy), reason: 'message-rebuilt-by-converter' };
  if (input.headerBlockOnly) return { finding: headerBlockOnlyFinding(sig), reason: 'body-not-in-file' };
  if (input.storedApart?.signatures.has(sig.index)) return { finding: storedApartFinding(sig, input.storedApart.parts), reason: 'body-stored-apart' };
  if (input.removedByClient?.signatures.has(sig.index)) return { finding: removedByClientFinding(sig, input.removedByClient.parts), reason: 'attachment-removed-by-client' };
  return null;
}

/** Why a body hash cannot be checked: the file holds no body at all. */
function headerBlockOnlyFinding(sig: DkimSignatureResult): Finding {
  const headers =
    sig.headerSignatureValid === true
      ? `The signed headers verify with ${describeKey(sig)}: the header fields it covers are as ${sig.tags.domain} signed them.`
      : sig.headerSignatureValid === false
        ? `The signed headers do not verify either (${describeKey(sig)}): a header field it covers was changed.`
        : '';
  return {
    code: 'body-not-in-file',
    severity: 'warning',
    text:
      `This file holds the message's header fields and no body, so the body hash signed by ${sig.tags.domain} cannot be checked: ` +
      "pffexport writes an Outlook PST's messages so (the header fields as received in InternetHeaders.txt, the text apart in Message.txt), and so does saving a message's header alone. " +
      `${headers} The body is not proven, and nothing here shows it changed; a copy of the whole message can be checked.`,
    evidence: { signature: label(sig), headerSignatureValid: sig.headerSignatureValid },
  };
}

/**
 * Why a body hash cannot be checked: a converter wrote the message anew (rebuilt-by-converter.ts),
 * and whether its signed headers still can be: they verify, or they cover a field the converter
 * rewrote, or they fail over fields it kept, which it does not account for.
 */
function rebuiltFinding(sig: DkimSignatureResult, rebuilt: RebuiltMessage): Finding {
  const rewritten = rewrittenFieldsSigned(rebuilt, sig.tags.signedHeaders);
  const headers =
    sig.headerSignatureValid === true
      ? `The signed headers still verify with ${describeKey(sig)}: the header fields it covers are as ${sig.tags.domain} signed them.`
      : sig.headerSignatureValid === false && rewritten.length
        ? `The signed headers do not verify either, and they cannot: the signature covers ${listed(rewritten)}, which the converter writes anew, so whether any other header it covers changed cannot be told from this file.`
        : sig.headerSignatureValid === false
          ? `The signed headers do not verify either (${describeKey(sig)}), and they cover none of the fields the converter writes anew: a header field it keeps was changed.`
          : '';
  return {
    code: 'message-rebuilt-by-converter',
    severity: 'warning',
    text:
      `This message was written anew by ${rebuilt.converter} (its MIME boundary is ${escapeControls(rebuilt.boundary, 80)}): ` +
      `the converter keeps the stored header fields, and builds the body again from the text and attachments Outlook kept, so the body ${sig.tags.domain} signed is not in this file and its body hash cannot be checked. ` +
      `${headers} Anyone can write such a message; a copy of the message as sent (the sender's, another recipient's, the server's) can be checked.`,
    evidence: {
      signature: label(sig),
      converter: rebuilt.converter,
      boundary: rebuilt.boundary,
      headerSignatureValid: sig.headerSignatureValid,
      rewrittenFieldsSigned: rewritten,
    },
  };
}

/**
 * Why a body hash cannot be checked: Thunderbird rewrote these parts when the mailbox's owner
 * deleted or detached their attachment, and dated its record of it (red team N, N-04).
 */
function removedByClientFinding(sig: DkimSignatureResult, parts: readonly RemovedByClientPart[]): Finding {
  const named = parts.map((p) => {
    const what = [p.filename, p.contentType].filter((x): x is string => x !== null).map((x) => escapeControls(x, 200));
    const when = p.date !== null ? ` on ${escapeControls(p.date, 100)}` : '';
    const where = p.url !== null ? `, saving it to ${escapeControls(p.url, 300)}` : '';
    return `part ${p.partId}${what.length ? ` (${what.join(', ')})` : ''}: attachment ${p.removal}${when}${where}`;
  });
  const headers = sig.headerSignatureValid === true ? `The signed headers verify with ${describeKey(sig)}, but the` : 'The';
  return {
    code: 'attachment-removed-by-client',
    severity: 'warning',
    text:
      `Thunderbird's record in the message (X-Mozilla-Altered) says its user deleted or detached an attachment, and the part is in the form Thunderbird leaves: ${named.join('; ')}. ` +
      `${headers} body hash signed by ${sig.tags.domain} covers the attachment as it was, so it cannot be checked from this file. ` +
      'Anyone can write that record into a message, so it does not show that nothing else in the body changed; a copy of the message from before the removal can be checked.',
    evidence: {
      signature: label(sig),
      headerSignatureValid: sig.headerSignatureValid,
      parts: parts.map((p) => ({ partId: p.partId, removal: p.removal, date: p.date, url: p.url, filename: p.filename, contentType: p.contentType })),
    },
  };
}

/**
 * Why a body hash cannot be checked: Apple Mail took the content of these parts out of the file.
 * The text names the parts and where Mail files their content; the evidence lists them.
 */
function storedApartFinding(sig: DkimSignatureResult, parts: readonly StoredApartPart[]): Finding {
  const named = parts.map((p) => {
    const what = [p.filename, p.contentType, `X-Apple-Content-Length ${p.appleContentLength}`].filter((x): x is string => x !== null).join(', ');
    return `part ${p.partId} (${what})`;
  });
  const places = parts.map((p) => `Attachments/N/${p.partId}/${p.filename ?? '…'} or N.${p.partId}.emlxpart`);
  const headers = sig.headerSignatureValid === true ? `The signed headers verify with ${describeKey(sig)}, but the` : 'The';
  return {
    code: 'body-stored-apart',
    severity: 'warning',
    text:
      `Apple Mail kept the content of ${named.join('; ')} outside this file, as it does in a .partial.emlx: the part is empty here. ` +
      `${headers} body hash signed by ${sig.tags.domain} covers that content, so it cannot be checked from this file. ` +
      `Mail keeps such content beside the message, in the mailbox's ${places.join('; ')} (N being the number in the file's name); leakcheck does not put it back.`,
    evidence: {
      signature: label(sig),
      headerSignatureValid: sig.headerSignatureValid,
      parts: parts.map((p) => ({ partId: p.partId, filename: p.filename, contentType: p.contentType, appleContentLength: p.appleContentLength })),
    },
  };
}
