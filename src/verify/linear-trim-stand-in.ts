import Module, { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * mailauth trims the folding whitespace around every tag of a DKIM-Signature or ARC header, and
 * around every name of h=, with `/^[ \t\r\n]+|[ \t\r\n]+$/g`. V8 tries the second alternative
 * from every position of a run of whitespace and fails at the end of each: quadratic time. One
 * megabyte of spaces inside a signature kept an analysis thread busy past its time limit (the
 * fuzzer found it: `npm run fuzz -- --seed 1204 --case 1090`, over 60 s for one message), so a
 * hostile dump of such messages would cost minutes each. Imported before mailauth, this module
 * loads the two mailauth files that do it with that trim replaced by a linear one that gives the
 * same result; nothing else in them changes. Where the text to replace is not found (another
 * mailauth version) or the file is already loaded, nothing is replaced, and
 * tests/verify/linear-trim.test.ts fails: it checks that both were patched, and times a message
 * with 60 KB of spaces in a tag and in h= (7.4 s without the patch, milliseconds with it).
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

// Appended to each patched file. A function declaration is hoisted, so 'use strict' stays the
// first statement. (Node's type stripping leaves the function's source as plain JavaScript.)
const LINEAR_TRIM_SOURCE = `\nfunction __leakcheckLinearTrim(value) {\n    return (${trimFoldingWhitespace.toString()})(value);\n}\n`;

const PATCHES: ReadonlyArray<{ file: string; from: string; to: string }> = [
  {
    file: 'mailauth/lib/parse-dkim-headers.js',
    // used only as `segment.replace(FWS_EDGES, '')`, which calls the object's Symbol.replace
    from: 'const FWS_EDGES = /^[ \\t\\r\\n]+|[ \\t\\r\\n]+$/g;',
    to: 'const FWS_EDGES = { [Symbol.replace]: value => __leakcheckLinearTrim(value) };',
  },
  {
    file: 'mailauth/lib/dkim/dkim-verifier.js',
    from: ".map(name => name.replace(/^[ \\t\\r\\n]+|[ \\t\\r\\n]+$/g, '').toLowerCase())",
    to: '.map(name => __leakcheckLinearTrim(name).toLowerCase())',
  },
];

const require = createRequire(import.meta.url);
type InternalModule = Module & { _compile(source: string, filename: string): void };
const nodeModulePaths = (Module as unknown as { _nodeModulePaths(from: string): string[] })._nodeModulePaths;

/** The files patched here, by path (what the test checks). */
export const linearTrimPatched: string[] = [];

for (const { file, from, to } of PATCHES) {
  const path = require.resolve(file);
  if (require.cache[path]) continue;
  const source = readFileSync(path, 'utf8');
  if (source.split(from).length !== 2) continue;
  const module = new Module(path) as InternalModule;
  module.filename = path;
  module.paths = nodeModulePaths(dirname(path));
  module._compile(source.replace(from, to) + LINEAR_TRIM_SOURCE, path);
  module.loaded = true;
  require.cache[path] = module;
  linearTrimPatched.push(file);
}
