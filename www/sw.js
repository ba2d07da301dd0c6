/** Keeps the served page for use offline. On install it caches the page's own files (the
 * list and the build id come from pkg/build.js, written by scripts/build.sh) under a name
 * holding the build id; once active it deletes the caches of older builds of the same
 * scope, then answers the page's requests for those files from the cache. It answers
 * nothing else: user files never reach it (they are read from File objects), and exports
 * are Blob URLs. A new build (a changed pkg/build.js; the page registers with
 * updateViaCache "none") installs beside the old one and takes over once every tab of
 * the old one is closed, so that a page never mixes files of two builds. */
"use strict";
importScripts("pkg/build.js");

const { id, files } = self.sysmonLensBuild;
const scope = self.registration.scope;
/** Cache storage is shared by the whole origin: the scope keeps two copies of the page apart. */
const CACHE_PREFIX = `sysmon-lens ${scope} `;
const CACHE = `${CACHE_PREFIX}${id}`;
const shell = new Set(["./", ...files].map((file) => new URL(file, scope).href));

addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll([...shell].map((url) => new Request(url, { cache: "reload" })))));
});

addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((names) => Promise.all(
    names.filter((name) => name.startsWith(CACHE_PREFIX) && name !== CACHE).map((name) => caches.delete(name)),
  )));
});

addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  const key = url.origin + url.pathname; // the page's own query (?workers=1) names the same file
  if (request.method !== "GET" || !shell.has(key)) return;
  event.respondWith(caches.open(CACHE).then((cache) => cache.match(key)).then((cached) => cached ?? fetch(request)));
});
