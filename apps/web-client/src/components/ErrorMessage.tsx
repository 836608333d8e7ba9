import type { ShownError } from '../logic/errors';

export interface ErrorMessageProps {
  error: ShownError;
  onDismiss?: () => void;
}

/** The one element tests find with `data-testid="error"`: plain words, the code in small print. */
export function ErrorMessage({ error, onDismiss }: ErrorMessageProps) {
  return (
    <div className="error" role="alert">
      <p className="error-message" data-testid="error">
        {error.message}
      </p>
      {error.detail && <p className="error-detail">{error.detail}</p>}
      <p className="error-code">
        <code>{error.code}</code>
        {onDismiss && (
          <button type="button" className="link-button" onClick={onDismiss}>
            Dismiss
          </button>
        )}
      </p>
    </div>
  );
}
