// The React test page's app: useJobProgress in StrictMode (which mounts every effect twice).
// Bundled with esbuild by browser.test.mjs; the page reads server, token and job from its query.
import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { ProgressClient } from '../../index.js';
import { useJobProgress } from '../../react.js';

const params = new URLSearchParams(location.search);
const client = new ProgressClient(params.get('server'), {
  token: params.get('token'),
  backoff: { initialMs: 200, maxMs: 2000 },
});

function Job({ jobId }) {
  const { state, status, progress, done, error, connected } = useJobProgress(jobId, { client });
  return (
    <div id="job" data-job={jobId} data-connected={String(connected)} data-done={String(done)}>
      <span id="status">{status ?? 'none'}</span> <span id="progress">{progress ?? ''}</span>{' '}
      <span id="stage">{state?.stage ?? ''}</span> <span id="seq">{state?.seq ?? ''}</span>
      <span id="error">{error ? error.code : ''}</span>
    </div>
  );
}

function App() {
  const [jobId, setJobId] = useState(params.get('job'));
  window.showJob = setJobId;
  return <Job jobId={jobId} />;
}

createRoot(document.getElementById('root')).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
