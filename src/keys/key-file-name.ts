import { basename, win32 } from 'node:path';

/**
 * A key file named as the outputs name it: its file name, without the folders it was given with
 * (`/home/jane/cases/source-x/keys.json` reads `keys.json`), Windows paths too. The same keys at
 * two places then give the same explanations, and a published report does not show the analyst's
 * folders; the sha256 of each key file is on the run's record and in the manifest.
 */
export const keyFileName = (path: string): string => (/^[A-Za-z]:[\\/]|^\\\\/.test(path) ? win32.basename(path) : basename(path));

/** Where a key record came from, as the outputs name it: a key file by its file name, an archive or resolver as recorded. */
export const shownKeyOrigin = (source: string | null, origin: string): string => (source === 'file' ? keyFileName(origin) : origin);
