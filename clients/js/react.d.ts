// Types of the React binding (react.js).
import type { JobState, JobStatus, ProgressClient, ProgressHubError } from './index.js';

export interface UseJobProgressOptions {
  /** A client shared by the app (create it once, outside components). */
  client: ProgressClient;
  /** Watch only while true (default true). */
  enabled?: boolean;
}

export interface JobProgress {
  /** The latest state, null until the first one arrives. */
  state: JobState | null;
  status: JobStatus | null;
  progress: number | null;
  /** Whether the job reached completed, failed or cancelled. */
  done: boolean;
  /** Why the watch failed (e.g. job_not_found) or the client stopped. */
  error: ProgressHubError | Error | null;
  /** Whether the client's socket is open and authenticated. */
  connected: boolean;
}

export declare function useJobProgress(jobId: string | null | undefined, options: UseJobProgressOptions): JobProgress;
