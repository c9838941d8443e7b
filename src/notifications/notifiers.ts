import { alertProviderTypes } from '../api/alert-provider-schema.js';
import { discordNotifier } from './discord-notifier.js';
import { gchatNotifier } from './gchat-notifier.js';
import { genericNotifier } from './generic-notifier.js';
import { msteamsNotifier } from './msteams-notifier.js';
import { NotifierRegistry, type Notifier } from './notifier.js';
import { rocketNotifier } from './rocket-notifier.js';
import { slackNotifier } from './slack-notifier.js';

/**
 * Every notifier Weir has, by the AlertProvider `type` the CRD accepts
 * (`alertProviderTypes`): a type without a notifier does not compile.
 */
export const notifierFamily: Record<(typeof alertProviderTypes)[number], Notifier> = {
  slack: slackNotifier,
  msteams: msteamsNotifier,
  discord: discordNotifier,
  generic: genericNotifier,
  rocket: rocketNotifier,
  gchat: gchatNotifier,
};

/** The controller's notifiers, one per entry of {@link notifierFamily}. */
export function buildNotifiers(): NotifierRegistry {
  const registry = new NotifierRegistry();
  for (const type of alertProviderTypes) registry.register(notifierFamily[type]);
  return registry;
}
