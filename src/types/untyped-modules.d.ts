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

declare module 'mailauth/lib/tools.js' {
  /** Relaxed (or strict) DMARC alignment of fromDomain with one of domains: the aligned one, or false. */
  export function getAlignment(fromDomain: string, domains: string[], strict?: boolean): { domain: string } | false;
}

declare module 'mailauth/lib/dkim/message-parser.js' {
  const messageParser: { MessageParser: unknown };
  export default messageParser;
}

// WebAssembly is a global of Node, but its types live in TypeScript's DOM library, which this
// project does not load: what line-scan.ts uses of it.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number });
    readonly buffer: ArrayBuffer;
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
}
