import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { AuthGate } from './auth/AuthGate';
import { PlayerOnly } from './PlayerOnly';
import { Root } from './Root';
import { StatsCollector } from './stats/collector';
import { pageMode } from './stats/page-mode';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
const mode = pageMode(window.location.search, window.location.href);
// One collector for the page's life: window.__camstreamStats is there from the start.
const stats = mode.stats ? new StatsCollector(window) : undefined;
createRoot(root).render(
  <StrictMode>
    {mode.src !== null && stats ? (
      <PlayerOnly src={mode.src} lowLatency={mode.lowLatency} stats={stats} />
    ) : (
      <AuthGate>
        <Root stats={stats} />
      </AuthGate>
    )}
  </StrictMode>,
);
