//! The same logic in the real target (wasm32, in a headless browser), plus what needs a DOM:
//! rendering the diagnosis report and the model's JSON crossing serde-wasm-bindgen.

use dawarich_doctor_model::{ErrorKind, ErrorReport, ProbeStatus, ProbeStep, ProbeStepId};
use leptos::prelude::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

use crate::format::Level;
use crate::screens::diagnosis::{sample_diagnosis, summarize, Report};

wasm_bindgen_test_configure!(run_in_browser);

fn sample() -> dawarich_doctor_model::Diagnosis {
    sample_diagnosis()
}

#[wasm_bindgen_test]
fn summary_in_wasm() {
    let s = summarize(&sample());
    assert_eq!(s.level, Level::Blocked);
    assert!(s.reasons.iter().any(|r| r.contains("stale")), "{:?}", s.reasons);
}

#[wasm_bindgen_test]
fn errors_and_steps_cross_serde_wasm_bindgen() {
    let e = ErrorReport {
        kind: ErrorKind::AuthenticationFailed,
        message: "m".into(),
        fix: "f".into(),
    };
    let js = crate::tauri::to_js(&e);
    assert_eq!(crate::tauri::to_error(js), e);
    // a Tauri error string (e.g. a denied permission) becomes a readable report
    let r = crate::tauri::to_error(JsValue::from_str("command diagnose not allowed"));
    assert!(r.message.contains("not allowed"));
    let step = ProbeStep {
        id: ProbeStepId::Tls,
        status: ProbeStatus::Warning,
        detail: "d".into(),
        error: None,
        elapsed_ms: 2,
    };
    let back: ProbeStep = serde_wasm_bindgen::from_value(crate::tauri::to_js(&step)).unwrap();
    assert_eq!(back, step);
}

#[wasm_bindgen_test]
fn the_report_renders_problems_first_with_the_lock_verdict() {
    let doc = web_sys::window().unwrap().document().unwrap();
    let host = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&host).unwrap();
    let d = sample();
    let _handle = leptos::mount::mount_to(host.clone().unchecked_into(), move || view! { <Report d=d.clone()/> });
    let text = host.text_content().unwrap();
    assert!(text.contains("will fail"), "{text}");
    let first = host.query_selector("tr.check").unwrap().unwrap();
    assert_eq!(
        first.get_attribute("data-check").as_deref(),
        Some("points-without-user")
    );
    let verdict = host.query_selector("[data-verdict]").unwrap().unwrap();
    assert_eq!(verdict.get_attribute("data-verdict").as_deref(), Some("stale"));
    assert_eq!(first.get_attribute("class").as_deref(), Some("check problem"));
    assert!(first.text_content().unwrap().contains("Problem"));
    let order: Vec<Option<String>> = (1..=4)
        .map(|i| {
            host.query_selector(&format!("tr.check:nth-child({i})"))
                .unwrap()
                .and_then(|r| r.get_attribute("data-check"))
        })
        .collect();
    assert_eq!(
        order,
        [
            Some("points-without-user".into()),
            Some("duplicate-stats".into()),
            Some("postgis".into()),
            None
        ]
    );
}

use wasm_bindgen::JsCast;
