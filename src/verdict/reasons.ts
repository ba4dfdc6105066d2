/**
 * The catalogue of reason codes a verdict can give. Codes are a public contract: they appear in
 * the database, in every export and in users' scripts, so a code is never renamed or reused.
 * docs/verdicts.md documents each one; a test checks that the two agree.
 */
export type Verdict = 'verified' | 'unverifiable' | 'suspicious';

export interface ReasonDefinition {
  /** the verdict this reason argues for */
  verdict: Verdict;
  /** one plain-language sentence for a reader who knows nothing of DKIM */
  text: string;
}

export const REASONS = {
  // --- verified ---
  'dkim-verified': {
    verdict: 'verified',
    text: 'A DKIM signature verifies with a strong key and covers the From header and the whole body: the domain that signed it sent this content.',
  },

  'rsa-sha1': {
    verdict: 'verified',
    text: 'The proving signature uses rsa-sha1, which RFC 8301 retired: SHA-1 collisions are within reach of a well-funded forger, so this proof is weaker than one made with rsa-sha256.',
  },

  // --- suspicious ---
  'dkim-body-modified': {
    verdict: 'suspicious',
    text: "The body no longer matches the hash the signature recorded: the text or attachments were changed after the message was signed. Under simple canonicalization (c=simple) a change of spaces or tabs alone, such as software makes, is enough.",
  },
  'arc-body-modified': {
    verdict: 'suspicious',
    text: "The body no longer matches the body hash of a trusted ARC sealer's ARC-Message-Signature, whose signed header fields still verify under the sealer's key: the body was changed after that sealer handled the message.",
  },
  'dkim-signature-mismatch': {
    verdict: 'suspicious',
    text: "The signature does not match the signed headers under the domain's key: a signed header (such as From, Subject or Date) was changed after signing, or the signature was forged. Under simple canonicalization (c=simple) re-folded headers or a header name in another letter case, such as software makes, are enough.",
  },
  'header-injected': {
    verdict: 'suspicious',
    text: 'A header that should appear once appears more times than the signature covers: an unsigned copy was added above the signed one, and mail programs show the added one.',
  },
  'content-header-ambiguous': {
    verdict: 'suspicious',
    text: 'Content-Type or Content-Transfer-Encoding appears twice and no signature by the From domain covers it: one copy was added after signing, and it changes how mail programs show the signed body.',
  },
  'part-header-end-ambiguous': {
    verdict: 'suspicious',
    text: "A MIME part's headers end with a line of spaces, which a relaxed signature cannot tell from an empty line: mail programs hide the text after it, so signed text may have been hidden after signing.",
  },
  'boundary-not-the-body': {
    verdict: 'suspicious',
    text: "The Content-Type, which the From domain's signature does not cover, names a MIME boundary that is not the one the body's parts begin with, or one that mail programs read differently: they show parts other than the message's own, as a replaced Content-Type makes them.",
  },
  'header-bare-cr': {
    verdict: 'suspicious',
    text: 'A header of a signed message holds a carriage return that does not end a line: programs disagree on where such a line ends, so some show headers or body text the signature does not cover.',
  },
  'body-content-after-l': {
    verdict: 'suspicious',
    text: 'The signature covers only the first part of the body (l= tag), and content was added after the signed part.',
  },
  // Findings of the header checks (docs/checks.md) that are evidence on their own: as reasons,
  // they need a sentence of their own in every summary, like the catalogue's codes.
  'header-nul': {
    verdict: 'suspicious',
    text: 'A header of a signed message holds a NUL byte: programs disagree on where such a header ends, so some show headers the signature does not cover.',
  },
  'header-line-not-a-field': {
    verdict: 'suspicious',
    text: 'A header line of a signed message is neither a header nor the continuation of one: verifiers join it to the header above, mail programs drop it, so the signed and the shown headers differ.',
  },
  'header-name-space': {
    verdict: 'suspicious',
    text: "A header line of a signed message writes a field name and its colon apart (`Name : value`): verifiers read it as a field, while Python's email package ends the header there and shows the rest as body text, so readers and the signature disagree on what the message says.",
  },
  'received-hops-backwards': {
    verdict: 'suspicious',
    text: "The servers' time stamps run backwards by more than 26 hours, and still do with any one of them left out: no time-zone error, nor one machine whose date was wrong, explains it, so the Received headers were not written in the order they claim.",
  },
  'signature-time-far-from-date': {
    verdict: 'suspicious',
    text: "The author's domain signed the message more than 26 hours away from the time its Date header gives, and no signature covers that Date: as when the Date was changed after signing.",
  },
  'conflicting-copy': {
    verdict: 'suspicious',
    text: 'Another copy of this message in the dump is verified by its sender\'s domain, and this copy differs from it in what that signature covers: the body or a shown header was changed.',
  },
  'reply-before-parent': {
    verdict: 'suspicious',
    text: 'This message and a reply to it in the dump (or the message it replies to) disagree on which came first by more than 27 hours, a signature proves one of the two dates, and this message\'s own server stamps agree with its date: its date was changed, or the message was made up.',
  },

  // --- unverifiable ---
  unsigned: {
    verdict: 'unverifiable',
    text: 'The message carries no DKIM signature, so nothing can prove or disprove it. Many genuine messages are unsigned.',
  },
  'key-not-found': {
    verdict: 'unverifiable',
    text: "The signing key could not be found (it was rotated out of DNS or never supplied), so the signature can't be checked. This is not evidence of forgery.",
  },
  'key-revoked': {
    verdict: 'unverifiable',
    text: 'The domain has revoked the signing key (empty p=), so the signature can no longer be checked.',
  },
  'key-too-weak': {
    verdict: 'unverifiable',
    text: 'The signing key is an RSA key under 1024 bits, which can be factored cheaply: a matching signature proves nothing, because anyone could have made it.',
  },
  'key-compromised': {
    verdict: 'unverifiable',
    text: "The signing key's private half is known to be public (it is on the compromised-keys list supplied): anyone could have made this signature, so it proves nothing.",
  },
  'key-invalid': {
    verdict: 'unverifiable',
    text: 'The published key record is malformed, of an unknown type, or does not allow this signature (its h=, s=, v= or k= tags), so the signature cannot be checked.',
  },
  'key-records-disagree': {
    verdict: 'unverifiable',
    text: 'Two records of the signing key, from different sources, disagree on what it may sign: the stricter one forbids this signature, the other would allow it. Which of them the domain published when the message was sent is not known, so the stricter one applies and nothing is proven.',
  },
  'unsupported-algorithm': {
    verdict: 'unverifiable',
    text: 'The signature uses an algorithm or canonicalization that DKIM verifiers do not support.',
  },
  'signature-malformed': {
    verdict: 'unverifiable',
    text: 'The DKIM-Signature header is malformed (missing or invalid tags), so it cannot be checked.',
  },
  'signature-expired': {
    verdict: 'unverifiable',
    text: "The signature's expiry (x= tag) rules it out: it is before the signature's own signing time (t=), which makes the signature invalid, or, for a signature without t=, it had passed at the earliest signing time (t=) of the message's other signatures.",
  },
  'signature-not-covering-from': {
    verdict: 'unverifiable',
    text: "The signature's h= tag leaves out the From header, so it says nothing about who the message is from; verifiers ignore such signatures (RFC 6376 section 6.1.1).",
  },
  'dns-error': {
    verdict: 'unverifiable',
    text: 'The key lookup failed with a DNS error, so the signature could not be checked. Re-run later or supply the key.',
  },
  'signature-not-aligned': {
    verdict: 'unverifiable',
    text: "A signature verifies, but by a domain that is not the From domain's: it proves that this domain sent these bytes, not that the From domain did. Anyone can sign a message bearing any From with a domain of their own.",
  },
  'content-type-not-signed': {
    verdict: 'unverifiable',
    text: "A signature by the From domain verifies, but not over the Content-Type, which declares something other than plain text, or a multipart subtype under which some of the parts would not be shown: the body's bytes are genuine, how a mail program shows them (as HTML, in which character set, which parts) is not proven.",
  },
  'key-likely-replaced': {
    verdict: 'unverifiable',
    text: "An Ed25519 signature does not verify with the key on record for its selector, and another signature of the same domain on this message was made with a key no longer on record for its selector (replaced, revoked or removed): either the domain has replaced its keys since the message was sent (then the Ed25519 key on record may not be the one that signed), or that other signature is not the domain's. Nothing is proven either way; the keys of the message's time, from a key archive, may be.",
  },
  'forwarded-message-ambiguous': {
    verdict: 'unverifiable',
    text: 'This forwarded message verifies, but the message that carried it has MIME boundaries that mail programs read differently: they do not agree on which bytes are the forwarded message, and some may show another one than the one verified here.',
  },
  'key-testing-failed': {
    verdict: 'unverifiable',
    text: "The signature does not verify, but its domain published the key in testing mode (t=y): it declared that its signing was still being tried out, and RFC 6376 asks that such mail be treated as unsigned even when the signature fails. A failure under a key in testing mode (a footer added by the domain's own server after signing, say) is no evidence of tampering.",
  },
  'key-not-signer': {
    verdict: 'unverifiable',
    text: "The signature does not verify with the key on record for its selector, and that key did not make it (the signature does not decode under it), so the failure says nothing about the content. The selector may have been given a new key since the message was sent, or the signature was made by someone else (forged) or corrupted: nothing is proven either way. The key that made it, from a key archive, may tell.",
  },
  'body-hash-mismatch-key-unknown': {
    verdict: 'unverifiable',
    text: 'The body does not match the hash in the signature, but without the key it cannot be told whether the signature was ever genuine.',
  },
  'body-stored-apart': {
    verdict: 'unverifiable',
    text: "Apple Mail kept an attachment of this message outside the message file (a .partial.emlx), so the body the signature hashed is not all here and its body hash cannot be checked. The signed headers do verify. This is not evidence of a change.",
  },
  'attachment-removed-by-client': {
    verdict: 'unverifiable',
    text: "Thunderbird's record in the message says its user deleted or detached an attachment, and the attachment's part is in the form Thunderbird leaves, so the body the signature hashed is not all here and its body hash cannot be checked. The signed headers do verify. The record alone shows no change, and cannot rule one out.",
  },
  'message-rebuilt-by-converter': {
    verdict: 'unverifiable',
    text: 'A converter (readpst, from an Outlook PST or OST file, which keeps no copy of a message as sent) wrote this message anew, so the bytes the signature covered are not all in this file. This is not evidence of a change, and cannot rule one out.',
  },
  'body-not-in-file': {
    verdict: 'unverifiable',
    text: "The file holds the message's header fields and no body (as pffexport writes an Outlook PST's messages, or as a header saved alone), so the signature's body hash cannot be checked. The signed headers do verify. This is not evidence of a change.",
  },
  'arc-only': {
    verdict: 'unverifiable',
    text: 'Only an ARC chain validates, and no DKIM signature proves the content: a well-known ARC sealer that sealed it last vouches that it handled this message, while any other sealer can be anyone with a key of their own.',
  },
  'analysis-failed': {
    verdict: 'unverifiable',
    text: 'The message could not be analysed (it took too long, as messages built to slow parsers down do, or it broke a parser), so nothing about it was checked.',
  },
  'repairs-not-all-tried': {
    verdict: 'unverifiable',
    text: 'A signature fails under the forms of the message tried, but the search for the form it was signed in stopped before trying every repair (the message carries many signatures): the failure may be how the message was stored, and is not taken as evidence.',
  },
  'signatures-not-checked': {
    verdict: 'unverifiable',
    text: 'The message carries more DKIM signatures than are checked (50, those claiming the From domain first): none of those checked proves it, and the others were not verified, so they prove nothing either way.',
  },
  'message-unparseable': {
    verdict: 'unverifiable',
    text: 'The message could not be parsed as an email, so no signature could be checked.',
  },
} as const satisfies Record<string, ReasonDefinition>;

export type ReasonCode = keyof typeof REASONS;

export const reasonText = (code: ReasonCode): string => REASONS[code].text;
