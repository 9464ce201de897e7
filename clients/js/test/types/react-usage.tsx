// Compiled by `tsc --noEmit` in test.sh: the React binding's declarations.
import { ProgressClient } from '../../index.js';
import { useJobProgress } from '../../react.js';

const client = new ProgressClient('https://hub.example.com', { token: 'token' });

export function JobBar({ jobId }: { jobId: string }) {
  const { state, progress, done, error, connected } = useJobProgress(jobId, { client });
  if (error) return <p role="alert">{error.message}</p>;
  return (
    <div data-connected={connected}>
      <progress max={100} value={progress ?? 0} />
      {state?.stage ?? ''} {done ? state?.status : null}
    </div>
  );
}
