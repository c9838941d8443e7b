/**
 * The detail page's actions: the imperative path, and marked as such. A button per
 * action the server offers (none when RBAC or `--read-only` says no), disabled when
 * the phase does not allow it. Each asks for confirmation in a `<dialog>` that shows the
 * GitOps change to commit instead, then POSTs and shows the answer in a status region.
 */
import type { ActionView } from '../model.js';
import { h, setText } from './dom.js';
import { actionEffects, actionLabels, answerText, gitOpsChange } from './detail-data.js';
import { actionUrl } from './route.js';

/** The actions section: drawn once, updated in place with each detail. */
export interface ActionsPanel {
  element: HTMLElement;
  /** Shows `actions` for a Canary in `phase`; `gone` when it was deleted. */
  update(actions: readonly ActionView[], phase: string, gone: boolean): void;
}

export function actionsPanel(namespace: string, name: string): ActionsPanel {
  const buttons = new Map<ActionView['action'], HTMLButtonElement>();
  let offered = new Map<ActionView['action'], ActionView>();
  let pending = false;
  let gone = false;

  const row = h('div', { class: 'action-buttons' });
  const heading = h('h2', { id: 'actions-title', tabindex: '-1' }, 'Act now (imperative)');
  const note = h('p', { class: 'sub', id: 'actions-note' });
  const answer = h('p', { class: 'answer', role: 'status' });
  const dialogTitle = h('h2', { id: 'action-dialog-title' });
  const effect = h('p', { id: 'action-dialog-effect' });
  const change = h('code');
  const cancel = h('button', { type: 'button', autofocus: true }, 'Cancel');
  const confirm = h('button', { type: 'button', class: 'primary' });
  const dialog = h(
    'dialog',
    {
      class: 'confirm',
      'aria-labelledby': 'action-dialog-title',
      'aria-describedby': 'action-dialog-effect',
    },
    dialogTitle,
    effect,
    h(
      'p',
      {},
      'This changes the Canary in the cluster now (the imperative path). ',
      'The GitOps way is to commit this change to the Canary instead:',
    ),
    h('pre', { class: 'gitops' }, change),
    h('div', { class: 'dialog-buttons' }, cancel, confirm),
  );
  const element = h(
    'section',
    { class: 'actions', 'aria-labelledby': 'actions-title' },
    heading,
    h(
      'p',
      { class: 'sub' },
      'These buttons annotate the Canary in the cluster at once, as weir promote, abort, retry ',
      'and approve do. Each confirmation shows the annotation to commit to Git instead.',
    ),
    row,
    note,
    answer,
    dialog,
  );

  let chosen: ActionView['action'] | undefined;
  /** Focus back on `button`, or on the heading when it can take none (disabled by now). */
  const refocus = (button: HTMLButtonElement | undefined) => {
    if (button && !button.disabled && !button.hidden) button.focus();
    else heading.focus();
  };
  cancel.addEventListener('click', () => dialog.close());
  // Escape, Cancel and Confirm all close it: focus goes back to the action's button.
  dialog.addEventListener('close', () => refocus(chosen && buttons.get(chosen)));
  confirm.addEventListener('click', () => {
    const action = chosen && offered.get(chosen);
    dialog.close();
    if (action) void send(action);
  });

  const open = (action: ActionView) => {
    chosen = action.action;
    setText(dialogTitle, `${actionLabels[action.action]} ${namespace}/${name}?`);
    setText(effect, actionEffects[action.action]);
    setText(change, gitOpsChange(action));
    setText(confirm, `Confirm: ${action.action}`);
    refresh();
    dialog.showModal();
  };

  async function send(action: ActionView) {
    pending = true;
    refresh();
    setText(answer, `Sending ${action.action}…`);
    try {
      // fetch's default mode sends this page's Origin, which the server checks (a
      // same-origin mode under Referrer-Policy: no-referrer would send "null").
      const res = await fetch(actionUrl(namespace, name, action.action), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Weir-Action': '1' },
        body: '{}',
        cache: 'no-store',
      });
      const body: unknown = await res.json().catch(() => undefined);
      setText(answer, `${actionLabels[action.action]}: ${answerText(res.status, body)}`);
    } catch (err) {
      setText(answer, `${actionLabels[action.action]}: the request failed (${String(err)}).`);
    } finally {
      pending = false;
      refresh();
    }
  }

  let phase = '';
  function refresh() {
    const focused = document.activeElement;
    for (const [action, button] of buttons) {
      const view = offered.get(action);
      button.hidden = !view;
      button.disabled = !view?.applicable || gone;
      // While a request is out the buttons stay focusable (focus is not lost), but do nothing.
      if (pending) button.setAttribute('aria-disabled', 'true');
      else button.removeAttribute('aria-disabled');
    }
    // A button that the phase just disabled under the keyboard's focus hands it on.
    if (focused instanceof HTMLButtonElement && row.contains(focused) && focused.disabled)
      refocus(undefined);
    // A change while the dialog is open (the phase moved on) can take the action away.
    confirm.disabled = !(chosen && offered.get(chosen)?.applicable) || pending || gone;
    const off = [...offered.values()].filter((a) => !a.applicable).map((a) => a.action);
    setText(
      note,
      offered.size === 0
        ? `No action here: this dashboard is read-only, or you may not patch Canaries in ${namespace}.`
        : gone
          ? 'This Canary was deleted.'
          : off.length > 0
            ? `Not available while the Canary is ${phase}: ${off.join(', ')}.`
            : '',
    );
    row.hidden = offered.size === 0;
  }

  return {
    element,
    update(actions, nextPhase, isGone) {
      phase = nextPhase;
      gone = isGone;
      offered = new Map(actions.map((a) => [a.action, a]));
      for (const a of actions)
        if (!buttons.has(a.action)) {
          const button = h(
            'button',
            { type: 'button', 'aria-describedby': 'actions-note', 'data-action': a.action },
            actionLabels[a.action],
          );
          button.addEventListener('click', () => {
            const view = offered.get(a.action);
            if (view?.applicable && !pending && !gone) open(view);
          });
          buttons.set(a.action, button);
          row.append(button);
        }
      refresh();
    },
  };
}
