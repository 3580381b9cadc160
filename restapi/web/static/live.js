// pushd client: hello with a push ticket, subscribe to what is on screen, resume by (epoch, offset).
import { api, accessToken } from "./api.js";

/** "1732000000000-3" < "1732000000001-0": compare stream ids as (ms, seq). */
export function offsetAfter(a, b) {
  if (!b) return true;
  const [am, as] = a.split("-").map(Number);
  const [bm, bs] = b.split("-").map(Number);
  return am > bm || (am === bm && as > bs);
}

export class Live {
  constructor(url, { onFrame = () => {}, onState = () => {} } = {}) {
    this.url = url;
    this.onFrame = onFrame;
    this.onState = onState;
    this.pos = new Map(); // topic -> {epoch, offset}
    this.topics = new Set();
    this.ws = null;
    this.nextId = 1;
    this.retry = 0;
    this.timer = null;
    this.state = "idle";
    this.stopped = false;
    window.addEventListener("online", () => this.kick());
    window.addEventListener("offline", () => this.setState("offline"));
  }

  setState(state) { this.state = state; this.onState(state); }

  start() { this.connect(); }

  kick() { if (!this.ws && !this.stopped) { clearTimeout(this.timer); this.connect(); } }

  subscribe(topics) {
    const fresh = topics.filter((t) => !this.topics.has(t));
    fresh.forEach((t) => this.topics.add(t));
    if (fresh.length && this.ready) this.sendSub(fresh);
  }

  unsubscribe(topics) {
    const gone = topics.filter((t) => this.topics.delete(t));
    gone.forEach((t) => this.pos.delete(t));
    if (gone.length && this.ready) this.send({ op: "unsub", id: this.nextId++, topics: gone });
  }

  send(doc) { if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify(doc)); }

  sendSub(topics) {
    const since = {};
    for (const t of topics) {
      const p = this.pos.get(t);
      if (p && p.offset) since[t] = { epoch: p.epoch || "", offset: p.offset };
    }
    this.send({ op: "sub", id: this.nextId++, topics, since });
  }

  async connect() {
    this.setState(this.retry ? "reconnecting" : "connecting");
    let ticket;
    try {
      // A push ticket keeps the access token out of pushd's hands; when this pushd cannot redeem
      // tickets (ticketsFail), the access JWT goes in the hello frame instead (never in the URL).
      ticket = this.ticketsFail ? await accessToken() : (await api("/api/v1/auth/push-ticket", { method: "POST" })).ticket;
    } catch {
      this.schedule();
      return;
    }
    const ws = new WebSocket(this.url);
    this.ws = ws;
    this.ready = false;
    ws.onopen = () => ws.send(JSON.stringify({ op: "hello", token: ticket }));
    ws.onmessage = (msg) => this.handle(JSON.parse(msg.data));
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.ready = false;
      if (!this.stopped) this.schedule();
    };
    ws.onerror = () => {};
  }

  schedule(delay) {
    this.setState(navigator.onLine === false ? "offline" : "reconnecting");
    const backoff = Math.min(10_000, 500 * 2 ** Math.min(this.retry, 5));
    this.retry += 1;
    const wait = delay ?? (this.retry === 1 ? 50 : backoff / 2 + Math.random() * backoff / 2);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), wait);
  }

  /** Stop without reconnecting (page hidden); ``resume`` picks up from the held offsets. */
  pause() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) { const ws = this.ws; this.ws = null; this.ready = false; ws.close(1000); }
  }

  resume() { this.stopped = false; this.retry = 1; this.connect(); }

  /** Close the socket as a network cut would (tests and the "reconnect" hint use it). */
  cut() { if (this.ws) this.ws.close(); }

  handle(f) {
    switch (f.op) {
      case "welcome":
        this.ready = true;
        this.retry = 0;
        if (this.topics.size) this.sendSub([...this.topics]);
        else this.setState("live");
        break;
      case "subscribed":
        this.lastSubscribed = f;
        for (const [t, e] of Object.entries(f.epochs || {})) {
          const p = this.pos.get(t) || {};
          this.pos.set(t, { ...p, epoch: e });
        }
        this.setState("live");
        this.onFrame(f);
        break;
      case "snapshot":
        this.pos.set(f.topic, { epoch: f.epoch, offset: f.offset });
        this.onFrame(f);
        break;
      case "odds": {
        const p = this.pos.get(f.topic) || {};
        if (p.offset && !offsetAfter(f.offset, p.offset)) return; // already applied (replay overlap)
        this.pos.set(f.topic, { ...p, offset: f.offset });
        this.onFrame(f);
        break;
      }
      case "error":
        if (f.code === "invalid_ticket" && !this.ticketsFail) { this.ticketsFail = true; this.retry = 0; }
        this.onFrame(f);
        break;
      case "reconnect":
        this.stopped = false;
        clearTimeout(this.timer);
        if (this.ws) { const ws = this.ws; this.ws = null; ws.close(); }
        this.schedule(f.after_ms || 1000);
        break;
      default:
        this.onFrame(f);
    }
  }
}
