import { Type, type Static } from '@sinclair/typebox';
import { AllowedNamespaces } from './allowed-namespaces.js';
import { ObjectName, StringEnum } from './schema-helpers.js';

/** Notification channels. */
export const alertProviderTypes = [
  'slack',
  'msteams',
  'discord',
  'generic',
  'rocket',
  'gchat',
] as const;

/** spec of an AlertProvider. Addresses come only from Secrets: they carry credentials. */
export const AlertProviderSpecSchema = Type.Object(
  {
    type: StringEnum(alertProviderTypes, {
      description:
        'Channel: slack, msteams, discord, rocket (Rocket.Chat), gchat (Google Chat) or generic (JSON webhook).',
    }),
    channel: Type.Optional(Type.String({ maxLength: 256, description: 'Slack channel override.' })),
    username: Type.Optional(
      Type.String({ maxLength: 256, description: 'Sender name shown in the message.' }),
    ),
    secretRef: Type.Object(
      { name: ObjectName('Name of a Secret in the provider’s namespace.') },
      {
        description:
          'Secret whose `address` key holds the webhook URL (and `token`, if the channel needs one). It must carry the label weir.dev/credentials: "true".',
      },
    ),
    allowedNamespaces: Type.Optional(AllowedNamespaces('AlertProvider')),
  },
  { description: 'Where notifications go.' },
);

export type AlertProviderSpec = Static<typeof AlertProviderSpecSchema>;
