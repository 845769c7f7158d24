// Render the maths that pymdownx.arithmatex (generic mode) wraps as \( ... \) and \[ ... \], with the
// KaTeX copy in assets/katex (no network needed to read the site).
function renderMaths() {
  document.querySelectorAll(".arithmatex").forEach(function (element) {
    renderMathInElement(element, {
      delimiters: [
        { left: "\\(", right: "\\)", display: false },
        { left: "\\[", right: "\\]", display: true },
      ],
      throwOnError: false,
    });
  });
}
if (typeof document$ !== "undefined") {
  document$.subscribe(renderMaths); // material's page-load stream
} else {
  document.addEventListener("DOMContentLoaded", renderMaths);
}
