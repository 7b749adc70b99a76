/** The widget's styles, inside its Shadow DOM (`:host { all: initial }` also stops inherited host styles). */
export const STYLES = `
:host { all: initial; }
*, *::before, *::after { box-sizing: border-box; }
.root { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; font: 15px/1.45 system-ui, -apple-system,
  "Segoe UI", Roboto, "Noto Sans", "PingFang SC", "Microsoft YaHei", sans-serif; color: #1d2430; letter-spacing: normal;
  text-transform: none; }
button, textarea, input { font: inherit; color: inherit; letter-spacing: normal; text-transform: none; }
.launcher { display: flex; align-items: center; gap: 8px; margin-left: auto; border: 0; border-radius: 999px;
  padding: 12px 18px; background: var(--accent); color: #fff; font-weight: 600; cursor: pointer;
  box-shadow: 0 6px 20px rgba(20, 30, 50, .25); position: relative; }
.launcher:hover { filter: brightness(1.08); }
.launcher svg { width: 20px; height: 20px; fill: currentColor; }
.badge { position: absolute; top: -6px; right: -6px; min-width: 22px; height: 22px; padding: 0 6px; border-radius: 11px;
  background: #d93025; color: #fff; font-size: 12px; line-height: 22px; text-align: center; font-weight: 700;
  border: 2px solid #fff; }
.badge[hidden] { display: none; }
.panel { width: min(380px, calc(100vw - 24px)); height: min(600px, calc(100vh - 100px)); background: #fff;
  border-radius: 16px; box-shadow: 0 12px 40px rgba(20, 30, 50, .28); display: flex; flex-direction: column;
  overflow: hidden; margin-bottom: 12px; }
.panel[hidden] { display: none; }
header { background: var(--accent); color: #fff; padding: 14px 16px; display: flex; align-items: center; gap: 10px; }
header .titles { flex: 1; min-width: 0; }
header h2 { margin: 0; font-size: 16px; font-weight: 650; }
header p { margin: 2px 0 0; font-size: 13px; opacity: .9; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.close { border: 0; background: transparent; color: #fff; width: 32px; height: 32px; border-radius: 8px; cursor: pointer;
  font-size: 20px; line-height: 1; }
.close:hover { background: rgba(255, 255, 255, .18); }
.banner { padding: 8px 14px; font-size: 13px; background: #fff4ce; color: #5c4400; border-bottom: 1px solid #f1dc8a; }
.banner[hidden], .queue[hidden] { display: none; }
.queue { padding: 8px 14px; font-size: 13px; background: #eef4ff; color: #1f3d7a; border-bottom: 1px solid #d4e1fb; }
.log { flex: 1; overflow-y: auto; padding: 14px; display: flex; flex-direction: column; gap: 8px; background: #f6f7f9; }
.older { align-self: center; border: 1px solid #d0d5dd; background: #fff; border-radius: 999px; padding: 4px 12px;
  font-size: 13px; cursor: pointer; }
.older[hidden] { display: none; }
.msg { max-width: 82%; display: flex; flex-direction: column; gap: 2px; }
.msg[hidden] { display: none; }
.msg .time { font-size: 11px; color: #8a93a3; padding: 0 4px; }
.msg .who { font-size: 12px; color: #5d6678; padding: 0 4px; }
.msg .bubble { padding: 9px 12px; border-radius: 14px; white-space: pre-wrap; word-wrap: break-word; overflow-wrap: anywhere; }
.msg.customer { align-self: flex-end; align-items: flex-end; }
.msg.customer .bubble { background: var(--accent); color: #fff; border-bottom-right-radius: 4px; }
.msg.bot .bubble, .msg.agent .bubble { background: #fff; border: 1px solid #e3e6eb; border-bottom-left-radius: 4px; }
.msg.agent .bubble { border-color: #c9d8f5; }
.msg.system { align-self: center; max-width: 92%; text-align: center; }
.msg.system .bubble { background: transparent; color: #5d6678; font-size: 13px; padding: 2px 6px; }
.msg .state { font-size: 12px; color: #5d6678; padding: 0 4px; }
.msg .state.failed { color: #b42318; }
.msg .state button { border: 0; background: none; color: var(--accent); text-decoration: underline; cursor: pointer;
  padding: 0 0 0 6px; font-size: 12px; }
.quick { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 4px; }
.quick button { border: 1px solid var(--accent); color: var(--accent); background: #fff; border-radius: 999px;
  padding: 5px 12px; cursor: pointer; font-size: 14px; text-align: left; }
.quick button:hover { background: var(--accent-soft); }
.survey { align-self: stretch; background: #fff; border: 1px solid #e3e6eb; border-radius: 14px; padding: 12px; }
.survey fieldset { border: 0; margin: 0 0 10px; padding: 0; }
.survey legend { font-weight: 600; margin-bottom: 6px; padding: 0; }
.stars { display: flex; gap: 4px; }
.stars label { cursor: pointer; font-size: 28px; line-height: 1; color: #c4c9d2; position: relative; padding: 0 2px; }
.stars label.on { color: #f5a623; }
.stars input, .nps input { position: absolute; inset: 0; width: 100%; height: 100%; margin: 0; opacity: 0;
  cursor: pointer; }
.stars label:has(input:focus-visible), .nps label:has(input:focus-visible) { outline: 2px solid var(--accent);
  outline-offset: 2px; border-radius: 4px; }
.nps .scale { display: grid; grid-template-columns: repeat(11, 1fr); gap: 3px; }
.nps label { position: relative; display: block; text-align: center; border: 1px solid #d0d5dd; border-radius: 6px; padding: 4px 0;
  font-size: 13px; cursor: pointer; }
.nps label.on { background: var(--accent); border-color: var(--accent); color: #fff; }
.nps .ends { display: flex; justify-content: space-between; font-size: 11px; color: #5d6678; margin-top: 2px; }
.survey textarea { width: 100%; min-height: 52px; border: 1px solid #d0d5dd; border-radius: 8px; padding: 6px 8px;
  resize: vertical; background: #fff; }
.survey .field-label { display: block; font-size: 13px; color: #5d6678; margin-bottom: 4px; }
.survey .submit { margin-top: 8px; border: 0; background: var(--accent); color: #fff; border-radius: 8px; padding: 8px 14px;
  cursor: pointer; font-weight: 600; }
.survey .done { margin: 0; font-weight: 600; color: #146c2e; }
.survey .hint { color: #b42318; font-size: 13px; margin: 6px 0 0; }
form.composer { border-top: 1px solid #e3e6eb; padding: 10px; display: flex; flex-direction: column; gap: 8px; background: #fff; }
.row { display: flex; gap: 8px; align-items: flex-end; }
.composer textarea { flex: 1; min-height: 42px; max-height: 120px; resize: none; border: 1px solid #d0d5dd;
  border-radius: 10px; padding: 9px 10px; background: #fff; }
.composer textarea:focus { outline: 2px solid var(--accent-soft); border-color: var(--accent); }
.send { border: 0; border-radius: 10px; background: var(--accent); color: #fff; padding: 10px 16px; font-weight: 600;
  cursor: pointer; }
.human { align-self: flex-start; border: 0; background: none; color: var(--accent); cursor: pointer; padding: 0;
  font-size: 13px; text-decoration: underline; }
.human:disabled { color: #8a93a3; cursor: default; text-decoration: none; }
.error { color: #b42318; font-size: 13px; margin: 0; }
.error:empty { display: none; }
.counter { font-size: 12px; color: #5d6678; align-self: flex-end; }
.counter[hidden] { display: none; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }
button:focus-visible, textarea:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
@media (max-width: 480px) { .root { right: 12px; bottom: 12px; } }
`;
