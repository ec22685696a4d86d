// A minimal Bolt-js app that verifies and acknowledges the "approve" block
// action, as Tollgate does (but without deciding or storing anything): the
// reference for bench/ingress_bench. PORT and SLACK_SIGNING_SECRET from the
// environment; prints "listening on PORT" when ready.
const { App, LogLevel } = require('@slack/bolt');

const app = new App({
  signingSecret: process.env.SLACK_SIGNING_SECRET,
  token: 'xoxb-bench-not-used',
  botId: 'B0BOT',
  botUserId: 'U0BOT',
  tokenVerificationEnabled: false,
  // Tollgate's three Slack endpoints; Bolt routes all of them alike.
  endpoints: ['/slack/events', '/slack/interactions', '/slack/commands'],
  logLevel: LogLevel.ERROR,
});

app.action('approve', async ({ ack }) => {
  await ack();
});

(async () => {
  const server = await app.start(Number(process.env.PORT || 0));
  console.log(`listening on ${server.address().port}`);
})();
