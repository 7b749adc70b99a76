// Set these two for your deployment (README "Clients" → mini-program set-up):
// - wsUrl: the platform's WebSocket URL; its domain must be in the mini-program's socket allow-list
//   (mp.weixin.qq.com → 开发管理 → 开发设置 → 服务器域名 → socket合法域名), wss:// only.
// - tokenUrl: YOUR backend's route that takes the wx.login code, resolves the user's openid
//   (code2Session) and answers {"token": "<customer JWT>"} (HS256, sub = your customer id).
App({
  globalData: {
    wsUrl: "wss://example.execute-api.ap-east-1.amazonaws.com/prod",
    tokenUrl: "https://api.example.com/chat/token",
  },
});
