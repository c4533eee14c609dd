// The tuanbot sandbox page: plays the chats of the local Telegram-like server.
// No framework, no build step: the server sends a "change" event and the page reads again.
"use strict";

const WORDS = {
  en: {
    sandbox: "sandbox", tour: "▶ Guided tour", pause: "⏸ Pause", resume: "▶ Resume",
    people: "People", chats: "Chats", add: "Add", newName: "New resident's name",
    note: "Everything here is local: a Telegram-like server, the bot and its own database. " +
      "Nothing reaches Telegram.",
    start: "START", send: "Send", message: "Message", asFile: "as file",
    photoTitle: "Send a photo", private: "Tuan Bot (private chat)", admin: "admin",
    leader: "leader", resident: "resident", edited: "edited", step: "Step {n} of {of}",
    finished: "Tour finished: try anything yourself.", failed: "The tour stopped: {error}",
    notStarted: "{name} has not opened a private chat with the bot yet: press START.",
    invite: "That is a group's invite link. In the sandbox, people are already in their groups.",
    noAnswer: "The bot did not answer the button (yet).",
    rename: "New name for {name}:", renameHint: "Double-click to rename",
  },
  zh: {
    sandbox: "沙盒", tour: "▶ 导览", pause: "⏸ 暂停", resume: "▶ 继续",
    people: "角色", chats: "聊天", add: "添加", newName: "新团员的名字",
    note: "这里的一切都在本机：模拟的 Telegram 服务器、机器人和它自己的数据库，不会连到 Telegram。",
    start: "开始", send: "发送", message: "消息", asFile: "作为文件",
    photoTitle: "发送照片", private: "Tuan Bot（私聊）", admin: "管理员",
    leader: "团长", resident: "团员", edited: "已编辑", step: "第 {n} 步，共 {of} 步",
    finished: "导览结束：请自己试试。", failed: "导览中断：{error}",
    notStarted: "{name} 还没有开启与机器人的私聊：请点“开始”。",
    invite: "这是群邀请链接。在沙盒里，每个人已经在自己的群里了。",
    noAnswer: "机器人还没有回应这个按钮。",
    rename: "{name} 的新名字：", renameHint: "双击改名",
  },
};

const view = {
  lang: localStorage.getItem("tuanbot-sandbox-lang") || "en",
  me: null,     // the persona acted as
  chat: null,   // the chat shown
  state: null,  // /api/state
  tourStep: -1,
  shown: null,  // the chat the message list shows
};

const $ = (id) => document.getElementById(id);
const t = (key, values = {}) =>
  (WORDS[view.lang][key] || WORDS.en[key] || key).replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// Telegram's text with its entities (offsets in UTF-16 units, as JavaScript strings count).
function render(text, entities) {
  const marks = [];
  (entities || []).forEach((entity, index) => {
    marks.push({ at: entity.offset, open: true, entity, index });
    marks.push({ at: entity.offset + entity.length, open: false, entity, index });
  });
  marks.sort((a, b) => a.at - b.at || Number(a.open) - Number(b.open) ||
    (a.open ? b.entity.length - a.entity.length : a.entity.length - b.entity.length));
  let out = "";
  let last = 0;
  for (const mark of marks) {
    out += escapeHtml(text.slice(last, mark.at));
    last = mark.at;
    out += mark.open ? openTag(mark.entity, text) : closeTag(mark.entity);
  }
  out += escapeHtml(text.slice(last));
  return out.replace(/\n/g, "<br>");
}

function safeUrl(url) {
  return /^(https?|tg):\/\//.test(url || "") ? url : "#";
}

function openTag(entity, text) {
  switch (entity.type) {
    case "bold": return "<b>";
    case "italic": return "<i>";
    case "underline": return "<u>";
    case "strikethrough": return "<s>";
    case "code": return "<code>";
    case "pre": return "<pre>";
    case "spoiler": return '<span class="spoiler">';
    case "blockquote": case "expandable_blockquote": return "<blockquote>";
    case "text_link": return `<a href="${escapeHtml(safeUrl(entity.url))}" target="_blank" rel="noopener">`;
    case "text_mention": return "<a>";
    case "bot_command": {
      const command = text.substr(entity.offset, entity.length);
      return `<span class="cmd" data-command="${escapeHtml(command)}">`;
    }
    default: return "<span>";
  }
}

