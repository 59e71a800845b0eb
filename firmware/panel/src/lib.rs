//! The WiZFS front panel, without hardware: a [`PanelState`] (host, address, pools, hottest
//! disk, worst alert, last backup, setup code) laid out as a few [`Page`]s that cycle, drawn
//! into any 128×64 `DrawTarget<Color = BinaryColor>` ([`render`]) or written as a 20×4
//! character LCD screen ([`render_text`]). Pure: no I/O, no clock (a [`Pager`] is told how
//! much time passed), no allocation. Drivers and the daemon loop live elsewhere and stay
//! thin around this crate.
#![no_std]

mod draw;
mod frame;
mod lcd;
mod pager;
mod state;
pub mod text;

pub use draw::{HEIGHT, WIDTH, render};
pub use frame::Frame;
pub use lcd::{COLUMNS, DEGREE, ELLIPSIS, ELLIPSIS_GLYPH, ROWS, render_text};
pub use pager::Pager;
pub use state::{Alert, Backup, DiskTemperature, Level, PanelState, PoolHealth, PoolSummary};

/// Pools listed on one pools page (both layouts).
pub const POOLS_PER_PAGE: usize = 3;
/// At most this many pools pages; the last one says how many pools it leaves out.
pub const MAX_POOL_PAGES: usize = 4;
/// The most pages [`pages`] ever gives.
pub const MAX_PAGES: usize = 4 + MAX_POOL_PAGES;

/// One screen of the panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Page {
    /// First boot: the address to open and the setup code (only while there is a code).
    Setup,
    /// Host name, address, and one line each on pools, the worst alert and the backup.
    Overview,
    /// Pools `index * POOLS_PER_PAGE ..`, each with its state and capacity bar.
    Pools(u8),
    /// The hottest disk and the worst open alert.
    Health,
    /// The last good backup (only when a backup is configured).
    Backup,
}

/// The pages that apply to a state, in the order they cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pages {
    items: [Page; MAX_PAGES],
    length: usize,
}

impl Pages {
    fn push(&mut self, page: Page) {
        if self.length < MAX_PAGES {
            self.items[self.length] = page;
            self.length += 1;
        }
    }

    pub fn as_slice(&self) -> &[Page] {
        &self.items[..self.length]
    }

    pub fn len(&self) -> usize {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    pub fn contains(&self, page: Page) -> bool {
        self.as_slice().contains(&page)
    }

    pub fn position(&self, page: Page) -> Option<usize> {
        self.as_slice()
            .iter()
            .position(|candidate| *candidate == page)
    }
}

/// How many pools pages a state needs.
pub(crate) fn pool_page_count(state: &PanelState<'_>) -> usize {
    state
        .pools
        .len()
        .div_ceil(POOLS_PER_PAGE)
        .min(MAX_POOL_PAGES)
}

/// What pools page `index` shows, on either kind of display: its pools, their worst level
/// and its title (`Pools`, `Pools 2/3`, `Pools 4/4 +2` when pools were left out).
pub(crate) struct PoolsPage<'s, 'a> {
    pub(crate) shown: &'s [PoolSummary<'a>],
    pub(crate) worst: Level,
    pub(crate) title: text::TextBuffer<24>,
}

/// The pools page `index` of `state`.
pub(crate) fn pools_page<'s, 'a>(state: &'s PanelState<'a>, index: usize) -> PoolsPage<'s, 'a> {
    let page_count = pool_page_count(state);
    let first = index * POOLS_PER_PAGE;
    let shown = state
        .pools
        .get(first..(first + POOLS_PER_PAGE).min(state.pools.len()))
        .unwrap_or(&[]);
    let worst = shown
        .iter()
        .map(|pool| pool.health.level())
        .max()
        .unwrap_or(Level::Ok);
    let hidden = state
        .pools
        .len()
        .saturating_sub(page_count * POOLS_PER_PAGE);
    let title = if page_count == 1 {
        text::format(format_args!("Pools"))
    } else if hidden > 0 && index + 1 == page_count {
        text::format(format_args!("Pools {}/{} +{hidden}", index + 1, page_count))
    } else {
        text::format(format_args!("Pools {}/{}", index + 1, page_count))
    };
    PoolsPage {
        shown,
        worst,
        title,
    }
}

/// The pages that apply: the setup page first while a setup code exists, the overview, the
/// pools pages when there are pools, health, and backup when a backup is configured.
pub fn pages(state: &PanelState<'_>) -> Pages {
    let mut pages = Pages {
        items: [Page::Overview; MAX_PAGES],
        length: 0,
    };
    if state.setup_code.is_some() {
        pages.push(Page::Setup);
    }
    pages.push(Page::Overview);
    for index in 0..pool_page_count(state) {
        pages.push(Page::Pools(index as u8));
    }
    pages.push(Page::Health);
    if state.backup.is_some() {
        pages.push(Page::Backup);
    }
    pages
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(name: &str) -> PoolSummary<'_> {
        PoolSummary {
            name,
            health: PoolHealth::Online,
            allocated_bytes: 1,
            size_bytes: 2,
        }
    }

    #[test]
    fn the_setup_page_exists_only_with_a_setup_code() {
        let mut state = PanelState::default();
        assert_eq!(pages(&state).as_slice(), [Page::Overview, Page::Health]);
        state.setup_code = Some("1234-5678");
        assert_eq!(pages(&state).as_slice()[0], Page::Setup);
    }

    #[test]
    fn pools_spread_over_pages_up_to_a_limit() {
        let many = [pool("a"); 20];
        let state = PanelState {
            pools: &many[..4],
            ..PanelState::default()
        };
        assert_eq!(
            pages(&state).as_slice(),
            [Page::Overview, Page::Pools(0), Page::Pools(1), Page::Health]
        );
        let state = PanelState {
            pools: &many,
            backup: Some(Backup {
                target: "offsite",
                age_seconds: Some(60),
                stale: false,
            }),
            setup_code: Some("x"),
            ..PanelState::default()
        };
        let all = pages(&state);
        assert_eq!(all.len(), MAX_PAGES);
        assert_eq!(all.as_slice()[MAX_PAGES - 1], Page::Backup);
    }
}
