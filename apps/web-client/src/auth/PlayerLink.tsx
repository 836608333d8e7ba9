import { useEffect, useState } from 'react';
import { authHeaders, currentToken } from './session';

export interface PlayerLinkProps {
  /** The stream's URL as the page plays it (events carry it unsigned: the page sends a header). */
  src: string;
  /** The camera's info route: with a token it answers a signed streamUrl. */
  infoUrl: string;
}

/**
 * The URL for players that cannot send a header (Safari, VLC, ffplay). Signed in, that is the signed
 * streamUrl the API hands out (fetched afresh; it expires), never the bare one they would be refused.
 */
export function PlayerLink({ src, infoUrl }: PlayerLinkProps) {
  const signedIn = currentToken() !== null;
  const [signed, setSigned] = useState<string | null>(null);

  useEffect(() => {
    if (!signedIn) return;
    const controller = new AbortController();
    fetch(infoUrl, { headers: authHeaders(), signal: controller.signal })
      .then(async (response): Promise<{ streamUrl?: unknown }> => (response.ok ? response.json() : {}))
      .then((body) => {
        if (typeof body.streamUrl === 'string' && body.streamUrl.includes('token='))
          setSigned(body.streamUrl);
      })
      .catch(() => undefined);
    return () => controller.abort();
  }, [signedIn, infoUrl, src]);

  const href = signedIn ? signed : src;
  if (href === null) return null;
  return (
    <p className="hint" data-testid="player-link">
      Any HLS player can watch too (Safari, VLC, ffplay)
      {signedIn && ', for a few minutes with this link'}:{' '}
      <a href={href}>{new URL(href, window.location.href).href}</a>
    </p>
  );
}
