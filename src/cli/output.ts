import { createWriteStream, type WriteStream } from 'node:fs';

export const DEFAULT_DB = './leakcheck.db';

export type Output = NodeJS.WritableStream;

export async function openOutput(path: string | undefined): Promise<Output> {
  if (!path) return process.stdout;
  const stream = createWriteStream(path);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  return stream;
}

export function write(out: Output, text: string): Promise<void> | void {
  if (!out.write(text)) return new Promise((resolve) => out.once('drain', () => resolve()));
}

export async function closeOutput(out: Output): Promise<void> {
  if (out === process.stdout) return;
  await new Promise<void>((resolve, reject) => (out as WriteStream).end((err?: Error | null) => (err ? reject(err) : resolve())));
}
