/**
 * What the service reads in a WHEP offer, and writes into its answer, as SDP text (RFC 8866): only
 * what werift does not decide itself. The offer must be SDP with a video section that can receive
 * H.264 in packetization-mode 1 (RFC 6184), the only mode the output sends; among the browser's
 * H.264 formats the one closest to the camera's profile is chosen. The answer may gain host
 * candidates for WEBRTC_PUBLIC_IP (a NAT that forwards the same port: 1:1).
 */

export class OfferError extends Error {
  override name = 'OfferError';
}

export interface H264Format {
  readonly payloadType: number;
  /** The offer's fmtp line for it, as written (werift matches the answer's codec on it). */
  readonly parameters: string;
  readonly profileLevelId: string | undefined;
}

function fmtpParameters(fmtp: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of fmtp.split(';')) {
    const [key, value = ''] = pair.split('=');
    if (key?.trim()) out.set(key.trim().toLowerCase(), value.trim());
  }
  return out;
}

/** The H.264 formats (packetization-mode 1) of the offer's first video section that can receive. */
export function offeredH264(sdp: string): H264Format[] {
  const lines = sdp.split(/\r?\n/).map((line) => line.trim());
  if (lines[0] !== 'v=0') throw new OfferError('the body is not SDP (it must start with "v=0")');
  const start = lines.findIndex((line) => line.startsWith('m=video '));
  if (start < 0) throw new OfferError('the offer has no video section (m=video)');
  let end = lines.findIndex((line, i) => i > start && line.startsWith('m='));
  if (end < 0) end = lines.length;
  const section = lines.slice(start, end);
  if (section[0]!.split(' ')[1] === '0')
    throw new OfferError('the offer’s video section is rejected (port 0)');
  if (section.some((line) => line === 'a=sendonly' || line === 'a=inactive')) {
    throw new OfferError('the offer’s video section does not receive (recvonly or sendrecv needed)');
  }
  const fmtps = new Map<number, string>();
  for (const line of section) {
    const match = /^a=fmtp:(\d+) (.*)$/.exec(line);
    if (match) fmtps.set(Number(match[1]), match[2]!);
  }
  const formats: H264Format[] = [];
  for (const line of section) {
    const match = /^a=rtpmap:(\d+) H264\/90000$/i.exec(line);
    if (!match) continue;
    const payloadType = Number(match[1]);
    const parameters = fmtps.get(payloadType) ?? '';
    const parsed = fmtpParameters(parameters);
    if (parsed.get('packetization-mode') !== '1') continue;
    formats.push({ payloadType, parameters, profileLevelId: parsed.get('profile-level-id')?.toLowerCase() });
  }
  if (formats.length === 0) {
    throw new OfferError('the offer has no H.264 video in packetization-mode 1 (a=rtpmap:<pt> H264/90000)');
  }
  return formats;
}

/**
 * The format to answer with for a camera of `profileLevelId` (from its SPS): the same profile if
 * offered, else constrained baseline (42e0: every WebRTC browser decodes it), else the first.
 * Browsers decode a stream of a higher level than the one negotiated, so the level is not matched.
 */
export function chooseH264(formats: readonly H264Format[], profileLevelId: string): H264Format {
  const profile = profileLevelId.slice(0, 4).toLowerCase();
  return (
    formats.find((format) => format.profileLevelId?.slice(0, 4) === profile) ??
    formats.find((format) => format.profileLevelId?.slice(0, 2) === profile.slice(0, 2)) ??
    formats.find((format) => format.profileLevelId?.startsWith('42e0')) ??
    formats[0]!
  );
}

/**
 * The answer with a copy of each host candidate at `publicIp` (same port, lower priority): what a
 * NAT that forwards the port 1:1 makes reachable from outside.
 */
export function withPublicCandidates(sdp: string, publicIp: string): string {
  return sdp.replace(
    /^a=candidate:(\S+) (\d+) udp (\d+) (\S+) (\d+) typ host([^\r\n]*)/gim,
    (line, foundation: string, component: string, priority: string, _host, port: string, rest: string) =>
      `${line}\r\na=candidate:${foundation}p ${component} udp ${Number(priority) - 1} ${publicIp} ${port} typ host${rest}`,
  );
}
