/** The page's first script, a classic one because browsers run those from file:// too (they
 * refuse the page's modules there): a file dropped anywhere never replaces the page; the
 * note for a page opened from disk is hidden unless that is what happened; the footer shows
 * the build (pkg/build.js, written by scripts/build.sh). */
"use strict";
(() => {
  // Without this, a file dropped outside the drop zone is opened by the browser in place of the page.
  for (const type of ["dragover", "drop"]) window.addEventListener(type, (event) => event.preventDefault());

  // From disk, the module scripts of the multi-file page never run; the single file's are inline and do.
  const moduleFiles = document.querySelector('script[type="module"][src]');
  if (location.protocol !== "file:" || !moduleFiles) document.documentElement.classList.add("scripts-can-run");
  else window.addEventListener("drop", () => document.getElementById("file-note")?.scrollIntoView());

  document.addEventListener("DOMContentLoaded", () => {
    const build = self.sysmonLensBuild;
    const line = document.getElementById("build");
    if (build && line) line.textContent = `Sysmon Lens ${build.version}, build ${build.id}.`;
  });
})();