function closeTag(entity) {
  return { bold: "</b>", italic: "</i>", underline: "</u>", strikethrough: "</s>", code: "</code>",
    pre: "</pre>", blockquote: "</blockquote>", expandable_blockquote: "</blockquote>",
    text_link: "</a>", text_mention: "</a>" }[entity.type] || "</span>";
}

async function api(path, body) {
  const options = body instanceof FormData ? { method: "POST", body }
    : body ? { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }
    : {};
  const response = await fetch(path, options);
  if (!response.ok) {
    const reason = await response.text();
    toast(reason || response.statusText);
    return null;
  }
  return response.json();
}

function toast(text, alert = false) {
  const box = $("toast");
  box.textContent = text;
  box.className = alert ? "alert" : "";
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, alert ? 6000 : 3000);
}

function persona(id) {
  return view.state.personas.find((p) => p.id === id);
}

function chatsOf(person) {
  return [{ id: person.id, title: t("private"), type: "private" }, ...person.chats];
}

function applyWords() {
  document.documentElement.lang = view.lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
  document.querySelectorAll("[data-tp]").forEach((el) => {
    if (el.tagName === "INPUT" || el.tagName === "TEXTAREA") el.placeholder = t(el.dataset.tp);
    else el.title = t(el.dataset.tp);
  });
  $("lang-en").classList.toggle("active", view.lang === "en");
  $("lang-zh").classList.toggle("active", view.lang === "zh");
}

function drawPeople() {
  const list = $("personas");
  list.innerHTML = "";
  for (const person of view.state.personas) {
    const item = document.createElement("li");
    item.dataset.persona = person.id;
    item.className = person.id === view.me ? "active" : "";
    item.innerHTML = `<span>${escapeHtml(person.name)}</span><span class="role">${t(person.role)}</span>`;
    item.onclick = () => choose(person.id, null);
    item.ondblclick = async () => {
      const name = (window.prompt(t("rename", { name: person.name }), person.name) || "").trim();
      if (name && name !== person.name) await api("/api/persona", { user: person.id, name });
    };
    item.title = t("renameHint");
    list.appendChild(item);
  }
  const me = persona(view.me);
  const chats = $("chats");
  chats.innerHTML = "";
  for (const chat of chatsOf(me)) {
    const item = document.createElement("li");
    item.dataset.chat = chat.id;
    item.className = chat.id === view.chat ? "active" : "";
    item.textContent = (chat.type === "private" ? "🤖 " : "👥 ") + chat.title;
    item.onclick = () => choose(view.me, chat.id);
    chats.appendChild(item);
  }
  suggest();
}

// The command menu the bot set for this kind of chat (setMyCommands), as Telegram shows it
// when "/" is typed: the commands that start with what was typed.
function suggest() {
  const box = $("commands");
  box.innerHTML = "";
  const typed = $("text").value;
  if (!typed.startsWith("/") || /\s/.test(typed)) return;
  const me = persona(view.me);
  const scope = view.chat === view.me ? "all_private_chats" : "all_group_chats";
  const language = (me.language || "").startsWith("zh") ? "zh" : "en";
  const menus = view.state.commands;
  const menu = menus[`${scope}|${language}`] || menus[`${scope}|`] || menus["default|"] || [];
  for (const command of menu.filter((c) => `/${c.command}`.startsWith(typed)).slice(0, 12)) {
    const button = document.createElement("button");
    button.type = "button";
    button.innerHTML = `/${escapeHtml(command.command)} <span>${escapeHtml(command.description)}</span>`;
    button.onclick = () => { $("text").value = `/${command.command} `; $("text").focus(); suggest(); };
    box.appendChild(button);
  }
}

function choose(personId, chatId) {
  view.me = personId;
  const me = persona(personId);
  const chats = chatsOf(me);
  view.chat = chats.some((c) => c.id === chatId) ? chatId
    : chats.some((c) => c.id === view.chat) ? view.chat : chats[chats.length > 1 ? 1 : 0].id;
  localStorage.setItem("tuanbot-sandbox-me", String(view.me));
  drawPeople();
  loadChat();
}

