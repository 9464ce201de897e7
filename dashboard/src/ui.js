// Page-wide feedback: polite announcements for screen readers, an alert line for errors, and a
// confirmation dialog for destructive actions.

const announcer = () => document.getElementById('announce');

/** Says `text` to screen readers (and keeps it in the live region for tests and the curious). */
export function announce(text) {
  const region = announcer();
  region.textContent = '';
  // A fresh text node after a tick, so that the same message twice is announced twice.
  setTimeout(() => (region.textContent = text), 30);
}

/** Shows an error line at the top of the page; `null` hides it. */
export function alertError(text) {
  const el = document.getElementById('alert');
  el.textContent = text ?? '';
  el.hidden = !text;
}

/**
 * Asks before a destructive action. Resolves `{ok, reason}`; `withReason` shows a reason field
 * (sent with a disconnect).
 */
export function confirmAction(text, { withReason = false, confirmLabel = 'Confirm' } = {}) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-reason-row').hidden = !withReason;
  const reason = document.getElementById('confirm-reason');
  reason.value = '';
  document.getElementById('confirm-yes').textContent = confirmLabel;
  const opener = document.activeElement;
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => {
        opener?.focus?.();
        resolve({ ok: dialog.returnValue === 'ok', reason: reason.value.trim() });
      },
      { once: true },
    );
    dialog.returnValue = 'cancel';
    dialog.showModal();
    // The safe choice has the focus: Enter does not destroy anything by accident.
    document.getElementById(withReason ? 'confirm-reason' : 'confirm-no').focus();
  });
}
