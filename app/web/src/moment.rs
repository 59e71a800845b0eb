//! A moment as people read it: the server renders it in UTC (`2026-12-07 12:40 UTC`, the
//! exact time in `datetime`), and once the page is hydrated the browser shows it in its own
//! time zone with its age (`2026-12-07 13:40 · 3 hours ago`), the UTC time on hover. The
//! switch happens in an effect, which runs only in the browser and after hydration, so the
//! server's markup and the browser's first render agree.

use leptos::prelude::*;

use crate::format::{age, local_minute, utc_minute};

/// The browser's clock, read once per moment after hydration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BrowserClock {
    /// The local time zone's offset from UTC at that moment, minutes east of Greenwich.
    offset_minutes: i64,
    /// Now, seconds since the Unix epoch.
    now: i64,
}

#[cfg(feature = "hydrate")]
fn browser_clock(seconds: i64) -> Option<BrowserClock> {
    // Milliseconds as JavaScript counts them; exact for any realistic date.
    #[allow(clippy::cast_precision_loss)]
    let moment = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(seconds as f64 * 1000.0));
    #[allow(clippy::cast_possible_truncation)]
    let offset_minutes = -(moment.get_timezone_offset() as i64);
    #[allow(clippy::cast_possible_truncation)]
    let now = (js_sys::Date::now() / 1000.0) as i64;
    Some(BrowserClock {
        offset_minutes,
        now,
    })
}

#[cfg(not(feature = "hydrate"))]
fn browser_clock(_seconds: i64) -> Option<BrowserClock> {
    None
}

/// `seconds` since the Unix epoch as a `<time>`: UTC from the server, local time and age in
/// the browser.
#[component]
pub fn Moment(seconds: i64) -> impl IntoView {
    let clock = RwSignal::new(None::<BrowserClock>);
    Effect::new(move |_| clock.set(browser_clock(seconds)));
    let utc = utc_minute(seconds);
    let title = utc.clone();
    view! {
        <time datetime=wizfs_core::Timestamp::from(seconds).to_string() title=title>
            {move || match clock.get() {
                None => utc.clone(),
                Some(clock) => format!(
                    "{} · {}",
                    local_minute(seconds, clock.offset_minutes),
                    age(seconds, clock.now)
                ),
            }}
        </time>
    }
}

/// [`Moment`] for a time the API gives as text (`2026-12-07T12:40:00Z`); text it cannot
/// read is shown as it is.
pub fn moment_of(text: &str) -> AnyView {
    match crate::format::parse_utc(text) {
        Some(seconds) => view! { <Moment seconds=seconds/> }.into_any(),
        None => text.to_owned().into_any(),
    }
}
