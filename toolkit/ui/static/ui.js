// vtembed ui: a click on a result plays it here, from its second, without reloading the page;
// the transcript beside the player follows along. Everything works without this script too:
// each card links to the same page with the player rendered by the server.
(() => {
  "use strict";
  const panel = document.getElementById("player-panel");
  const enc = encodeURIComponent;

  async function json(url) {
    const answer = await fetch(url, { credentials: "same-origin" });
    if (!answer.ok) throw new Error(`${url}: ${answer.status}`);
    return answer.json();
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    node.append(...children);
    return node;
  }

  function transcript(lines) {
    if (!lines.length) return el("p", { class: "note", id: "transcript-empty" }, "Nothing was said near this moment.");
    const list = el("ol", { id: "transcript" });
    for (const line of lines) {
      const text = el("span");
      text.innerHTML = line.html; // escaped and marked by the server (vtembed.ui.views.highlight)
      list.append(el("li", { "data-start": line.start_sec, "data-end": line.end_sec },
        el("button", { type: "button", class: "seek" }, line.clock), " ", text));
    }
    return list;
  }

  function render(media, lines, start) {
    const screen = el("div", { class: "screen" });
    if (media.play_url) {
      const src = `${media.play_url}#t=${start}`;
      if (media.kind === "audio") {
        const icon = document.getElementById("icon-audio");
        screen.append(el("div", { class: "audio-box" }, icon ? icon.content.cloneNode(true) : ""));
      }
      screen.append(el(media.kind === "audio" ? "audio" : "video", { id: "player", controls: "", preload: "metadata", src }));
    } else {
      screen.append(el("p", { class: "note" }, `No copy of this item to play here: ${media.uri}`));
    }
    screen.append(el("h2", { class: "now-title" }, media.title),
      el("p", { class: "source" }, `${media.source} · ${media.uri}`));
    const aside = el("aside", { class: "transcript" }, el("h3", {}, "Transcript"), transcript(lines));
    panel.replaceChildren(el("div", { class: "player", "data-media": media.id, "data-start": start }, screen, aside));
    panel.hidden = false;
  }

  function follow(seconds) {
    for (const li of panel.querySelectorAll("#transcript li")) {
      li.classList.toggle("now", seconds >= +li.dataset.start && seconds < +li.dataset.end);
    }
  }

  function wire(autoplay) {
    const player = document.getElementById("player");
    const box = panel && panel.querySelector(".player");
    if (!player || !box) return;
    const start = parseFloat(box.dataset.start) || 0;
    const seek = () => {
      if (Math.abs(player.currentTime - start) > 0.25) player.currentTime = start;
      follow(start);
      if (autoplay) player.play().catch(() => {}); // a browser may refuse to start sound
    };
    if (player.readyState >= 1) seek();
    else player.addEventListener("loadedmetadata", seek, { once: true });
    player.addEventListener("timeupdate", () => follow(player.currentTime));
  }

  async function open(card) {
    const id = card.dataset.media;
    const start = parseFloat(card.dataset.start) || 0;
    const q = (document.getElementById("q") || {}).value || "";
    const [media, around] = await Promise.all([
      json(`/api/media/${enc(id)}`),
      json(`/api/transcript/${enc(id)}?t=${start}&q=${enc(q)}`),
    ]);
    render(media, around.lines, start);
    history.pushState(null, "", card.href);
    wire(true);
    panel.scrollIntoView({ block: "start", behavior: "smooth" });
  }

  document.addEventListener("click", (event) => {
    const line = event.target.closest("#transcript li");
    const player = document.getElementById("player");
    if (line && player) {
      player.currentTime = +line.dataset.start;
      return;
    }
    const card = event.target.closest("a.card");
    if (!card || !panel || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    open(card).catch(() => { window.location.href = card.href; }); // the server renders it
  });
  window.addEventListener("popstate", () => window.location.reload());
  wire(false);
})();
