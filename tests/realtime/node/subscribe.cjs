// Real pusher-js 8 subscriber driven by tests/realtime/test_pusher_js.py.
// argv[2] = JSON {port, key, channels: [..], count, timeoutMs, authEndpoint?, trigger?: {channel, event, data}}
// stdout: one JSON object per line: {"connected"}, {"ready"} once every subscription succeeded,
// one {"channel","event","data"} per received event, then {"done","count"}.
// Exit 0 after `count` events, 2 on timeout.
'use strict';
const Pusher = require('pusher-js');

const cfg = JSON.parse(process.argv[2]);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

const options = {
  cluster: 'mt1',
  wsHost: '127.0.0.1',
  wsPort: cfg.port,
  forceTLS: false,
  enabledTransports: ['ws'],
  disableStats: true,
};
if (cfg.authEndpoint) {
  options.channelAuthorization = { endpoint: cfg.authEndpoint, transport: 'ajax' };
}
const pusher = new Pusher(cfg.key, options);

let received = 0;
let ready = 0;
let finished = false;
function finish(code) {
  if (finished) return;
  finished = true;
  out({ done: true, count: received });
  pusher.disconnect();
  process.exit(code);
}
setTimeout(() => finish(2), cfg.timeoutMs || 10000);

pusher.connection.bind('connected', () => out({ connected: true, socket_id: pusher.connection.socket_id }));
// errors arrive as {type:'PusherError', data} once connected, or wrapped as
// {type:'WebSocketError', error:{type:'PusherError', data}} when the handshake is refused
pusher.connection.bind('error', (err) => {
  const inner = err && err.error && err.error.data ? err.error : err;
  out({ error: inner && inner.data ? inner.data : String(err && err.type) });
});
pusher.connection.bind('state_change', (s) => out({ state: s.current }));

for (const name of cfg.channels) {
  const channel = pusher.subscribe(name);
  channel.bind('pusher:subscription_succeeded', () => {
    ready += 1;
    if (ready === cfg.channels.length) {
      out({ ready: true, socket_id: pusher.connection.socket_id });
      if (cfg.trigger) channel.trigger(cfg.trigger.event, cfg.trigger.data);
    }
  });
  channel.bind('pusher:subscription_error', (e) => out({ subscription_error: name, status: e.status }));
  channel.bind_global((event, data) => {
    if (event.startsWith('pusher:')) return;
    out({ channel: name, event, data });
    received += 1;
    if (received >= cfg.count) finish(0);
  });
}
if (cfg.count === 0 && cfg.channels.length === 0) finish(0);
