/** The worker's wasm core, compiled: fetched from pkg/ beside this script and compiled as it
 * downloads (as a whole if it is not served as application/wasm). The single file
 * (scripts/single-file.mjs) replaces this module with one that compiles the bytes it holds. */
export async function compileCore() {
  const url = new URL("./pkg/sysmon_lens_bg.wasm", import.meta.url);
  try {
    return await WebAssembly.compileStreaming(fetch(url));
  } catch {
    return WebAssembly.compile(await (await fetch(url)).arrayBuffer());
  }
}
