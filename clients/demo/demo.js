// The demo shop's chat set-up, local stack only: the WebSocket URL comes from /config.json and the
// customer token from the local stack itself (POST /demo/token, a development token for a demo
// customer kept in this browser's localStorage). `#token=<customer JWT>` in the URL uses that token.
// `?guest` uses the platform's guest tokens instead (POST /auth/guest, GUEST_CHAT_ENABLED=true), as a
// site would for visitors who are not signed in. On a real site the company's backend issues the token
// for signed-in customers (see README "Clients").
(async () => {
  const config = await (await fetch("/config.json")).json();
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
  const key = "demo-shop:customer";
  let issued = null;
  const token = fromHash || (async () => {
    if (issued && issued.expires_at - Date.now() / 1000 > 120) return issued.token;
    const customerId = localStorage.getItem(key);
    const response = await fetch(config.demo_token_url || "/demo/token", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(customerId ? { customer_id: customerId } : {}),
    });
    if (!response.ok) throw new Error(`demo token: HTTP ${response.status}`);
    issued = await response.json();
    localStorage.setItem(key, issued.customer_id);
    return issued.token;
  });
  const query = new URLSearchParams(location.search);
  const language = query.get("lang") || undefined;
  const guest = query.has("guest") && !fromHash;
  window.CSChat.init({ url: config.ws, token: guest ? window.CSChat.guestToken(`${config.api}/auth/guest`) : token,
    language, title: language === "zh" ? "Northwind 客服" : "Northwind help" });
})();
