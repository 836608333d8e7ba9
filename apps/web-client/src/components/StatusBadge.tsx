import type { Badge } from '../logic/view';

export interface StatusBadgeProps {
  /** What the badge is about, e.g. "Camera". */
  title: string;
  badge: Badge;
  testId: string;
}

/** A coloured dot and words; `data-state` carries the machine-readable state. */
export function StatusBadge({ title, badge, testId }: StatusBadgeProps) {
  return (
    <div className="status">
      <span className="status-title">{title}</span>
      <span className={`badge badge-${badge.tone}`} data-testid={testId} data-state={badge.state}>
        <span className="badge-dot" aria-hidden="true" />
        <span className="badge-label">{badge.label}</span>
      </span>
      {badge.detail && <span className="status-detail">{badge.detail}</span>}
    </div>
  );
}
