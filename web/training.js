/*
 * What the presenter screen (present.js) and the attendees' page (join.js) share: building
 * elements whose text is always text, never HTML.
 */
window.trainingPage = (() => {
  "use strict";

  const $ = (id) => document.getElementById(id);

  // Builds an element; strings among the children become text nodes, never HTML.
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (name === "class") node.className = value;
      else node.setAttribute(name, value);
    }
    node.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
    return node;
  }
  const str = (value) => (value === null || value === undefined ? "" : String(value));
  const setStatus = (text) => { $("status").textContent = text; };

  return { $, el, str, setStatus };
})();
