// The chat page: the SDK with the mini-program's socket (wx.connectSocket) and storage
// (wx.setStorageSync, so unsent messages survive an app restart). `lib/chat-sdk.js` is the SDK
// built by `make install` (clients/js/scripts/build.mjs).
const { ChatClient, wxStorage, wxTransport } = require("../../lib/chat-sdk.js");

function fetchToken(tokenUrl) {
  return new Promise((resolve, reject) => {
    wx.login({
      success: ({ code }) => wx.request({
        url: tokenUrl, method: "POST", data: { code },
        success: (res) => (res.statusCode === 200 && res.data && res.data.token
          ? resolve(res.data.token) : reject(new Error(`token: HTTP ${res.statusCode}`))),
        fail: (err) => reject(new Error(err.errMsg)),
      }),
      fail: (err) => reject(new Error(err.errMsg)),
    });
  });
}

const STATE_TEXT = { connecting: "正在连接…", reconnecting: "连接已断开，正在重新连接…", offline: "网络不可用，恢复后自动发送", open: "" };

function view(message) {
  const meta = message.meta || {};
  const survey = Boolean(meta.csat);
  return {
    id: message.message_id,
    mine: message.sender.type === "customer",
    who: message.sender.type === "agent" ? message.sender.name || "客服" : message.sender.type === "bot" ? "智能助手" : "",
    system: message.sender.type === "system",
    text: message.text || "",
    quickReplies: survey ? [] : meta.quick_replies || [],
  };
}

Page({
  data: { messages: [], pending: [], input: "", state: "connecting", banner: "", queue: "", agent: "", survey: false,
    error: "", humanRequested: false },

  onLoad() {
    const { wsUrl, tokenUrl } = getApp().globalData;
    const client = new ChatClient({ url: wsUrl, token: () => fetchToken(tokenUrl), channel: "miniprogram",
      transport: wxTransport(wx), storage: wxStorage(wx) });
    this.client = client;
    const render = () => this.setData({ messages: client.messages.map(view),
      pending: client.pending.map((p) => ({ id: p.client_msg_id, text: p.text })) });
    client.on("message", render);
    client.on("delivery", render);
    client.on("outbox", render);
    client.on("state", ({ state }) => this.setData({ state, banner: STATE_TEXT[state] || "" }));
    client.on("queue", (q) => this.setData({ queue: `排队第 ${q.position} 位，预计约 ${Math.max(1, Math.round(q.estimated_wait_seconds / 60))} 分钟` }));
    client.on("agent", ({ state, agent }) => this.setData({ agent: state === "joined" ? agent.name : "", queue: "" }));
    client.on("survey", (s) => this.setData({ survey: s.question === "csat" }));
    client.connect();
  },

  onUnload() {
    if (this.client) this.client.close();
  },

  onInput(event) {
    this.setData({ input: event.detail.value, error: "" });
  },

  onSend() {
    const text = this.data.input;
    this.setData({ input: "" });
    this.client.send(text).catch((err) => this.setData({ error: err.code === "text_too_long" ? "消息太长了" : err.code === "empty_field" ? "请先输入消息" : "发送失败", input: text }));
  },

  onQuickReply(event) {
    this.client.choose(event.currentTarget.dataset.payload).catch(() => this.setData({ error: "发送失败" }));
  },

  onRequestHuman() {
    this.setData({ humanRequested: true });
    this.client.requestHuman({ language: "zh" }).catch(() => this.setData({ humanRequested: false, error: "转人工失败" }));
  },

  onRate(event) {
    const score = Number(event.currentTarget.dataset.score);
    this.client.rate(score).then(() => this.setData({ survey: false }), () => this.setData({ error: "评价失败" }));
  },
});
