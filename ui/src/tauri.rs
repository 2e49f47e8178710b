//! The two things the UI needs from Tauri's JavaScript API (`window.__TAURI__`, enabled by
//! `withGlobalTauri`): `core.invoke` and `core.Channel`. Arguments and answers go through serde, so
//! the types are the model crate's, exactly as the shell sends them.

use dawarich_doctor_model::{ErrorKind, ErrorReport};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = invoke, catch)]
    async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;

    /// `window.__TAURI__.core.Channel`
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = Channel)]
    pub type JsChannel;

    #[wasm_bindgen(constructor, js_namespace = ["window", "__TAURI__", "core"], js_class = Channel)]
    fn new() -> JsChannel;

    #[wasm_bindgen(method, setter, js_class = Channel, js_name = onmessage)]
    fn set_onmessage(this: &JsChannel, f: &js_sys::Function);
}

/// A channel whose messages are deserialised into `T` and handed to `on_message`. Keep it alive
/// until the command returns.
pub struct Channel {
    js: JsChannel,
    _closure: Closure<dyn FnMut(JsValue)>,
}

impl Channel {
    pub fn new<T: DeserializeOwned + 'static>(mut on_message: impl FnMut(T) + 'static) -> Channel {
        let js = JsChannel::new();
        let closure =
            Closure::<dyn FnMut(JsValue)>::new(move |v: JsValue| match serde_wasm_bindgen::from_value::<T>(v) {
                Ok(m) => on_message(m),
                Err(e) => log(&format!("unexpected channel message: {e}")),
            });
        js.set_onmessage(closure.as_ref().unchecked_ref());
        Channel { js, _closure: closure }
    }
}

fn log(s: &str) {
    web_sys::console::warn_1(&JsValue::from_str(s));
}

/// Serialises like JSON (plain objects, `null` for `None`), which is what the shell's serde expects.
pub fn to_js<T: Serialize>(v: &T) -> JsValue {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::NULL)
}

/// A rejected invoke: the shell's `ErrorReport`, or Tauri's own error string (e.g. a permission).
pub fn to_error(v: JsValue) -> ErrorReport {
    if let Ok(r) = serde_wasm_bindgen::from_value::<ErrorReport>(v.clone()) {
        return r;
    }
    let message = v.as_string().unwrap_or_else(|| format!("{v:?}"));
    ErrorReport {
        kind: ErrorKind::Io,
        message,
        fix: "This is a bug in Dawarich Doctor: please attach the log file to a bug report.".into(),
    }
}

/// Like `invoke`, for commands that answer with JSON bytes (`tauri::ipc::Response`): 64-bit
/// integers arrive exactly.
pub async fn invoke_bytes<A: Serialize, R: DeserializeOwned>(
    cmd: &str,
    args: &A,
    channel: Option<(&str, &Channel)>,
) -> Result<R, ErrorReport> {
    let js_args = to_js(args);
    if let Some((name, ch)) = channel {
        js_sys::Reflect::set(&js_args, &JsValue::from_str(name), &ch.js).map_err(to_error)?;
    }
    let v = tauri_invoke(cmd, js_args).await.map_err(to_error)?;
    let bytes = js_sys::Uint8Array::new(&v).to_vec();
    serde_json::from_slice(&bytes).map_err(|e| ErrorReport {
        kind: ErrorKind::Io,
        message: format!("unexpected answer from {cmd}: {e}"),
        fix: "This is a bug in Dawarich Doctor: please attach the log file to a bug report.".into(),
    })
}

/// Invokes command `cmd` with `args` (an object), plus a channel under `channel_arg` if given.
pub async fn invoke<A: Serialize, R: DeserializeOwned>(
    cmd: &str,
    args: &A,
    channel: Option<(&str, &Channel)>,
) -> Result<R, ErrorReport> {
    let js_args = to_js(args);
    if let Some((name, ch)) = channel {
        js_sys::Reflect::set(&js_args, &JsValue::from_str(name), &ch.js).map_err(to_error)?;
    }
    let v = tauri_invoke(cmd, js_args).await.map_err(to_error)?;
    serde_wasm_bindgen::from_value(v).map_err(|e| ErrorReport {
        kind: ErrorKind::Io,
        message: format!("unexpected answer from {cmd}: {e}"),
        fix: "This is a bug in Dawarich Doctor: please attach the log file to a bug report.".into(),
    })
}