async function loadState() {
  const state = await api("/api/state");
  if (!state) return;
  view.state = state;
  if (!view.me || !persona(view.me)) {
    const saved = Number(localStorage.getItem("tuanbot-sandbox-me"));
    view.me = persona(saved) ? saved : state.personas[0].id;
  }
  followTour(state.tour);
  drawTour(state.tour);
  drawPeople();
}

function followTour(tour) {
  if (tour.status !== "running" || tour.step === view.tourStep || tour.who === null) return;
  view.tourStep = tour.step;
  view.me = tour.who;
  view.chat = tour.where === "group" ? tour.group : tour.who;
}

function drawTour(tour) {
  const running = tour.status === "running";
  $("tour-start").hidden = running || tour.status === "paused";
  $("tour-pause").hidden = !running;
  $("tour-resume").hidden = tour.status !== "paused";
  $("tour-step").textContent = tour.step >= 0 && (running || tour.status === "paused")
    ? t("step", { n: tour.step + 1, of: tour.steps }) : "";
  $("tour-caption").textContent = tour.status === "finished" ? t("finished")
    : tour.status === "failed" ? t("failed", { error: tour.error }) : tour.caption;
  document.body.dataset.tour = tour.status;
}

async function loadChat() {
  const chatId = view.chat;
  const data = await api(`/api/chat/${chatId}`);
  if (!data || chatId !== view.chat) return;
  const me = persona(view.me);
  const chat = chatsOf(me).find((c) => c.id === chatId);
  $("chat-title").textContent = chat ? chat.title : "";
  const box = $("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  box.innerHTML = "";
  const albums = new Map();
  let keyboard = null;
  for (const message of data.messages) {
    if (message.media_group_id && albums.has(message.media_group_id)) {
      albums.get(message.media_group_id).insertAdjacentHTML(
        "beforeend", `<img src="${message.photo_url}" alt="">`);
      continue;
    }
    const bubble = document.createElement("div");
    bubble.className = "msg" + (message.from.id === view.me ? " mine" : "");
    bubble.dataset.messageId = message.message_id;
    let html = message.from.id === view.me ? "" :
      `<div class="from">${escapeHtml(message.from.first_name)}</div>`;
    if (message.photo_url) {
      html += message.media_group_id
        ? `<div class="album" data-album="${escapeHtml(message.media_group_id)}"><img src="${message.photo_url}" alt=""></div>`
        : `<img src="${message.photo_url}" alt="">`;
    }
    if (message.document_url) {
      html += `<div class="doc">📄 <a href="${message.document_url}" download="${escapeHtml(message.document.file_name)}">${escapeHtml(message.document.file_name)}</a></div>`;
    }
    if (message.venue) {
      html += `<div>📍 <b>${escapeHtml(message.venue.title)}</b><br>${escapeHtml(message.venue.address)}</div>`;
    } else if (message.location) {
      html += `<div>📍 ${message.location.latitude.toFixed(4)}, ${message.location.longitude.toFixed(4)}</div>`;
    }
    const text = message.text ?? message.caption ?? "";
    const entities = message.entities ?? message.caption_entities ?? [];
    if (text) html += `<div class="text">${render(text, entities)}</div>`;
    html += `<div class="meta">${message.edit_date ? t("edited") + " · " : ""}${new Date(message.date * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}</div>`;
    bubble.innerHTML = html;
    const rows = message.reply_markup?.inline_keyboard;
    if (rows) bubble.appendChild(inlineKeyboard(message, rows));
    const album = bubble.querySelector(".album");
    if (album) albums.set(message.media_group_id, album);
    box.appendChild(bubble);
    if (message.from_bot && message.reply_keyboard) keyboard = message.reply_keyboard;
    if (message.from_bot && message.remove_keyboard) keyboard = null;
  }
  drawReplyKeyboard(chatId === view.me ? keyboard : null);
  $("start-box").hidden = !(chatId === view.me && !me.started);
  $("start-box").title = t("notStarted", { name: me.name });
  const follow = atBottom || chatId !== view.shown;
  view.shown = chatId;
  if (follow) {
    box.scrollTop = box.scrollHeight;
    // Pictures take their height when they load: stay at the newest message.
    box.querySelectorAll("img").forEach((img) => {
      img.addEventListener("load", () => { box.scrollTop = box.scrollHeight; }, { once: true });
    });
  }
  box.querySelectorAll(".cmd").forEach((el) => {
    el.onclick = () => sendText(el.dataset.command);
  });
}

function inlineKeyboard(message, rows) {
  const keyboard = document.createElement("div");
  keyboard.className = "keyboard";
  let index = 0;
  for (const row of rows) {
    const line = document.createElement("div");
    line.className = "row";
    for (const button of row) {
      const element = document.createElement("button");
      element.textContent = button.text;
      const position = index++;
      element.onclick = () => press(message, position);
      line.appendChild(element);
    }
    keyboard.appendChild(line);
  }
  return keyboard;
}

function drawReplyKeyboard(rows) {
  const box = $("reply-keyboard");
  box.innerHTML = "";
  for (const row of rows || []) {
    for (const key of row) {
      const element = document.createElement("button");
      element.textContent = key.text;
      element.onclick = () => (key.request_location
        ? api("/api/location", { user: view.me })
        : sendText(key.text));
      box.appendChild(element);
    }
  }
}

async function press(message, button) {
  const answer = await api("/api/click",
    { user: view.me, chat: view.chat, message_id: message.message_id, button });
  if (!answer) return;
  if (answer.start !== undefined) {
    await openPrivate(answer.start);
  } else if (answer.url) {
    toast(/t\.me\/\+|joinchat/.test(answer.url) ? t("invite") : answer.url);
  }
  if (answer.text) toast(answer.text, answer.alert);
  else if (answer.unanswered) toast(t("noAnswer"));
}

async function openPrivate(payload) {
  view.chat = view.me;
  await api("/api/start", { user: view.me, payload });
  await loadState();
  await loadChat();
}

async function sendText(text) {
  if (!text) return;
  await api("/api/send", { user: view.me, chat: view.chat, text });
}

function wire() {
  $("composer").onsubmit = async (event) => {
    event.preventDefault();
    const input = $("text");
    const text = input.value.trim();
    input.value = "";
    suggest();
    await sendText(text);
  };
  $("text").addEventListener("input", suggest);
  $("text").addEventListener("keydown", (event) => {
    // Enter sends; Shift+Enter is a new line (a /drop has one item a line).
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("photo").onchange = async () => {
    const file = $("photo").files[0];
    if (!file) return;
    const form = new FormData();
    form.append("user", view.me);
    form.append("chat", view.chat);
    form.append("caption", $("text").value.trim());
    form.append("as_file", $("as-file").checked ? "1" : "0");
    form.append("photo", file);
    $("text").value = "";
    $("photo").value = "";
    await api("/api/photo", form);
  };
  $("start-button").onclick = () => openPrivate("");
  $("add-persona").onsubmit = async (event) => {
    event.preventDefault();
    const name = $("new-name").value.trim();
    if (!name) return;
    $("new-name").value = "";
    await api("/api/persona", { name });
  };
  $("tour-start").onclick = () => { view.tourStep = -1; api("/api/tour/start", {}); };
  $("tour-pause").onclick = () => api("/api/tour/pause", {});
  $("tour-resume").onclick = () => api("/api/tour/resume", {});
  for (const language of ["en", "zh"]) {
    $(`lang-${language}`).onclick = async () => {
      view.lang = language;
      localStorage.setItem("tuanbot-sandbox-lang", language);
      applyWords();
      await api("/api/language", { language });
    };
  }
}

let refreshing = null;
function refresh() {
  // One reading at a time; a change during it reads once more after.
  if (refreshing) { refreshing.again = true; return; }
  refreshing = { again: false };
  Promise.resolve()
    .then(loadState)
    .then(loadChat)
    .finally(() => {
      const again = refreshing.again;
      refreshing = null;
      if (again) refresh();
    });
}

async function main() {
  applyWords();
  wire();
  await loadState();
  choose(view.me, null);
  const events = new EventSource("/api/events");
  events.addEventListener("change", refresh);
}

main();
