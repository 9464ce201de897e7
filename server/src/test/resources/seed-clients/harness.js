// Test harness for the seed-client pages; not part of any seed document.
// Loaded before a seed snippet: reads the server URL and token from the page's query string
// (?server=ws://HOST:PORT&token=JWT&job=JOB_ID) into globals the snippets' URL lines use, and
// reports DOM changes of #status / #progress as console.debug("[dom] ...") lines, which
// run-page.mjs prints together with the snippet's own console output.
(function () {
  const params = new URLSearchParams(location.search);
  window.SEED_SERVER = params.get('server'); // e.g. ws://127.0.0.1:41234
  window.SEED_TOKEN = encodeURIComponent(params.get('token') || '');
  window.SEED_JOB_ID = params.get('job');

  function watchDom() {
    const status = document.getElementById('status');
    const progress = document.getElementById('progress');
    if (!status && !progress) {
      return;
    }
    let last = '';
    const report = () => {
      const line =
        '[dom] status=' + JSON.stringify(status ? status.textContent : null) +
        ' progress-width=' + JSON.stringify(progress ? progress.style.width : null);
      if (line !== last) {
        last = line;
        console.debug(line);
      }
    };
    const observer = new MutationObserver(report);
    if (status) {
      observer.observe(status, { childList: true, characterData: true, subtree: true });
    }
    if (progress) {
      observer.observe(progress, { attributes: true, attributeFilter: ['style'] });
    }
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', watchDom);
  } else {
    watchDom();
  }
})();
