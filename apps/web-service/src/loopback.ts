import { isIP } from 'node:net';

/** A host name or client address on this machine only: localhost, 127.0.0.0/8 (IPv4-mapped too), ::1. */
export function isLoopback(host: string): boolean {
  const bare = host
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
    .replace(/^::ffff:(?=\d+\.)/, '');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1';
}
