/** Which tiles are on screen: one IntersectionObserver for the grid, tiles register their element. */
import { useCallback, useEffect, useRef, useState } from 'react';

export interface Visibility {
  visible: ReadonlySet<string>;
  /** A ref callback for the tile of `id`. */
  observe: (id: string) => (element: HTMLElement | null) => void;
}

export function useVisible(): Visibility {
  const [visible, setVisible] = useState<ReadonlySet<string>>(new Set());
  const observer = useRef<IntersectionObserver | null>(null);
  const elements = useRef(new Map<string, HTMLElement>());

  useEffect(() => {
    if (typeof IntersectionObserver === 'undefined') {
      // No observer (a very old browser): every tile counts as visible; the cap still holds.
      setVisible(new Set(elements.current.keys()));
      return;
    }
    const made = new IntersectionObserver(
      (entries) =>
        setVisible((current) => {
          const next = new Set(current);
          for (const entry of entries) {
            const id = (entry.target as HTMLElement).dataset.cameraId;
            if (id === undefined) continue;
            if (entry.isIntersecting) next.add(id);
            else next.delete(id);
          }
          return next;
        }),
      // A little ahead of the scroll, so a tile's picture is loading as it comes into view.
      { rootMargin: '100px 0px' },
    );
    observer.current = made;
    for (const element of elements.current.values()) made.observe(element);
    return () => {
      made.disconnect();
      observer.current = null;
    };
  }, []);

  // One stable callback per tile: React calls it with the element on mount and null on unmount only.
  const callbacks = useRef(new Map<string, (element: HTMLElement | null) => void>());
  const observe = useCallback((id: string) => {
    let callback = callbacks.current.get(id);
    if (!callback) {
      callback = (element) => {
        const old = elements.current.get(id);
        if (old) {
          observer.current?.unobserve(old);
          elements.current.delete(id);
        }
        if (element) {
          elements.current.set(id, element);
          observer.current?.observe(element);
          return;
        }
        setVisible((current) => {
          if (!current.has(id)) return current;
          const next = new Set(current);
          next.delete(id);
          return next;
        });
      };
      callbacks.current.set(id, callback);
    }
    return callback;
  }, []);

  return { visible, observe };
}
