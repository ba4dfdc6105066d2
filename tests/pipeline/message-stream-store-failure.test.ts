import { describe, expect, it } from 'vitest';
import { analyzeStream } from '../../src/pipeline/message-stream.ts';
import { createAnalyzer } from '../../src/pipeline/worker-pool.ts';
import type { RawMessage } from '../../src/read/types.ts';
import { genuine, lookup } from './support.ts';

/*
 * A batch the store could not write (a full disk) is the run's failure, not the stream's: it was
 * caught with the stream's read errors, and the mbox recorded as partly read, "disk I/O error",
 * when the next write happened to succeed.
 */
describe('analyzeStream: a batch the store refuses', () => {
  it('is thrown to the caller, never recorded as the file read error', async () => {
    const analyzer = createAnalyzer(lookup, { workers: 0 });
    try {
      // more than one batch, so that the first is handed on while the stream is still read
      const source = Array.from({ length: 300 }, (_, index): RawMessage => ({ index, offset: index * genuine.length, raw: genuine, format: 'mbox' }));
      let batches = 0;
      const onBatch = async (): Promise<void> => {
        if (batches++ === 0) throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' });
      };
      await expect(analyzeStream(source, analyzer, onBatch)).rejects.toMatchObject({ message: 'disk I/O error', code: 'SQLITE_IOERR_WRITE' });
      expect(batches).toBe(1);
    } finally {
      await analyzer.close();
    }
  }, 60_000);
});
