// Small helpers to build elements and to say times and durations the way people read them.

/** An element with attributes (`class`, `aria-*`, `data-*`, properties for the rest) and children. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') el.className = value;
    else if (name.startsWith('aria-') || name.startsWith('data-') || name === 'role' || name === 'scope') {
      el.setAttribute(name, String(value));
    } else el[name] = value;
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** A progress bar: role=progressbar with its value for assistive technology, a filled track. */
export function progressBar(label) {
  const fill = h('span', { class: 'fill' });
  const text = h('span', { class: 'pct' });
  const bar = h('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-label': label }, fill);
  const wrap = h('div', { class: 'progress' }, bar, text);
  wrap.set = (value, status) => {
    const pct = Math.max(0, Math.min(100, Number(value) || 0));
    const shown = Number.isInteger(pct) ? pct : Math.round(pct * 10) / 10;
    bar.setAttribute('aria-valuenow', String(shown));
    bar.setAttribute('aria-valuetext', `${shown}%${status ? ', ' + status : ''}`);
    bar.dataset.status = status ?? '';
    fill.style.width = pct + '%'; // CSSOM, which the page's style-src policy allows
    text.textContent = shown + '%';
  };
  return wrap;
}

/** 0.042 -> "42ms", 4.2 -> "4.2s", 75 -> "1m 15s", undefined -> "–". */
export function duration(seconds) {
  if (seconds === undefined || seconds === null || !Number.isFinite(Number(seconds))) return '–';
  const exact = Math.max(0, Number(seconds));
  if (exact < 1) return `${Math.round(exact * 1000)}ms`; // quick stages still differ
  if (exact < 10) return `${Math.round(exact * 10) / 10}s`;
  let s = Math.round(exact);
  if (s < 60) return `${s}s`;
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const hr = Math.floor(s / 3600);
  s -= hr * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d) return `${d}d ${hr}h`;
  if (hr) return `${hr}h ${m}m`;
  return `${m}m ${s}s`;
}

/** How long ago `iso` was, from `now` (ms). */
export function age(iso, now = Date.now()) {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '–';
  const seconds = Math.round((now - t) / 1000); // an age in whole seconds reads calmer
  return seconds < 1 ? 'now' : duration(seconds);
}

export function time(iso) {
  const t = new Date(iso);
  return Number.isFinite(t.getTime()) ? t.toLocaleString() : '–';
}

export const TERMINAL = ['completed', 'failed', 'cancelled'];

/** The claims of a JWT, unverified: only to label the page (the server checks every call). */
export function claims(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part + '='.repeat((4 - (part.length % 4)) % 4)));
  } catch {
    return {};
  }
}
