//! The browser adapter: the only code that names wasm-bindgen or JS types.
//!
//! The page's worker creates one [`WasmAnalyzer`] per analysis and feeds it file
//! slices. The report crosses the boundary as the JSON text the CLI prints, so the
//! two are the same document byte for byte.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// A streaming analysis of any number of files.
#[wasm_bindgen(js_name = Analyzer)]
pub struct WasmAnalyzer {
    inner: Option<crate::Analyzer>,
}

#[wasm_bindgen(js_class = Analyzer)]
impl WasmAnalyzer {
    /// `options` is JSON such as `{"discovery_programs": [{"file_name": …, "original_file_name": …}]}`;
    /// empty for the defaults.
    #[wasm_bindgen(constructor)]
    pub fn new(options: Option<String>) -> Result<WasmAnalyzer, JsError> {
        let options = match options.filter(|text| !text.trim().is_empty()) {
            Some(text) => {
                serde_json::from_str(&text).map_err(|err| JsError::new(&format!("invalid options: {err}")))?
            }
            None => crate::detect::Options::default(),
        };
        Ok(Self {
            inner: Some(crate::Analyzer::with_options(options)),
        })
    }

    #[wasm_bindgen(js_name = beginFile)]
    pub fn begin_file(&mut self, name: &str) {
        if let Some(inner) = &mut self.inner {
            inner.begin_file(name);
        }
    }

    /// Feeds the next slice of the open file.
    pub fn feed(&mut self, chunk: &[u8]) {
        if let Some(inner) = &mut self.inner {
            inner.feed(chunk);
        }
    }

    #[wasm_bindgen(js_name = endFile)]
    pub fn end_file(&mut self) {
        if let Some(inner) = &mut self.inner {
            inner.end_file();
        }
    }

    /// Records read so far (events only counted by the prefilter included).
    #[wasm_bindgen(js_name = eventsRead)]
    pub fn events_read(&self) -> f64 {
        self.inner.as_ref().map_or(0.0, |inner| inner.events_read() as f64)
    }

    /// Ends the analysis and returns the report as JSON text.
    pub fn finish(&mut self) -> Result<String, JsError> {
        let inner = self
            .inner
            .take()
            .ok_or_else(|| JsError::new("analysis already finished"))?;
        serde_json::to_string(&inner.finish()).map_err(|err| JsError::new(&err.to_string()))
    }
}

/// The built-in demonstration sample (Sysmon XML).
#[wasm_bindgen(js_name = demoSample)]
pub fn demo_sample() -> String {
    crate::demo::sample()
}

/// The default extended discovery list of the hardened reading, as JSON.
#[wasm_bindgen(js_name = defaultOptions)]
pub fn default_options() -> Result<String, JsError> {
    serde_json::to_string(&crate::detect::Options::default()).map_err(|err| JsError::new(&err.to_string()))
}
