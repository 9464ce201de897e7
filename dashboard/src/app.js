// The dashboard's entry point: signs in with a token (pasted, or from `#token=` in the link that
// `progress-hub serve` prints), then routes between the jobs table (#/), one job (#/jobs/{id}) and,
// for admins, the connections (#/connections). The token stays in this tab's sessionStorage and
// goes only into Authorization headers and the WebSockets' first `auth` message.
import { Api, ApiError } from './api.js';
import { ConnectionsView } from './connections.js';
import { claims } from './format.js';
import { JobView } from './job.js';
import { JobsView } from './jobs.js';
import { LiveJobs } from './live.js';
import { Monitor } from './monitor.js';
import { alertError } from './ui.js';

const TOKEN_KEY = 'progress-hub.token';
/** What the page sends as its token to a server run with --insecure-no-auth, which reads none. */
const NO_AUTH = 'insecure-no-auth';
const $ = (id) => document.getElementById(id);

let session = null; // {token, api, live, monitor, admin, views}

/** Takes a token given in the address (`#token=...`) and removes it from there and from history. */
function tokenFromAddress() {
  const match = /^#token=([^&]+)/.exec(location.hash);
  if (!match) return null;
  history.replaceState(null, '', location.pathname + location.search);
  return decodeURIComponent(match[1]);
}

async function signIn(token) {
  signOut(false);
  const api = new Api(() => token);
  try {
    await api.jobs({ limit: 1 });
  } catch (e) {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn(
      e instanceof ApiError && e.status === 401
        ? 'This token was refused: it is expired, malformed or signed with another secret. Ask for a new one.'
        : `Cannot sign in: ${e.message}`,
    );
    return;
  }
  if (token !== NO_AUTH) sessionStorage.setItem(TOKEN_KEY, token);
  const claimed = token === NO_AUTH ? { sub: 'developer', role: 'admin' } : claims(token);
  // A token without a role claim may still be an admin's (an opaque one): the server says.
  let admin = claimed.role === 'admin' || claimed.role === undefined;
  if (admin) {
    try {
      await api.stats();
    } catch (e) {
      admin = !(e instanceof ApiError && e.status === 403);
    }
  }
  const live = new LiveJobs(token, {
    onConnection: (connected, detail) => setLiveState(connected ? 'on' : 'off', detail),
    onFatal: (err) => {
      setLiveState('off', 'offline');
      if (err?.code === 'unauthorized') alertError('Live updates stopped: the token expired or was refused. Sign in again.');
      else if (err) alertError(`Live updates stopped: ${err.message}`);
    },
  });
  const listeners = new AbortController();
  const jobs = new JobsView(api, live, listeners.signal);
  session = {
    token,
    api,
    live,
    admin,
    listeners,
    views: {
      jobs,
      job: new JobView(api, live, () => admin, listeners.signal),
      connections: admin ? new ConnectionsView(api, listeners.signal) : null,
    },
    monitor: null,
  };
  document.body.dataset.role = admin ? 'admin' : claimed.role ?? 'subscriber';
  for (const el of document.querySelectorAll('[data-admin]')) el.hidden = !admin;
  $('sign-in').hidden = true;
  $('nav').hidden = false;
  $('who').hidden = false;
  $('who-name').textContent = `${claimed.sub ?? 'unknown'} (${admin ? 'admin' : claimed.role ?? 'subscriber'})`;
  if (admin) {
    session.monitor = new Monitor(api, token, {
      onFigures: showFigures,
      onJob: () => jobs.onJobEvent(),
      onMode: (monitorLive) => {
        jobs.setPolling(!monitorLive);
        $('fig-source').textContent = monitorLive ? 'live from /ws/monitor' : 'polled from /api/stats';
      },
    });
  }
  route();
}

function signOut(forget = true) {
  if (forget) sessionStorage.removeItem(TOKEN_KEY);
  if (!session) return;
  session.monitor?.close();
  session.live.close();
  session.listeners.abort();
  for (const view of Object.values(session.views)) view?.hide();
  session = null;
  $('nav').hidden = true;
  $('who').hidden = true;
  for (const el of document.querySelectorAll('[data-admin]')) el.hidden = true;
}

function showSignIn(error = '') {
  signOut(false);
  for (const view of document.querySelectorAll('.view')) view.hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-error').textContent = error;
  $('token-input').focus();
}

function route() {
  if (!session) return;
  alertError(null);
  const { jobs, job, connections } = session.views;
  const hash = location.hash;
  const jobMatch = /^#\/jobs\/(.+)$/.exec(hash);
  jobs.hide();
  job.hide();
  connections?.hide();
  $('nav-jobs').removeAttribute('aria-current');
  $('nav-connections').removeAttribute('aria-current');
  if (jobMatch) {
    job.show(decodeURIComponent(jobMatch[1]));
  } else if (hash === '#/connections' && connections) {
    $('nav-connections').setAttribute('aria-current', 'page');
    session.live.show([], () => {}); // no job on this view to keep live
    connections.show();
  } else {
    $('nav-jobs').setAttribute('aria-current', 'page');
    jobs.show();
  }
}

function setLiveState(state, text) {
  const el = $('live-state');
  el.dataset.state = state;
  el.textContent = text;
}

function showFigures(f) {
  const number = (v, digits = 0) => (typeof v === 'number' ? v.toLocaleString('en', { maximumFractionDigits: digits }) : '–');
  $('fig-connections').textContent = number(f.connections);
  $('fig-subscriptions').textContent = number(f.subscriptions);
  $('fig-deliveries').textContent = number(f.deliveriesPerSecond, 1);
  $('fig-publishes').textContent = number(f.publishesPerSecond, 1);
  $('fig-store').textContent = typeof f.storeP99Ms === 'number' ? `${number(f.storeP99Ms, 1)} ms` : '–';
  $('fig-in-progress').textContent = number(f.inProgress);
  $('figures').dataset.updated = String(Date.now());
}

$('sign-in-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const token = $('token-input').value.trim();
  $('token-input').value = '';
  if (token) signIn(token);
});
$('sign-out').addEventListener('click', () => {
  signOut();
  showSignIn();
});
window.addEventListener('hashchange', () => {
  const token = tokenFromAddress();
  if (token) signIn(token);
  else route();
});

/** Signs in with the token given or kept; else, on a server without auth, at once; else asks. */
async function start() {
  const given = tokenFromAddress() ?? sessionStorage.getItem(TOKEN_KEY);
  if (given) {
    signIn(given);
    return;
  }
  try {
    if ((await fetch('/api/jobs?limit=1')).ok) {
      signIn(NO_AUTH);
      return;
    }
  } catch {
    /* unreachable: the form says so on sign-in */
  }
  showSignIn();
}

start();
