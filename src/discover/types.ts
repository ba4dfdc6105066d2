/** A file found under the dump root. Paths use forward slashes, relative to the root. */
export interface DiscoveredFile {
  relPath: string;
  absPath: string;
  size: number;
  mtimeMs: number;
}

/** How the bytes of a file hold messages, decided by content, not only by extension. */
export type ContainerKind = 'eml' | 'maildir' | 'mbox' | 'emlx';

/** Why a file (or directory entry) holds no message for us. Stable codes: stored in the DB. */
export type SkipReason =
  | 'empty'
  | 'not-email'
  | 'binary'
  | 'symlink'
  | 'special-file'
  | 'unreadable'
  | 'vanished';

export type DiscoveryEntry =
  | { type: 'container'; file: DiscoveredFile; kind: ContainerKind }
  /** a regular file the caller chose to leave unopened, and why (see WalkOptions.leaveUnopened); size and mtime from lstat */
  | { type: 'unopened'; file: DiscoveredFile; because: string }
  | {
      type: 'skipped';
      relPath: string;
      absPath: string;
      size: number | null;
      mtimeMs: number | null;
      reason: SkipReason;
      /** plain-language detail, e.g. "PDF document" or "symlink to /etc/passwd" */
      detail: string;
      /** a directory that could not be listed: the files below it were not reached, not removed */
      directory?: true;
      /**
       * an entry not even lstat could look at (a directory above it may be listed but not
       * searched): a file or a directory, the walk cannot tell, so nothing below it was reached either
       */
      unexamined?: true;
    };
