// The type of each kind of payload Tollgate sends to Slack, as Slack's own TypeScript definitions
// describe it: @slack/web-api's argument types for the Web API methods, @slack/types for Block Kit
// and views. check.mjs assigns every recorded payload, as an object literal, to a const of the
// type its kind names in `PayloadOfKind`, so that TypeScript's excess-property checks apply to
// every nested object (a misspelt or unknown property anywhere is an error, not just a wrong type).
//
// One tightening of Slack's types: their blocks are `KnownBlock | Block`, and `Block` is any
// `{type: string}`, so a block of a type Slack does not know (or a known one that fails its type
// by structure alone) could slip through as a generic `Block`. Here blocks are `KnownBlock` only.
import type { KnownBlock, HomeView, MessageAttachment, MessageMetadata, ModalView } from '@slack/types';
import type {
  ChatPostEphemeralArguments,
  ChatPostMessageArguments,
  ChatUpdateArguments,
} from '@slack/web-api/dist/types/request/chat';
import type {
  ViewsOpenArguments,
  ViewsPublishArguments,
  ViewsPushArguments,
  ViewsUpdateArguments,
} from '@slack/web-api/dist/types/request/views';

// T with the type of property P replaced by V, member by member of a union, keeping whether P is
// optional (a homomorphic mapped type keeps `?`), so that "text or blocks" stays required.
type With<T, P extends PropertyKey, V> = T extends unknown ? { [K in keyof T]: K extends P ? V : T[K] } : never;
type WithKnownBlocks<T> = With<T, 'blocks', KnownBlock[]>;

export type Modal = WithKnownBlocks<ModalView>;
export type Home = WithKnownBlocks<HomeView>;

export type ChatPostMessage = WithKnownBlocks<ChatPostMessageArguments>;
export type ChatUpdate = WithKnownBlocks<ChatUpdateArguments>;
export type ChatPostEphemeral = WithKnownBlocks<ChatPostEphemeralArguments>;
export type ViewsOpen = With<ViewsOpenArguments, 'view', Modal>;
export type ViewsPush = With<ViewsPushArguments, 'view', Modal>;
export type ViewsUpdate = With<ViewsUpdateArguments, 'view', Modal | Home>;
export type ViewsPublish = With<ViewsPublishArguments, 'view', Home>;

// A message sent to a response_url, or in the body of the acknowledgement of a slash command
// (Slack's "Handling user interaction" and "Slash commands" pages; Bolt's RespondArguments).
export interface ResponseMessage {
  text?: string;
  blocks?: KnownBlock[];
  attachments?: MessageAttachment[];
  response_type?: 'in_channel' | 'ephemeral';
  replace_original?: boolean;
  delete_original?: boolean;
  thread_ts?: string;
  mrkdwn?: boolean;
  metadata?: MessageMetadata;
}

// The body of the acknowledgement of a view_submission (Slack's "Modals" page; Bolt's
// ViewResponseAction): update or push a view, show errors under input blocks, or clear the stack.
export type ViewSubmissionAck =
  | { response_action: 'update'; view: Modal }
  | { response_action: 'push'; view: Modal }
  | { response_action: 'errors'; errors: { [block_id: string]: string } }
  | { response_action: 'clear' };

export interface PayloadOfKind {
  'chat.postMessage': ChatPostMessage;
  'chat.update': ChatUpdate;
  'chat.postEphemeral': ChatPostEphemeral;
  'response_url': ResponseMessage;
  'views.open': ViewsOpen;
  'views.push': ViewsPush;
  'views.update': ViewsUpdate;
  'views.publish': ViewsPublish;
  'command_ack': ResponseMessage;
  'view_submission_ack': ViewSubmissionAck;
}
