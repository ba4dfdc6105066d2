import Module, { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Small changes to mailauth's source, made as its files load: imported before mailauth, this
 * module compiles the files named below with each listed text replaced, and nothing else in
 * them changed. Where a text to replace is not found (another mailauth version) or a file is
 * already loaded, that file is left as it is, and tests/verify/mailauth-patches.test.ts fails:
 * it checks that every patch was made. Each patch says why it exists:
 *
 * - `linear-trim` (two files): mailauth trims the folding whitespace around every tag of a
 *   DKIM-Signature or ARC header, and around every name of h=, with `/^[ \t\r\n]+|[ \t\r\n]+$/g`.
 *   V8 tries the second alternative from every position of a run of whitespace and fails at the
 *   end of each: quadratic time. One megabyte of spaces inside a signature kept an analysis
 *   thread busy past its time limit (the fuzzer found it: seed 1204, case 1090, over 60 s for
 *   one message). Replaced by a linear trim that gives the same result.
 * - `linear-unfold`: mailauth joins the lines of a folded header field bottom-up, one
 *   `concat` and one `splice` of the whole list of lines for each continuation line: quadratic
 *   in the lines of the header block. A 360 KB header of 30,000 short folds (red team, round 4)
 *   took longer than a message's time limit, so an altered message carrying one came out
 *   `analysis-failed` (unverifiable) instead of `dkim-body-modified` (suspicious). Replaced by
 *   one pass that makes the same rows.
 * - `signature-length`: an RSA signature is checked as the number its b= encodes, written at
 *   the key's length. OpenSSL refuses a signature of any other length, and one signature in 256
 *   starts with a zero byte that a signer writing the number's minimal bytes leaves out (or one
 *   that pads it writes twice): a genuine, unaltered message then failed against the key that
 *   made it, which leakcheck reads as tampering (red team 28, F-02). dkimpy and other verifiers
 *   that work on the integer accept it. A signature read so carries the warning
 *   `signature-length`, reported as a lenient reading (src/checks/lenient-acceptance.ts).
 * - `result-header-line`: each DKIM result carries the header line it was computed for
 *   (`leakcheckHeaderLine`). leakcheck paired results with its own reading of the header fields
 *   by `b=` alone; a decoy copy of a genuine signature (same `b=`, a tag mailauth cannot
 *   process, placed above it) then took the genuine signature's "pass", and the checks read the
 *   decoy's `h=` (red team, round 4). See matchResults in dkim.ts.
 * - `signatures-checked`: the verifier can be told which DKIM-Signature fields to verify
 *   (`leakcheckChecked`, given each field's raw line); the others are left out before their tags
 *   are even read, and have no result, as a signature it cannot process has none. For each
 *   signature it looked up the Content-Type field among all header fields and told every body
 *   hasher of it: quadratic, and a signature with its own l= or c= hashed the whole body once
 *   more; it also kept every signature's tags, result and canonicalized header. 19,000 junk signatures on
 *   a 2 MB message took 7.3 s and 401 MB (thirty-fifth round); dkim.ts verifies at most
 *   MAX_SIGNATURES_CHECKED. The message bytes are never changed to leave the others out: a
 *   signature may sign DKIM-Signature fields.
 * - `relaxed-line`: the relaxed canonical form of each signed header line (RFC 6376 section
 *   3.4.2) was made by five regular-expression passes over the line, two of which change
 *   nothing on most lines (no fold, no blank run): about 1.2 % of the analysis. The same steps,
 *   each skipped when it has nothing to change (relaxedLineText).
 */

/**
 * What `value.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '')` gives, in linear time. Self-contained,
 * because its own source text is what the patched files are given (below): one implementation,
 * the one the tests compare with the regular expression.
 */
export function trimFoldingWhitespace(value: string): string {
  const fws = (code: number): boolean => code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0a;
  let start = 0;
  let end = value.length;
  while (start < end && fws(value.charCodeAt(start))) start++;
  while (end > start && fws(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

/**
 * mailauth's backward fold-joining loop, in one forward-built pass: a line joins the field
 * above when startsField, given the line and the first line that joined it, says it starts
 * none (the test is mailauth's own, called with what it would have been given), and the first
 * line always starts a row. Self-contained, like trimFoldingWhitespace: its source is appended
 * to the patched file.
 */
export function joinFoldedRows(rows: string[][], startsField: (row: string[]) => boolean): string[][] {
  const out: string[][] = [];
  /** lines that joined the line above them, bottom-up */
  let joined: string[] = [];
  for (let i = rows.length - 1; i >= 0; i--) {
    const line = rows[i]![0]!;
    if (i > 0 && !startsField(joined.length ? [line, joined[joined.length - 1]!] : [line])) {
      joined.push(line);
      continue;
    }
    joined.reverse();
    out.push([line, ...joined]);
    joined = [];
  }
  return out.reverse();
}

/**
 * An RSA signature (its b= decoded) written at the length of a key of modulusBits bits: a
 * shorter one left-padded with zero bytes, a longer one stripped of leading zero bytes only.
 * Either is the same number (RFC 8017, OS2IP), so this changes what is compared with the key in
 * no way but its encoding; `signature-length` is added to warnings when it was needed.
 * modulusBits 0 (not an RSA key) or a length that fits returns the signature as it is, and so
 * does a longer one whose extra bytes are not zeros (no number under the modulus).
 * Self-contained, like trimFoldingWhitespace: its source is appended to the patched file.
 */
export function signatureOfKeyLength(signature: Buffer, modulusBits: number, warnings: string[] | null): Buffer {
  const size = Math.ceil(modulusBits / 8);
  if (!size || signature.length === size) return signature;
  let fitted: Buffer | null = null;
  if (signature.length < size) fitted = Buffer.concat([Buffer.alloc(size - signature.length), signature]);
  else if (signature.subarray(0, signature.length - size).every((byte) => byte === 0)) fitted = signature.subarray(signature.length - size);
  if (!fitted) return signature;
  if (warnings && !warnings.includes('signature-length')) warnings.push('signature-length');
  return fitted;
}

/**
 * mailauth's formatRelaxedLine on a line already read as a 'binary' string, before its suffix:
 * folds taken out (`/\r?\n/g`), the field name before the first colon lower-cased (by mailauth's
 * own `lowerCase`) with the blanks around it and after the colon dropped, every run of spaces and
 * tabs made one space, and one space dropped at either end. Each step as mailauth's regular
 * expression does it, skipped where it would change nothing. Self-contained, like
 * trimFoldingWhitespace: its source is appended to the patched file.
 */
export function relaxedLineText(text: string, lowerCase: (name: string) => string): string {
  const blank = (code: number): boolean => code === 0x20 || code === 0x09;
  let line = text.includes('\n') ? text.replace(/\r?\n/g, '') : text;
  const colon = line.indexOf(':');
  if (colon !== -1) {
    let after = colon + 1;
    while (after < line.length && blank(line.charCodeAt(after))) after++;
    const name = lowerCase(line.slice(0, colon));
    let start = 0;
    let end = name.length;
    while (start < end && blank(name.charCodeAt(start))) start++;
    while (end > start && blank(name.charCodeAt(end - 1))) end--;
    line = `${name.slice(start, end)}:${line.slice(after)}`;
  }
  if (/\t| {2}/.test(line)) line = line.replace(/[ \t]+/g, ' ');
  if (line.charCodeAt(0) === 0x20) line = line.slice(1);
  if (line.charCodeAt(line.length - 1) === 0x20) line = line.slice(0, -1);
  return line;
}

// Appended to patched files. A function declaration is hoisted, so 'use strict' stays the first
// statement. (Node's type stripping leaves the functions' source as plain JavaScript.)
const LINEAR_TRIM_SOURCE = `\nfunction __leakcheckLinearTrim(value) {\n    return (${trimFoldingWhitespace.toString()})(value);\n}\n`;
const SIGNATURE_LENGTH_SOURCE = `\nfunction __leakcheckSignatureOfKeyLength(signature, modulusBits, warnings) {\n    return (${signatureOfKeyLength.toString()})(signature, modulusBits, warnings);\n}\n`;
const RELAXED_LINE_SOURCE = `\nfunction __leakcheckRelaxedLineText(text, lowerCase) {\n    return (${relaxedLineText.toString()})(text, lowerCase);\n}\n`;
const JOIN_FOLDS_SOURCE = `\nfunction __leakcheckJoinFoldedRows(rows, startsField) {\n    return (${joinFoldedRows.toString()})(rows, startsField);\n}\n`;

interface Patch {
  name: string;
  from: string;
  to: string;
  /** helper source appended to the file */
  append?: string;
}

const PATCHES: ReadonlyArray<{ file: string; patches: Patch[] }> = [
  {
    file: 'mailauth/lib/parse-dkim-headers.js',
    patches: [
      {
        name: 'linear-trim',
        // used only as `segment.replace(FWS_EDGES, '')`, which calls the object's Symbol.replace
        from: 'const FWS_EDGES = /^[ \\t\\r\\n]+|[ \\t\\r\\n]+$/g;',
        to: 'const FWS_EDGES = { [Symbol.replace]: value => __leakcheckLinearTrim(value) };',
        append: LINEAR_TRIM_SOURCE,
      },
    ],
  },
  // in the order the files require each other (tools.js requires parse-dkim-headers.js, the
  // verifier tools.js): a file already loaded is not patched
  {
    file: 'mailauth/lib/tools.js',
    patches: [
      {
        name: 'linear-unfold',
        from: `    for (let i = rows.length - 1; i > 0; i--) {
        if (!startsField(rows[i])) {
            rows[i - 1] = rows[i - 1].concat(rows[i]);
            rows.splice(i, 1);
        }
    }
`,
        to: '    rows = __leakcheckJoinFoldedRows(rows, startsField);\n',
        append: JOIN_FOLDS_SOURCE,
      },
      {
        name: 'relaxed-line',
        from: `        (line || '')
            .toString('binary')
            // unfold
            .replace(/\\r?\\n/g, '')
            // key to lowercase, trim around :
            .replace(/^([^:]*):[ \\t]*/, (m, k) => lowerCaseASCII(k).replace(/^[ \\t]+|[ \\t]+$/g, '') + ':')
            // single WSP
            .replace(/[ \\t]+/g, ' ')
            // no WSP around the value
            .replace(/^ | $/g, '') + (suffix ? suffix : '');
`,
        to: "        __leakcheckRelaxedLineText((line || '').toString('binary'), lowerCaseASCII) + (suffix ? suffix : '');\n",
        append: RELAXED_LINE_SOURCE,
      },
    ],
  },
  {
    file: 'mailauth/lib/dkim/dkim-verifier.js',
    patches: [
      {
        name: 'linear-trim',
        from: ".map(name => name.replace(/^[ \\t\\r\\n]+|[ \\t\\r\\n]+$/g, '').toLowerCase())",
        to: '.map(name => __leakcheckLinearTrim(name).toLowerCase())',
        append: LINEAR_TRIM_SOURCE,
      },
      {
        name: 'signature-length',
        from: "                            Buffer.from(signatureHeader.parsed?.b?.value || '', 'base64')\n                        )\n                            ? 'pass'",
        to: "                            __leakcheckSignatureOfKeyLength(Buffer.from(signatureHeader.parsed?.b?.value || '', 'base64'), signatureHeader.signAlgo === 'rsa' ? modulusLength || 0 : 0, warnings)\n                        )\n                            ? 'pass'",
        append: SIGNATURE_LENGTH_SOURCE,
      },
      {
        name: 'result-header-line',
        from: '            signature: signatureHeader.parsed?.b?.value,\n',
        to: '            signature: signatureHeader.parsed?.b?.value,\n            leakcheckHeaderLine: Buffer.isBuffer(signatureHeader.original) ? signatureHeader.original.toString(\'binary\') : signatureHeader.original,\n',
      },
      {
        name: 'signatures-checked',
        from: "            .filter(h => h.key === 'dkim-signature')\n",
        to: "            .filter(h => h.key === 'dkim-signature' && (typeof this.options.leakcheckChecked !== 'function' || this.options.leakcheckChecked(h.line)))\n",
      },
    ],
  },
];

const require = createRequire(import.meta.url);
type InternalModule = Module & { _compile(source: string, filename: string): void };
const nodeModulePaths = (Module as unknown as { _nodeModulePaths(from: string): string[] })._nodeModulePaths;

/** The patches made, as `file: name` (what the test checks). */
export const mailauthPatched: string[] = [];

for (const { file, patches } of PATCHES) {
  const path = require.resolve(file);
  if (require.cache[path]) continue;
  let source = readFileSync(path, 'utf8');
  // all of a file's patches, or none: a half-patched file would be a version nobody tested
  if (!patches.every((p) => source.split(p.from).length === 2)) continue;
  const appended = new Set<string>();
  for (const p of patches) {
    source = source.replace(p.from, () => p.to);
    if (p.append) appended.add(p.append);
  }
  const module = new Module(path) as InternalModule;
  module.filename = path;
  module.paths = nodeModulePaths(dirname(path));
  module._compile(source + [...appended].join(''), path);
  module.loaded = true;
  require.cache[path] = module;
  for (const p of patches) mailauthPatched.push(`${file}: ${p.name}`);
}
