//! Dawarich's containers on the Docker host, as the diagnosis and the upgrade screens show them.

use dawarich_doctor_model::InstallStatus;
use leptos::prelude::*;

use crate::api;

/// Dawarich's containers: state, health, restarts, image and release (a crash loop stands out).
#[component]
pub fn ContainersTable(status: InstallStatus) -> impl IntoView {
    view! {
        <table class="containers" id="containers">
            <thead><tr><th>"Role"</th><th>"Container"</th><th>"State"</th><th>"Restarts"</th><th>"Image"</th></tr></thead>
            <tbody>
                {status.containers.into_iter().map(|c| {
                    let class = if c.crash_looping() { "badge problem" } else if c.is_up() { "badge ok" } else { "badge pending" };
                    let state = match (&c.health, c.crash_looping()) {
                        (_, true) => format!("{}, crash-looping", c.state),
                        (Some(h), _) => format!("{}, {h}", c.state),
                        (None, _) => c.state.clone(),
                    };
                    let image = match &c.release {
                        Some(r) => format!("{} (Dawarich {r})", c.image),
                        None => c.image.clone(),
                    };
                    view! {
                        <tr>
                            <td>{c.role.as_str()}</td>
                            <td class="mono">{c.name.clone()}</td>
                            <td><span class=class>{state}</span></td>
                            <td>{c.restart_count}</td>
                            <td class="mono small">{image}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// The diagnosis screen's card: the containers of the connection's install, or why there are none.
#[component]
pub fn ContainersCard(id: String) -> impl IntoView {
    let status = LocalResource::new(move || {
        let id = id.clone();
        async move { api::containers_status(&id).await }
    });
    view! {
        <section class="card" id="card-containers" aria-labelledby="h-containers">
            <h3 id="h-containers">"Containers"</h3>
            <Suspense fallback=|| view! { <p class="muted">"Asking docker…"</p> }>
                {move || status.get().map(|r| match r {
                    Ok(s) => view! {
                        <p class="muted">{format!("On {}", s.host)}</p>
                        <ContainersTable status=s/>
                    }.into_any(),
                    Err(e) => view! { <p class="muted" id="containers-note">{format!("{} {}", e.message, e.fix)}</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}
