// Interface texts in English and Chinese. The language is the browser's (zh* -> zh), overridable
// in the header; it is kept for the tab in sessionStorage.
const TEXTS = {
  en: {
    brand: "Service desk", language: "Language", signOut: "Sign out", signInTitle: "Sign in to the service desk",
    username: "Username", password: "Password", signIn: "Sign in", signingIn: "Signing in…",
    badCredentials: "Incorrect username or password.", notAgentToken: "This token is not an agent's token.",
    tokenExpired: "Your session has expired. Please sign in again.", sessionHint:
      "Your company's single sign-on can open the console with #token=<agent JWT> in the address.",
    signInFailed: "Sign-in failed: {0}", newPasswordTitle: "Choose a new password",
    newPasswordHint: "{0} must set a new password before the first sign-in.", newPassword: "New password",
    confirmPassword: "Confirm new password", setPassword: "Set password", passwordsDiffer: "The passwords do not match.",
    weakPassword: "Choose another password: {0}", mfaTitle: "Two-step verification",
    mfaHint: "Enter the 6-digit code from your authenticator app.", code: "Code", verify: "Verify",
    badCode: "Incorrect code. Try the current one.", backToSignIn: "Back to sign-in",
    challengeExpired: "The sign-in took too long. Please sign in again.",
    workspace: "Workspace", tickets: "Tickets", dashboard: "Dashboard", admin: "Admin",
    status: "Status", online: "Online", away: "Away", offline: "Offline", goOnline: "Go online",
    goAway: "Away", goOffline: "Go offline", offers: "Offers", accept: "Accept", decline: "Decline",
    offerFrom: "{0} wants help", expiresIn: "{0} s left", myConversations: "My conversations",
    noConversations: "No conversations yet. Go online to receive offers.", noOffers: "No offers",
    unread: "{0} unread", reply: "Reply", send: "Send", privateNote: "Private note", noteBox: "Note for agents only",
    noteHint: "Private notes are seen by agents only, never by the customer.", cannedHint:
      "Type / for canned responses.", suggestions: "AI suggestions", suggest: "Suggest replies",
    noSuggestions: "No suggestions for the latest message.", insert: "Insert",
    transfer: "Transfer", transferTo: "Transfer to", toAgent: "Agent", toTeam: "Team", note: "Note",
    cancel: "Cancel", resolve: "Resolve", reopen: "Reopen", createTicket: "Create ticket", subject: "Subject",
    priority: "Priority", create: "Create", customer: "Customer", channel: "Channel", identities: "Channel identities",
    pastConversations: "Past conversations", openTickets: "Open tickets", none: "none",
    selectConversation: "Select a conversation.", closed: "Closed", intent: "intent {0}", confidence: "confidence {0}",
    delivery: { pending: "not sent yet", queued: "queued", sent: "sent", delivered: "delivered", read: "read", refused: "refused",
      failed: "failed" },
    internal: "private note", ticketCreated: "Ticket {0} created", transferred: "Transferred",
    resolved: "Resolved", reconnecting: "Connection lost — reconnecting…", statusLabel: "Your status",
    filters: "Filters", all: "All", assignee: "Assignee", slaBreached: "SLA breached", apply: "Apply",
    ticket: "Ticket", fields: "Fields", comments: "Comments", audit: "Audit trail", dueFirst: "First response due",
    dueResolution: "Resolution due", addComment: "Add comment", comment: "Comment", publicComment: "Public (customer sees it)",
    save: "Save", saved: "Saved", back: "Back to tickets", noTickets: "No tickets match.",
    today: "Today", queue: "Waiting queue", agents: "Agents", waiting: "Waiting", load: "Load",
    capacity: "Capacity", from: "From", to: "To", show: "Show", kpis: "KPIs", volumeByChannel: "Volume by channel",
    firstResponse: "First response (s)", containment: "Bot containment", csatTrend: "CSAT by day",
    npsTrend: "NPS", slaBreaches: "SLA breaches", topIntents: "Top intents", forecast: "Forecast and staffing",
    hour: "Hour (UTC)", contacts: "Contacts", agentsNeeded: "Agents needed", noData: "No data for this period.",
    counters: { conversations: "Conversations", messages_in: "Messages in", handoffs: "Handoffs",
      csat_responses: "Ratings", queue_length: "In queue", agents_online: "Agents online", csat_avg: "CSAT today" },
    teams: "Teams", hours: "Business hours", canned: "Canned responses", sla: "SLA policies", kb: "Knowledge base",
    name: "Name", skills: "Skills", languages: "Languages", team: "Team", role: "Role", id: "ID",
    addOrUpdate: "Add or update", title: "Title", text: "Text", timezone: "Time zone", days: "Opening hours (JSON)",
    offerTimeout: "Offer timeout (s)", firstResponseMinutes: "First response (min)",
    resolutionMinutes: "Resolution (min)", businessHoursOnly: "Business hours only", intents: "Intents",
    slaStored: "Saved policy", slaDefault: "Default policy (not saved yet)",
    examples: "Examples (one per line)", answerEn: "Answer (English)", answerZh: "Answer (Chinese)",
    actionJson: "Action (JSON, optional)", actionNotJson: "the action is not valid JSON",
    edit: "Edit", delete: "Delete", importCsv: "Import CSV", examplesCsv: "Examples CSV (text,label)",
    answersCsv: "Answers CSV (intent,answer_zh,answer_en)", import: "Import", training: "Training",
    kbVersion: "KB version {0}", liveModel: "Live model: version {0}", noModel: "No model is live yet",
    trainingPending: "Version {0} is training…", intentName: "Intent name", forbiddenPage:
      "You do not have access to this page.", loading: "Loading…", error: "Error: {0}",
    newOffer: "New offer", sending: "Sending…", failedToSend: "Not sent: {0}",
    roles: { agent: "agent", supervisor: "supervisor", admin: "admin" }, bot: "bot", human: "human",
  },
  zh: {
    brand: "客服工作台", language: "语言", signOut: "退出登录", signInTitle: "登录客服工作台",
    username: "用户名", password: "密码", signIn: "登录", signingIn: "正在登录…",
    badCredentials: "用户名或密码错误。", notAgentToken: "此令牌不是客服令牌。",
    tokenExpired: "会话已过期，请重新登录。", sessionHint: "贵公司的单点登录可在地址中附加 #token=<客服 JWT> 打开工作台。",
    signInFailed: "登录失败：{0}", newPasswordTitle: "设置新密码",
    newPasswordHint: "{0} 首次登录前需要设置新密码。", newPassword: "新密码", confirmPassword: "确认新密码",
    setPassword: "设置密码", passwordsDiffer: "两次输入的密码不一致。", weakPassword: "请换一个密码：{0}",
    mfaTitle: "两步验证", mfaHint: "请输入身份验证器应用中的 6 位验证码。", code: "验证码", verify: "验证",
    badCode: "验证码错误，请输入当前的验证码。", backToSignIn: "返回登录", challengeExpired: "登录超时，请重新登录。",
    workspace: "工作区", tickets: "工单", dashboard: "主管看板", admin: "管理",
    status: "状态", online: "在线", away: "离开", offline: "离线", goOnline: "上线",
    goAway: "离开", goOffline: "下线", offers: "待接入", accept: "接入", decline: "拒绝",
    offerFrom: "{0} 需要帮助", expiresIn: "剩余 {0} 秒", myConversations: "我的会话",
    noConversations: "暂无会话。上线后即可接收会话。", noOffers: "暂无待接入",
    unread: "{0} 条未读", reply: "回复", send: "发送", privateNote: "内部备注", noteBox: "仅客服可见的备注",
    noteHint: "内部备注仅客服可见，客户永远看不到。", cannedHint: "输入 / 使用快捷回复。",
    suggestions: "AI 建议", suggest: "获取建议", noSuggestions: "最新消息暂无建议。", insert: "插入",
    transfer: "转接", transferTo: "转接给", toAgent: "客服", toTeam: "团队", note: "备注",
    cancel: "取消", resolve: "解决", reopen: "重新打开", createTicket: "创建工单", subject: "主题",
    priority: "优先级", create: "创建", customer: "客户", channel: "渠道", identities: "渠道身份",
    pastConversations: "历史会话", openTickets: "未结工单", none: "无",
    selectConversation: "请选择一个会话。", closed: "已关闭", intent: "意图 {0}", confidence: "置信度 {0}",
    delivery: { pending: "尚未发出", queued: "排队中", sent: "已发送", delivered: "已送达", read: "已读", refused: "被拒绝", failed: "失败" },
    internal: "内部备注", ticketCreated: "工单 {0} 已创建", transferred: "已转接",
    resolved: "已解决", reconnecting: "连接中断，正在重连…", statusLabel: "我的状态",
    filters: "筛选", all: "全部", assignee: "处理人", slaBreached: "SLA 已超时", apply: "应用",
    ticket: "工单", fields: "字段", comments: "评论", audit: "审计记录", dueFirst: "首次响应截止",
    dueResolution: "解决截止", addComment: "添加评论", comment: "评论", publicComment: "公开（客户可见）",
    save: "保存", saved: "已保存", back: "返回工单列表", noTickets: "没有符合条件的工单。",
    today: "今日", queue: "等待队列", agents: "客服", waiting: "等待", load: "负载",
    capacity: "容量", from: "开始", to: "结束", show: "显示", kpis: "关键指标", volumeByChannel: "各渠道会话量",
    firstResponse: "首次响应（秒）", containment: "机器人拦截率", csatTrend: "每日满意度",
    npsTrend: "NPS", slaBreaches: "SLA 超时", topIntents: "热门意图", forecast: "预测与排班",
    hour: "小时（UTC）", contacts: "来访量", agentsNeeded: "所需客服", noData: "此期间无数据。",
    counters: { conversations: "会话", messages_in: "收到消息", handoffs: "转人工", csat_responses: "评价数",
      queue_length: "排队中", agents_online: "在线客服", csat_avg: "今日满意度" },
    teams: "团队", hours: "营业时间", canned: "快捷回复", sla: "SLA 策略", kb: "知识库",
    name: "名称", skills: "技能", languages: "语言", team: "团队", role: "角色", id: "ID",
    addOrUpdate: "添加或更新", title: "标题", text: "内容", timezone: "时区", days: "营业时间（JSON）",
    offerTimeout: "接入超时（秒）", firstResponseMinutes: "首次响应（分钟）", resolutionMinutes: "解决（分钟）",
    businessHoursOnly: "仅计营业时间", intents: "意图", examples: "示例问题（每行一个）",
    slaStored: "已保存的策略", slaDefault: "默认策略（尚未保存）",
    answerEn: "答案（英文）", answerZh: "答案（中文）", actionJson: "动作（JSON，可选）",
    actionNotJson: "动作不是有效的 JSON", edit: "编辑", delete: "删除", importCsv: "导入 CSV",
    examplesCsv: "示例 CSV（text,label）", answersCsv: "答案 CSV（intent,answer_zh,answer_en）", import: "导入",
    training: "训练", kbVersion: "知识库版本 {0}", liveModel: "线上模型：版本 {0}", noModel: "尚无线上模型",
    trainingPending: "版本 {0} 正在训练…", intentName: "意图名称", forbiddenPage: "您无权访问此页面。",
    loading: "加载中…", error: "错误：{0}", newOffer: "新会话", sending: "发送中…", failedToSend: "未发送：{0}",
    roles: { agent: "客服", supervisor: "主管", admin: "管理员" }, bot: "机器人", human: "人工",
  },
};

let language = sessionStorage.getItem("console.lang") ||
  ((navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en");

export function lang() { return language; }

export function setLang(value) {
  language = TEXTS[value] ? value : "en";
  sessionStorage.setItem("console.lang", language);
  document.documentElement.lang = language === "zh" ? "zh-CN" : "en";
}

/** The text for `key` ("delivery.read" reaches into groups), with {0}, {1} filled in. */
export function t(key, ...args) {
  const find = (table) => key.split(".").reduce((node, part) => (node == null ? node : node[part]), table);
  const text = find(TEXTS[language]) ?? find(TEXTS.en) ?? key;
  return String(text).replace(/\{(\d)\}/g, (_, i) => String(args[Number(i)] ?? ""));
}

setLang(language);
