import { Type, type Static } from '@sinclair/typebox';
import { AllowedNamespaces } from './allowed-namespaces.js';
import { HttpUrl, ObjectName, StringEnum } from './schema-helpers.js';

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
          'Secret whose `address` key holds the webhook URL (and `token`, if the channel needs one, and `proxy`, a proxy URL that may carry credentials). It must carry the label weir.dev/credentials: "true".',
      },
    ),
    proxy: Type.Optional(
      HttpUrl(
        'HTTP(S) proxy the notifications go through, e.g. http://proxy.infra:3128. Without credentials: a proxy that needs them goes in the Secret, under the key `proxy`, which wins over this field.',
        {
          'x-kubernetes-validations': [
            {
              rule: "isURL(self) && self.matches('^https?://[^/?#@]+/?$')",
              message:
                'must be an http or https URL of a proxy, without credentials or a path: put a proxy with credentials in the Secret under the key proxy',
            },
          ],
        },
      ),
    ),
    allowedNamespaces: Type.Optional(AllowedNamespaces('AlertProvider')),
  },
  { description: 'Where notifications go.' },
);

export type AlertProviderSpec = Static<typeof AlertProviderSpecSchema>;
