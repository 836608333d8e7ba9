/**
 * Who a presented token is: AUTH_TOKENS and AUTH_TOKENS_FILE's entries, looked up in constant time
 * (each known token's SHA-256 compared with the presented one's by timingSafeEqual, every entry
 * tried). The file is re-read when its mtime or size changes, checked at most once a second; a file
 * that no longer parses keeps the last good entries and says why in the log.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { parseTokenFile, type Role, type TokenEntry } from './settings.js';

export interface Identity {
  readonly role: Role;
  readonly cameras: readonly string[] | '*';
}

interface Known {
  readonly digest: Buffer;
  readonly identity: Identity;
}

interface Logger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

const digestOf = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** Constant-time equality of two strings of any length (via equal-length digests). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digestOf(a), digestOf(b));
}

export class TokenStore {
  private fixed: readonly Known[];
  private fromFile: readonly Known[] = [];
  private fileStamp = '';
  private checkedAt = -Infinity;

  constructor(
    tokens: readonly TokenEntry[] | undefined,
    private readonly file: string | undefined,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    private readonly recheckMs = 1000,
  ) {
    this.fixed = (tokens ?? []).map(known);
    if (file !== undefined) this.reload(true);
  }

  /** Tokens are configured: every non-public route needs one. */
  get required(): boolean {
    return this.fixed.length > 0 || this.file !== undefined;
  }

  /** The identity of a token, or undefined for an unknown one. */
  lookUp(token: string): Identity | undefined {
    this.maybeReload();
    const digest = digestOf(token);
    let found: Identity | undefined;
    for (const entry of [...this.fixed, ...this.fromFile]) {
      // Every entry is compared, so the time taken does not tell which one matched.
      if (timingSafeEqual(entry.digest, digest) && found === undefined) found = entry.identity;
    }
    return found;
  }

  private maybeReload(): void {
    if (this.file === undefined || this.now() - this.checkedAt < this.recheckMs) return;
    this.reload(false);
  }

  /** At startup a missing or bad file is fatal (thrown); later it keeps the last good entries. */
  private reload(atStartup: boolean): void {
    this.checkedAt = this.now();
    const file = this.file!;
    try {
      const stats = statSync(file);
      const stamp = `${stats.mtimeMs}:${stats.size}:${stats.ino}`;
      if (stamp === this.fileStamp) return;
      const entries = parseTokenFile(readFileSync(file, 'utf8'));
      this.fileStamp = stamp;
      this.fromFile = entries.map(known);
      this.logger.info({ file, tokens: entries.length }, 'tokens file read');
    } catch (err) {
      const message = `AUTH_TOKENS_FILE=${file}: ${(err as Error).message}`;
      if (atStartup) throw new Error(message, { cause: err });
      this.logger.warn({ file }, `${message}; keeping the tokens read before`);
    }
  }
}

function known(entry: TokenEntry): Known {
  return { digest: digestOf(entry.token), identity: { role: entry.role, cameras: entry.cameras } };
}
