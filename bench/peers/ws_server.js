// Minimal Node `ws` broadcast server: the peer bench/soak.py compares pushd with.
// Clients: {"op":"hello"} -> welcome; {"op":"sub","id","topics"} -> subscribed.
// The soak's publisher sends "PUB <topic>\n<frame json>"; the frame is turned into a Buffer once
// and sent to every subscriber of the topic (ws's documented broadcast pattern, pre-built data).
'use strict';
const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.argv[2] || 8090);
const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false, clientTracking: false,
  backlog: 2048, maxPayload: 1 << 20 });
const topics = new Map();

wss.on('connection', (ws) => {
  const mine = [];
  ws.on('message', (data) => {
    const s = data.toString();
    if (s.startsWith('PUB ')) {
      const nl = s.indexOf('\n');
      const set = topics.get(s.slice(4, nl));
      if (!set) return;
      const frame = Buffer.from(s.slice(nl + 1));
      for (const c of set) if (c.readyState === WebSocket.OPEN) c.send(frame, { binary: false });
      return;
    }
    let msg;
    try { msg = JSON.parse(s); } catch { return; }
    if (msg.op === 'hello') ws.send('{"op":"welcome"}');
    else if (msg.op === 'sub') {
      for (const t of msg.topics) {
        if (!topics.has(t)) topics.set(t, new Set());
        topics.get(t).add(ws);
        mine.push(t);
      }
      ws.send(JSON.stringify({ op: 'subscribed', id: msg.id, topics: msg.topics, recovered: {} }));
    }
  });
  ws.on('close', () => { for (const t of mine) topics.get(t).delete(ws); });
  ws.on('error', () => {});
});
wss.on('listening', () => console.log('listening', port));
process.on('SIGTERM', () => process.exit(0));
