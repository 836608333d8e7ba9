import type { TransportChoice, TransportLabel } from '../logic/transport';

const OPTIONS: readonly { value: TransportChoice; text: string; title: string }[] = [
  { value: 'auto', text: 'Auto', title: 'WebRTC, or LL-HLS when WebRTC cannot play' },
  { value: 'webrtc', text: 'WebRTC', title: 'Real time (about 0.1-0.2 s behind)' },
  { value: 'hls', text: 'LL-HLS', title: 'HTTP only (under a second behind)' },
];

export interface TransportBarProps {
  /** What plays now; null while nothing does (the label is hidden then). */
  label: TransportLabel | null;
  choice: TransportChoice;
  onChoose: (choice: TransportChoice) => void;
}

/** Under the video: which transport plays (and why not WebRTC), and the switch to choose. */
export function TransportBar({ label, choice, onChoose }: TransportBarProps) {
  return (
    <div className="transport-bar">
      <p className="transport-label" data-testid="transport" data-transport={label?.transport ?? 'none'}>
        {label ? (
          <>
            <span className={`transport-dot transport-dot-${label.transport}`} aria-hidden="true" />
            <span className="transport-text">{label.text}</span>
            {label.note && <span className="transport-note">{label.note}</span>}
          </>
        ) : (
          <span className="transport-text transport-idle">Not playing</span>
        )}
      </p>
      <div
        className="transport-switch"
        role="radiogroup"
        aria-label="How to play"
        data-testid="transport-choice"
      >
        {OPTIONS.map((option) => (
          <button
            key={option.value}
            type="button"
            role="radio"
            aria-checked={choice === option.value}
            className="transport-option"
            data-value={option.value}
            title={option.title}
            onClick={() => onChoose(option.value)}
          >
            {option.text}
          </button>
        ))}
      </div>
    </div>
  );
}
