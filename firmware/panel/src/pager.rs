//! Which page is on screen: the [`Pager`] moves to the next page when the page time has
//! passed or the button is pressed. It has no clock — the caller says how much time passed —
//! and it follows the state: a page that no longer applies (the setup page once the admin
//! password is set) is left for the first page.

use crate::{Page, PanelState, pages};

/// Cycles through [`pages`] of the state it is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pager {
    current: Page,
    page_milliseconds: u32,
    shown_milliseconds: u32,
}

impl Pager {
    /// A pager that shows each page for `page_milliseconds` (at least 1).
    pub fn new(page_milliseconds: u32) -> Self {
        Pager {
            current: Page::Overview,
            page_milliseconds: page_milliseconds.max(1),
            shown_milliseconds: 0,
        }
    }

    /// A pager that starts on the first page of `state`.
    pub fn starting_at(state: &PanelState<'_>, page_milliseconds: u32) -> Self {
        let mut pager = Pager::new(page_milliseconds);
        pager.current = pages(state).as_slice()[0];
        pager
    }

    /// The page to show for `state`: the current one if it still applies, else the first.
    pub fn page(&self, state: &PanelState<'_>) -> Page {
        let applicable = pages(state);
        if applicable.contains(self.current) {
            self.current
        } else {
            applicable.as_slice()[0]
        }
    }

    /// `elapsed_milliseconds` passed: moves on by as many pages as whole page times elapsed
    /// and returns the page to show.
    pub fn tick(&mut self, state: &PanelState<'_>, elapsed_milliseconds: u32) -> Page {
        self.current = self.page(state);
        let shown = u64::from(self.shown_milliseconds) + u64::from(elapsed_milliseconds);
        let period = u64::from(self.page_milliseconds);
        let steps = shown / period;
        self.shown_milliseconds = (shown % period) as u32;
        let applicable = pages(state);
        let count = applicable.len() as u64;
        let position = applicable.position(self.current).unwrap_or(0) as u64;
        self.current = applicable.as_slice()[((position + steps % count) % count) as usize];
        self.current
    }

    /// The button was pressed: the next page at once, shown for a whole page time.
    pub fn press(&mut self, state: &PanelState<'_>) -> Page {
        self.current = self.page(state);
        let applicable = pages(state);
        let position = applicable.position(self.current).unwrap_or(0);
        self.current = applicable.as_slice()[(position + 1) % applicable.len()];
        self.shown_milliseconds = 0;
        self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Backup;

    const BACKUP: Backup<'static> = Backup {
        target: "offsite",
        age_seconds: Some(60),
        stale: false,
    };

    #[test]
    fn time_moves_the_pages_round() {
        let state = PanelState {
            backup: Some(BACKUP),
            ..PanelState::default()
        };
        let mut pager = Pager::starting_at(&state, 5_000);
        assert_eq!(pager.page(&state), Page::Overview);
        assert_eq!(pager.tick(&state, 4_999), Page::Overview);
        assert_eq!(pager.tick(&state, 1), Page::Health);
        assert_eq!(pager.tick(&state, 5_000), Page::Backup);
        assert_eq!(pager.tick(&state, 5_000), Page::Overview);
        // A long pause moves on by whole page times.
        assert_eq!(pager.tick(&state, 15_000), Page::Overview);
        assert_eq!(pager.tick(&state, 10_000), Page::Backup);
    }

    #[test]
    fn a_press_moves_on_at_once_and_restarts_the_page_time() {
        let state = PanelState::default();
        let mut pager = Pager::starting_at(&state, 5_000);
        assert_eq!(pager.tick(&state, 4_000), Page::Overview);
        assert_eq!(pager.press(&state), Page::Health);
        assert_eq!(pager.tick(&state, 4_000), Page::Health);
        assert_eq!(pager.tick(&state, 1_000), Page::Overview);
    }

    #[test]
    fn a_page_that_no_longer_applies_gives_way_to_the_first() {
        let first_boot = PanelState {
            setup_code: Some("1234-5678"),
            ..PanelState::default()
        };
        let mut pager = Pager::starting_at(&first_boot, 5_000);
        assert_eq!(pager.page(&first_boot), Page::Setup);
        let set_up = PanelState::default();
        assert_eq!(pager.page(&set_up), Page::Overview);
        assert_eq!(pager.tick(&set_up, 5_000), Page::Health);
    }
}
