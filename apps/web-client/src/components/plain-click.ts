import type { MouseEvent } from 'react';

/**
 * A plain left click on a link the page handles itself (history.pushState). A middle click or one
 * with a modifier key keeps the browser's meaning: a new tab or window.
 */
export const isPlainClick = (event: MouseEvent): boolean =>
  event.button === 0 && !event.metaKey && !event.ctrlKey && !event.shiftKey && !event.altKey;
