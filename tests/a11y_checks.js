// What axe-core cannot judge, measured in the page (tests/test_a11y_browser.py): contrast of focus indicators,
// field borders and every text, elements wider than the viewport, overlapping blocks. Each returns problems.
(() => {
  "use strict";

  function parse(color) {
    const m = /rgba?\(([^)]+)\)/.exec(color || "");
    if (!m) return null;
    const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  }

  function over(top, bottom) {
    const a = top.a + bottom.a * (1 - top.a);
    if (!a) return {r: 255, g: 255, b: 255, a: 0};
    const mix = (k) => (top[k] * top.a + bottom[k] * bottom.a * (1 - top.a)) / a;
    return {r: mix("r"), g: mix("g"), b: mix("b"), a: a};
  }

  function luminance(c) {
    const lin = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
  }

  function ratio(a, b) {
    const x = luminance(a), y = luminance(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  }

  // The colour painted behind an element: its own and its ancestors' backgrounds composited over white.
  function backdrop(el, includeSelf) {
    const layers = [];
    for (let n = includeSelf ? el : el.parentElement; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let color = {r: 255, g: 255, b: 255, a: 1};
    for (let i = layers.length - 1; i >= 0; i--) color = over(layers[i], color);
    return color;
  }

  function visible(el) {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    // A closed <details> keeps boxes for what it hides: only its summary is on screen.
    const folded = el.closest("details:not([open])");
    if (folded && !el.closest("summary") && el !== folded) return false;
    return r.width > 1 && r.height > 1 && s.visibility !== "hidden" && s.display !== "none" && !el.closest("[hidden]");
  }

  function describe(el) {
    let d = el.tagName.toLowerCase();
    if (el.id) d += "#" + el.id;
    if (el.classList.length) d += "." + Array.from(el.classList).join(".");
    const text = (el.textContent || el.value || "").trim().replace(/\s+/g, " ").slice(0, 40);
    return text ? d + " «" + text + "»" : d;
  }

  // The drawn focus indicator: an outline, else a box-shadow ring, on the element or the box around it.
  function indicator(el) {
    for (let n = el, depth = 0; n && depth < 3; n = n.parentElement, depth++) {
      const s = getComputedStyle(n);
      if (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2) {
        return {el: n, color: parse(s.outlineColor), outside: parseFloat(s.outlineOffset) >= 0};
      }
      const shadow = /(rgba?\([^)]+\))\s+0px\s+0px\s+0px\s+([\d.]+)px/.exec(s.boxShadow);
      if (shadow && parseFloat(shadow[2]) >= 2 && !/inset/.test(s.boxShadow)) {
        return {el: n, color: parse(shadow[1]), outside: true};
      }
    }
    return null;
  }

  function focusProblems(elements) {
    const problems = [];
    for (const el of elements) {
      const ind = indicator(el);
      if (!ind || !ind.color) { problems.push(describe(el) + ": no focus indicator"); continue; }
      const around = backdrop(ind.el, false);
      const color = over(ind.color, around);
      const r = ratio(color, around);
      if (r < 3) problems.push(describe(el) + ": focus indicator " + r.toFixed(2) + ":1 against its background");
    }
    return problems;
  }

  // The field's boundary: its own border, else the box it sits in (the search box draws the input's border).
  function fieldBorder(el) {
    for (let n = el, depth = 0; n && depth < 3; n = n.parentElement, depth++) {
      const s = getComputedStyle(n);
      if (parseFloat(s.borderBottomWidth) >= 1 && s.borderBottomStyle !== "none") return {el: n, color: parse(s.borderBottomColor)};
    }
    return null;
  }

  function fieldProblems() {
    const problems = [];
    const fields = document.querySelectorAll("input:not([type=hidden]):not([type=submit]), textarea, select");
    for (const el of fields) {
      if (!visible(el)) continue;
      const b = fieldBorder(el);
      if (!b || !b.color) { problems.push(describe(el) + ": no visible boundary"); continue; }
      const around = backdrop(b.el, false);
      const r = ratio(over(b.color, around), around);
      if (r < 3) problems.push(describe(el) + ": border " + r.toFixed(2) + ":1 against its background");
    }
    return problems;
  }

  function textProblems() {
    const problems = [];
    const seen = new Set();
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim()) continue;
      const el = node.parentElement;
      if (!el || seen.has(el) || el.closest("script, style, noscript, [aria-hidden=true] .visually-hidden")) continue;
      seen.add(el);
      if (!visible(el) || el.closest(".visually-hidden")) continue;
      const s = getComputedStyle(el);
      const fg = parse(el.closest("svg") ? s.fill : s.color);
      if (!fg) continue;
      const bg = backdrop(el, true);
      const r = ratio(over({...fg, a: fg.a * parseFloat(s.opacity)}, bg), bg);
      if (r < 4.5) problems.push(describe(el) + ": text " + r.toFixed(2) + ":1");
    }
    for (const el of document.querySelectorAll("input[placeholder], textarea[placeholder]")) {
      if (!visible(el) || el.value) continue;
      const fg = parse(getComputedStyle(el, "::placeholder").color);
      const bg = backdrop(el, true);
      const r = ratio(over(fg, bg), bg);
      if (r < 4.5) problems.push(describe(el) + ": placeholder " + r.toFixed(2) + ":1");
    }
    return problems;
  }

  // The nearest ancestor that clips or scrolls its content: what is inside it may be wider than the screen.
  function clipper(el) {
    for (let n = el.parentElement; n && n !== document.body; n = n.parentElement) {
      const s = getComputedStyle(n);
      if (s.overflowX !== "visible" || s.overflowY !== "visible") return n;
    }
    return null;
  }

  function widthProblems() {
    const problems = [];
    const vw = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > vw + 1) {
      problems.push("the page scrolls sideways: " + document.documentElement.scrollWidth + " px in a " + vw + " px viewport");
    }
    for (const el of document.body.querySelectorAll("*")) {
      if (!visible(el) || el.closest(".visually-hidden, .skip-link")) continue;
      const clip = clipper(el);
      const r = el.getBoundingClientRect();
      if (clip) continue;  // inside its own scroll box: it is the box that must fit
      if (r.right > vw + 1 || r.left < -1) problems.push(describe(el) + ": " + Math.round(r.left) + "…" + Math.round(r.right) + " px wider than the " + vw + " px viewport");
    }
    return problems.slice(0, 20);
  }

  const INLINE = new Set(["inline", "contents", "none", "table-cell", "table-row", "table-row-group", "table-header-group", "table-column"]);

  function clipped(el) {
    let r = el.getBoundingClientRect();
    let box = {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
    for (let c = clipper(el); c; c = clipper(c)) {
      const cr = c.getBoundingClientRect();
      box = {left: Math.max(box.left, cr.left), right: Math.min(box.right, cr.right), top: Math.max(box.top, cr.top), bottom: Math.min(box.bottom, cr.bottom)};
    }
    return box;
  }

  // Blocks (header, main, footer and every block-level box in main) that are neither nested nor apart overlap.
  // Open popups (the autocomplete listbox) cover the page on purpose and are left out.
  function overlapProblems() {
    const blocks = [];
    const candidates = [document.querySelector(".site-header"), document.querySelector("main"), document.querySelector(".site-footer")]
      .concat(Array.from(document.querySelectorAll("main *")));
    for (const el of candidates) {
      if (!el || !visible(el) || el.closest("[role=listbox], .visually-hidden, svg *")) continue;
      if (INLINE.has(getComputedStyle(el).display)) continue;
      const b = clipped(el);
      if (b.right - b.left < 2 || b.bottom - b.top < 2) continue;
      blocks.push({el: el, box: b});
    }
    const problems = [];
    for (let i = 0; i < blocks.length; i++) {
      for (let j = i + 1; j < blocks.length; j++) {
        const a = blocks[i], b = blocks[j];
        if (a.el.contains(b.el) || b.el.contains(a.el)) continue;
        const w = Math.min(a.box.right, b.box.right) - Math.max(a.box.left, b.box.left);
        const h = Math.min(a.box.bottom, b.box.bottom) - Math.max(a.box.top, b.box.top);
        if (w > 2 && h > 2) problems.push(describe(a.el) + " overlaps " + describe(b.el) + " by " + Math.round(w) + "×" + Math.round(h) + " px");
        if (problems.length >= 20) return problems;
      }
    }
    return problems;
  }

  window.__a11y = {focusProblems, fieldProblems, textProblems, widthProblems, overlapProblems, ratio, parse};
})();
