// React binding: useJobProgress(jobId, { client }) watches one job through a shared ProgressClient
// and re-renders with each new state. React is a peer dependency; this module adds nothing else.
import { useEffect, useState } from 'react';

const TERMINAL = ['completed', 'failed', 'cancelled'];

/**
 * @param {string | null | undefined} jobId the job to watch; nothing is watched while it is empty
 * @param {{ client: import('./index.js').ProgressClient, enabled?: boolean }} options
 */
export function useJobProgress(jobId, options) {
  const client = options?.client;
  const enabled = options?.enabled ?? true;
  if (!client) throw new TypeError('useJobProgress needs options.client (a ProgressClient)');
  const [view, setView] = useState({ jobId, state: null, error: null });
  const [connected, setConnected] = useState(client.connected);

  useEffect(() => {
    const up = () => setConnected(true);
    const down = () => setConnected(false);
    client.on('connected', up).on('disconnected', down).on('stopped', down);
    setConnected(client.connected);
    return () => {
      client.off('connected', up).off('disconnected', down).off('stopped', down);
    };
  }, [client]);

  useEffect(() => {
    setView({ jobId, state: null, error: null });
    if (!jobId || !enabled) return undefined;
    const onStopped = (error) => setView((v) => (v.jobId === jobId ? { ...v, error } : v));
    client.on('stopped', onStopped);
    const sub = client.watch(
      jobId,
      (state) => setView({ jobId, state, error: null }),
      { onError: (error) => setView((v) => ({ ...v, jobId, error })) },
    );
    return () => {
      client.off('stopped', onStopped);
      sub.unsubscribe();
    };
  }, [client, jobId, enabled]);

  const state = view.jobId === jobId ? view.state : null;
  const error = view.jobId === jobId ? view.error : null;
  return {
    state,
    status: state?.status ?? null,
    progress: state?.progress ?? null,
    done: state ? TERMINAL.includes(state.status) : false,
    error,
    connected,
  };
}
