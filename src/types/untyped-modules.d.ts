// Modules that ship no types (and have no @types package on the registry mirror): we declare only what we use.
declare module 'libmime' {
  /** Decodes RFC 2047 encoded words in a header value. */
  export function decodeWords(value: string): string;
  const libmime: { decodeWords(value: string): string };
  export default libmime;
}

declare module 'mailauth/lib/arc/trustlist.js' {
  const trustlist: { trusted: string[] };
  export default trustlist;
}

declare module 'mailauth/lib/dkim/message-parser.js' {
  const messageParser: { MessageParser: unknown };
  export default messageParser;
}
