// sendwell's template editor: CodeMirror 6 over each <textarea data-code-editor="html"> (the textarea stays the
// form's field and keeps working without JavaScript), and a live preview: on input, after a pause, the form is
// submitted through its preview button into the sandboxed frame it targets, so the preview is served with the
// frame's own strict Content-Security-Policy and no script of ours ever writes the user's HTML into a page.
import { basicSetup } from "codemirror";
import { EditorView } from "@codemirror/view";
import { html } from "@codemirror/lang-html";

const PAUSE_MS = 400;

function livePreview(form) {
  const button = form.querySelector("[data-live-preview]");
  if (!button || !form.requestSubmit) return () => {};
  let timer = null;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(() => form.requestSubmit(button), PAUSE_MS);
  };
}

// CodeMirror adds its styles at run time. In a document it would write <style> elements, which the site's
// Content-Security-Policy (style-src 'self') refuses; in a shadow root it adopts constructed style sheets instead,
// which that policy allows. So the editor lives in a shadow root of its own.
function attach(textarea, changed) {
  const host = document.createElement("div");
  host.className = "code-editor";
  host.id = textarea.id + "-editor";
  const root = host.attachShadow({ mode: "open" });
  const view = new EditorView({
    root,
    parent: root,
    doc: textarea.value,
    extensions: [
      basicSetup,
      html(),
      EditorView.lineWrapping,
      EditorView.theme({ "&": { maxHeight: "40rem" }, ".cm-scroller": { minHeight: "18rem", overflow: "auto" } }),
      EditorView.contentAttributes.of({ "aria-label": textarea.getAttribute("aria-label") || "HTML" }),
      EditorView.updateListener.of((update) => {
        if (update.docChanged) {
          textarea.value = update.state.doc.toString();
          changed();
        }
      }),
    ],
  });
  textarea.hidden = true;
  textarea.removeAttribute("required"); // a hidden field cannot show its own "required" message
  textarea.after(host);
  return view;
}

function start() {
  for (const form of document.querySelectorAll("form")) {
    const areas = form.querySelectorAll("textarea[data-code-editor]");
    const button = form.querySelector("[data-live-preview]");
    if (!areas.length && !button) continue;
    const changed = livePreview(form);
    for (const textarea of areas) attach(textarea, changed);
    if (button) {
      form.addEventListener("input", changed); // the plain fields (the text part, the name)
      form.addEventListener("change", changed); // a picked template
    }
  }
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start);
} else {
  start();
}
