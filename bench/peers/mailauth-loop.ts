import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dkimVerify } from 'mailauth';
import { listFiles } from './list-files.ts';

/**
 * The baseline: mailauth's dkimVerify in a sequential in-process loop, keys from the same JSON
 * file, as a script would do it. Prints `{messages, passes}` as JSON.
 */
const [dir, keysFile] = process.argv.slice(2);
if (!dir || !keysFile) throw new Error('usage: mailauth-loop.ts DIR KEYS.json');
const keys = new Map(Object.entries(JSON.parse(readFileSync(keysFile, 'utf8')) as Record<string, string[]>).map(([k, v]) => [k.toLowerCase(), v]));
const resolver = async (name: string): Promise<string[][]> => {
  const txt = keys.get(name.toLowerCase());
  if (!txt) throw Object.assign(new Error('NXDOMAIN'), { code: 'ENOTFOUND' });
  return txt.map((t) => [t]);
};
const files = listFiles(dir);
let passes = 0;
for (const file of files) {
  const result = await dkimVerify(await readFile(file), { resolver, minBitLength: 1024 });
  if (result.results.some((r) => r.status.result === 'pass')) passes++;
}
process.stdout.write(`${JSON.stringify({ messages: files.length, passes })}\n`);
