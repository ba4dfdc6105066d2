/**
 * File names that mail programs make up for parts their sender did not name (docs/documents.md,
 * "Names mail programs make up"). Thousands of unrelated emails send an `image001.png` each, so
 * a loose file of such a name with other bytes than one of them says nothing about which
 * document it is: a name conflict on it is a note, never a red flag.
 *
 * Each entry is matched against a name as normalizeFileName gives it (lower case, NFKC, blanks
 * collapsed). Kept short on purpose: every name here takes a red flag off a forgery named so.
 */
const GENERIC_NAMES: readonly RegExp[] = [
  // Outlook (Word as its editor) names every picture in a message body image001.png,
  // image002.jpg, …, counting from 001 in each message; Office's vector formats travel as .emz
  // and .wmz (superuser.com, "Outlook sends uninvited images as attachments": image001.gif; the
  // image types an inline part is sent as: [MS-OXCMAIL] 2.2.3.4.1.4.1).
  /^image\d{3}\.(?:png|jpe?g|gif|bmp|emz|wmz)$/,
  // Exchange and Outlook name a part that has no name ATT00001 with an extension from its type
  // (ATT00001.htm for a text part after an attachment, ATT00001.txt, ATT00001.dat: EveryCloud's
  // support article "ATT00001.htm or ATT00001.txt or Winmail.dat"); the older MS Mail gateway's
  // ATT1, ATT2 (Microsoft KB 99716) are left out: no dump of ours has met them.
  /^att\d{5}\.[a-z0-9]{1,5}$/,
  // Outlook's TNEF container for Rich Text mail (Microsoft Learn, "Attached files and messages":
  // "a single, binary attached file named Winmail.dat").
  /^winmail\.dat$/,
  // S/MIME's names for its own parts (RFC 8551 section 3.2.1: smime.p7m, smime.p7c, smime.p7s, smime.p7z).
  /^smime\.p7[mcsz]$/,
  // The name PGP/MIME signers give the application/pgp-signature part of RFC 3156 (the mail-gpg
  // gem's sign_part.rb: filename="signature.asc"; gpg-remailer's notes on Evolution's signed mail).
  /^signature\.asc$/,
  // Names readers and some senders give a part without one: "noname" (PHP's MIME parsers:
  // noname1, noname2), "unnamed", and Apple Mail's "Untitled attachment 00012.txt".
  /^(?:noname|unnamed|untitled attachment)(?: ?\d+)?(?:\.[a-z0-9]{1,5})?$/,
  // Outlook on the web and the new Outlook rename inline pictures Outlook-<8 random letters and
  // digits> (OfficeDev/office-js issue 5457: "Outlook-pwxxv2xa.png").
  /^outlook-[a-z0-9]{8}\.(?:png|jpe?g|gif|bmp)$/,
  // Gmail's web composer names every picture pasted into a message image.png (seen in the mail it
  // sends; Google documents no name). Its other types (image.jpg) are left out, unseen.
  /^image\.png$/,
];

/** Whether a normalised file name (normalizeFileName) is one mail programs give to parts their sender did not name. */
export function isGenericFileName(normalizedName: string | null): boolean {
  return normalizedName !== null && GENERIC_NAMES.some((pattern) => pattern.test(normalizedName));
}
