/**
 * The least of HTTP/1.1 an egress worker reads: a request head, and whether it is a plain
 * `GET /hls/…` it may answer. Anything else (another method or version, a body, a header that
 * changes the answer or the connection, anything Node's parser might judge otherwise) is the
 * service's: the worker hands the connection back with the bytes. Pure.
 */

/** A head longer than this is handed off (Node's limit is the service's maxHeaderSize, 16 kB). */
export const MAX_HEAD = 8 * 1024;

export type HeadVerdict =
  /** No complete head yet. */
  | { readonly kind: 'incomplete' }
  /** The service's to answer. */
  | { readonly kind: 'hand-off' }
  /** A plain GET of `url` (it starts with /hls/), its head `length` bytes long. */
  | { readonly kind: 'get'; readonly url: string; readonly length: number };

const INCOMPLETE: HeadVerdict = { kind: 'incomplete' };
const HAND_OFF: HeadVerdict = { kind: 'hand-off' };
const END = Buffer.from('\r\n\r\n');
/** A header name (RFC 9110 token) and a value of printable ASCII (no obs-fold, no control bytes). */
const HEADER = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([\x20-\x7e]*?)[ \t]*$/;
/** The request line: the target printable, no spaces. */
const REQUEST_LINE = /^GET (\/hls\/[\x21-\x7e]*) HTTP\/1\.1$/;
/** Headers whose presence changes what the service would do: the door, a body, the connection. */
const SERVICE_HEADERS = new Set([
  'authorization',
  'content-length',
  'transfer-encoding',
  'expect',
  'upgrade',
  'http2-settings',
]);

/** Reads the request head at the start of `bytes`. */
export function readRequestHead(bytes: Buffer): HeadVerdict {
  const end = bytes.indexOf(END);
  if (end === -1) return bytes.length > MAX_HEAD ? HAND_OFF : INCOMPLETE;
  if (end > MAX_HEAD) return HAND_OFF;
  const lines = bytes.toString('latin1', 0, end).split('\r\n');
  const request = REQUEST_LINE.exec(lines[0]!);
  if (!request) return HAND_OFF;
  let host = 0;
  for (let i = 1; i < lines.length; i += 1) {
    const header = HEADER.exec(lines[i]!);
    if (!header) return HAND_OFF;
    const name = header[1]!.toLowerCase();
    if (name === 'host') host += 1;
    else if (SERVICE_HEADERS.has(name)) return HAND_OFF;
    // Node keeps the connection open for HTTP/1.1 unless told otherwise: only that is answered here.
    else if (name === 'connection' && header[2]!.toLowerCase() !== 'keep-alive') return HAND_OFF;
  }
  if (host !== 1) return HAND_OFF;
  return { kind: 'get', url: request[1]!, length: end + END.length };
}
