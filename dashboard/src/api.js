// The REST API as the page uses it: every call carries the token in the Authorization header
// (never in a URL, where it would end up in logs and history).

/** An answer other than 2xx: `status` and the server's `code` ("unauthorized", "forbidden", ...). */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

export class Api {
  /** @param {() => string} token the current token */
  constructor(token) {
    this._token = token;
  }

  async call(method, path, body) {
    const headers = { authorization: `Bearer ${this._token()}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new ApiError(0, 'network', `the server cannot be reached (${e.message})`);
    }
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: keep the status */
    }
    if (!res.ok) {
      throw new ApiError(res.status, json?.code ?? 'http_' + res.status, json?.error ?? `${method} ${path}: ${res.status}`);
    }
    return json;
  }

  jobs({ status, owner, type, q, offset = 0, limit = 50 } = {}) {
    return this.call('GET', '/api/jobs' + query({ status, owner, type, q, offset, limit }));
  }

  job(id) {
    return this.call('GET', `/api/jobs/${encodeURIComponent(id)}`);
  }

  history(id) {
    return this.call('GET', `/api/jobs/${encodeURIComponent(id)}/events`);
  }

  cancel(id) {
    return this.call('POST', `/api/jobs/${encodeURIComponent(id)}/cancel`);
  }

  broadcast(id, data) {
    return this.call('POST', `/api/jobs/${encodeURIComponent(id)}/broadcast`, { data });
  }

  stats() {
    return this.call('GET', '/api/stats');
  }

  connections({ user, job, offset = 0, limit = 100 } = {}) {
    return this.call('GET', '/api/connections' + query({ user, job, offset, limit }));
  }

  disconnect(id, reason) {
    return this.call('DELETE', `/api/connections/${encodeURIComponent(id)}` + query({ reason }));
  }
}

/** `?a=1&b=2` of the parameters that have a value; '' when none has. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text ? '?' + text : '';
}
