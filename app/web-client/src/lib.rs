//! The browser entry of the console (the `frontend` crate of Leptos's workspace template):
//! compiled to wasm32, loaded by the page the server rendered, it hydrates that page so it
//! becomes interactive. On other targets it is empty, so the workspace builds and tests on
//! the host without the browser-only dependencies.

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(wizfs_web::App);
}
