// Compiled by `tsc --noEmit` in test.sh: the declarations describe how the client is used.
import WebSocket from 'ws';
import { ProgressClient, ProgressHubError, shouldReconnect, type JobState } from '../../index.js';

const client = new ProgressClient('http://127.0.0.1:8080', {
  getToken: async () => 'token',
  WebSocket,
  backoff: { initialMs: 500, maxMs: 20000 },
});
client.on('connected', (e) => console.log(e.connectionId, e.heartbeatInterval.toFixed()));
client.on('disconnected', (e) => console.log(e.code, e.willReconnect, e.delayMs));
client.on('error', (e) => console.log(e.message));
const sub = client.watch('job-42', (state: JobState, info) => {
  const pct: number = state.progress;
  const replay: boolean = info.replay;
  console.log(state.status === 'completed' ? state.result : pct, replay);
});
sub.unsubscribe();
async function main(): Promise<void> {
  try {
    const done: JobState = await client.waitFor('job-42', { rejectOn: ['failed'], timeoutMs: 1000 });
    console.log(done.seq);
  } catch (e) {
    if (e instanceof ProgressHubError) console.log(e.code, e.state?.status, e.closeCode);
  }
  const reply = await client.cancel('job-42');
  console.log(reply.status, shouldReconnect(4401));
  client.close();
}
void main;
// @ts-expect-error a job id is a string
client.watch(42, () => {});
