//! The same pages as text for a 20×4 character LCD (HD44780 behind a PCF8574): each page is
//! four rows of twenty bytes in the controller's character set (ROM A00), ready to send.
//! Printable ASCII passes through except `\` and `~`, which that ROM lacks (¥ and → stand
//! there); `°` becomes the ROM's degree sign; anything else is `?`. A cut name ends in
//! [`ELLIPSIS`], a custom character the driver loads from [`ELLIPSIS_GLYPH`].

use crate::Page;
use crate::state::{Level, PanelState};
use crate::text::{self, TextBuffer, cell_count, fit, wrap};

/// Characters per row.
pub const COLUMNS: usize = 20;
/// Rows.
pub const ROWS: usize = 4;
/// The code of the ellipsis: custom character 1 (CGRAM), which the driver must define.
pub const ELLIPSIS: u8 = 0x01;
/// The ellipsis as a 5×8 custom character, one row per byte (low 5 bits).
pub const ELLIPSIS_GLYPH: [u8; 8] = [0, 0, 0, 0, 0, 0, 0b10101, 0];
/// The degree sign of ROM A00.
pub const DEGREE: u8 = 0xDF;

/// Four rows of twenty characters.
type Screen = [[u8; COLUMNS]; ROWS];

/// Lays out `page` of `state` for a 20×4 character LCD.
pub fn render_text(page: Page, state: &PanelState<'_>) -> Screen {
    let mut screen = [[b' '; COLUMNS]; ROWS];
    match page {
        Page::Setup => setup(state, &mut screen),
        Page::Overview => overview(state, &mut screen),
        Page::Pools(index) => pools(state, usize::from(index), &mut screen),
        Page::Health => health(state, &mut screen),
        Page::Backup => backup(state, &mut screen),
    }
    screen
}

fn setup(state: &PanelState<'_>, screen: &mut Screen) {
    put(screen, 0, 0, "First boot setup", COLUMNS);
    put(screen, 1, 0, "Open in a browser:", COLUMNS);
    put(screen, 2, 0, state.address, COLUMNS);
    let used = put(screen, 3, 0, "Code ", COLUMNS);
    put(
        screen,
        3,
        used,
        state.setup_code.unwrap_or(""),
        COLUMNS - used,
    );
}

fn overview(state: &PanelState<'_>, screen: &mut Screen) {
    title(screen, state.host_name, state.overall_level());
    put(screen, 1, 0, state.address, COLUMNS);
    match state.worst_pool() {
        None => {
            put(screen, 2, 0, "No pools", COLUMNS);
        }
        Some(worst) if worst.health.level() == Level::Ok => {
            let plural = if state.pools.len() == 1 { "" } else { "s" };
            let summary: TextBuffer<24> =
                text::format(format_args!("{} pool{plural} ONLINE", state.pools.len()));
            put(screen, 2, 0, summary.as_str(), COLUMNS);
        }
        Some(worst) => labelled(screen, 2, worst.name, worst.health.label()),
    }
    let stale_backup = state.backup.filter(|backup| backup.stale);
    match (state.worst_alert, stale_backup) {
        (Some(alert), _) => {
            let used = put(screen, 3, 0, alert.level.tag(), COLUMNS);
            put(screen, 3, used + 1, alert.text, COLUMNS - used - 1);
        }
        (None, Some(backup)) => {
            let age = backup_age(backup.age_seconds);
            let summary: TextBuffer<32> = text::format(format_args!("Backup {}", age.as_str()));
            labelled(screen, 3, summary.as_str(), "STALE");
        }
        (None, None) => {
            put(screen, 3, 0, "No open alerts", COLUMNS);
        }
    }
}

fn pools(state: &PanelState<'_>, index: usize, screen: &mut Screen) {
    let crate::PoolsPage {
        shown,
        worst,
        title: heading,
    } = crate::pools_page(state, index);
    title(screen, heading.as_str(), worst);
    for (slot, pool) in shown.iter().enumerate() {
        let row = slot + 1;
        put(screen, row, 0, pool.name, 10);
        put(screen, row, 11, pool.health.short_label(), 4);
        let percent: TextBuffer<8> = text::format(format_args!("{}%", pool.percent_used()));
        put_right(screen, row, percent.as_str());
    }
}

fn health(state: &PanelState<'_>, screen: &mut Screen) {
    let disk_level = state.hottest_disk.map_or(Level::Ok, |disk| disk.level);
    let alert_level = state.worst_alert.map_or(Level::Ok, |alert| alert.level);
    title(screen, "Health", disk_level.max(alert_level));
    match state.hottest_disk {
        Some(disk) => {
            let temperature: TextBuffer<12> = text::format(format_args!("{}°C", disk.celsius));
            labelled(screen, 1, disk.name, temperature.as_str());
        }
        None => {
            put(screen, 1, 0, "No disk temperature", COLUMNS);
        }
    }
    match state.worst_alert {
        None => {
            put(screen, 2, 0, "No open alerts", COLUMNS);
        }
        Some(alert) => {
            let used = put(screen, 2, 0, alert.level.tag(), COLUMNS) + 1;
            let (first, rest) = wrap(alert.text, COLUMNS - used);
            put(screen, 2, used, first, COLUMNS - used);
            put(screen, 3, 0, rest, COLUMNS);
        }
    }
}

fn backup(state: &PanelState<'_>, screen: &mut Screen) {
    let Some(backup) = state.backup else {
        title(screen, "Backup", Level::Ok);
        put(screen, 1, 0, "No backup configured", COLUMNS);
        return;
    };
    title(screen, "Backup", backup.level());
    if backup.age_seconds.is_some() {
        put(screen, 1, 0, "Last good backup", COLUMNS);
        put(
            screen,
            2,
            0,
            backup_age(backup.age_seconds).as_str(),
            COLUMNS,
        );
    } else {
        put(screen, 1, 0, "No good backup yet", COLUMNS);
    }
    let destination: TextBuffer<96> = text::format(format_args!("to {}", backup.target));
    if backup.stale {
        labelled(screen, 3, destination.as_str(), "STALE");
    } else {
        put(screen, 3, 0, destination.as_str(), COLUMNS);
    }
}

fn backup_age(age_seconds: Option<u64>) -> TextBuffer<16> {
    match age_seconds {
        Some(seconds) => text::age(seconds),
        None => text::format(format_args!("never")),
    }
}

/// Row 0: `heading` on the left, the level's tag on the right.
fn title(screen: &mut Screen, heading: &str, level: Level) {
    labelled(screen, 0, heading, level.tag());
}

/// `text` on the left of `row`, `label` on its right, with at least one space between.
fn labelled(screen: &mut Screen, row: usize, text: &str, label: &str) {
    let label_cells = cell_count(label).min(COLUMNS);
    put_right(screen, row, label);
    put(
        screen,
        row,
        0,
        text,
        COLUMNS.saturating_sub(label_cells + 1),
    );
}

fn put_right(screen: &mut Screen, row: usize, text: &str) {
    let cells = cell_count(text).min(COLUMNS);
    put(screen, row, COLUMNS - cells, text, cells);
}

/// Writes `text` at `column` of `row` in at most `room` cells (never past the row's end),
/// ending in [`ELLIPSIS`] when cut; returns the cells written.
fn put(screen: &mut Screen, row: usize, column: usize, text: &str, room: usize) -> usize {
    let room = room.min(COLUMNS.saturating_sub(column));
    let fitted = fit(text, room);
    let mut position = column;
    for character in fitted.shown.chars() {
        screen[row][position] = rom_code(character);
        position += 1;
    }
    if fitted.ellipsis {
        screen[row][position] = ELLIPSIS;
        position += 1;
    }
    position - column
}

/// The ROM A00 code showing `character`.
fn rom_code(character: char) -> u8 {
    match character {
        '°' => DEGREE,
        '\\' | '~' => b'?',
        ' '..='}' => character as u8,
        _ => b'?',
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Alert, PoolHealth, PoolSummary};

    fn row(screen: &Screen, index: usize) -> &str {
        core::str::from_utf8(&screen[index]).unwrap_or("<not ASCII>")
    }

    #[test]
    fn a_pools_page_lists_name_state_and_capacity() {
        let pools = [
            PoolSummary {
                name: "tank",
                health: PoolHealth::Online,
                allocated_bytes: 87,
                size_bytes: 100,
            },
            PoolSummary {
                name: "a-very-long-pool-name",
                health: PoolHealth::Degraded,
                allocated_bytes: 100,
                size_bytes: 100,
            },
        ];
        let state = PanelState {
            pools: &pools,
            ..PanelState::default()
        };
        let screen = render_text(Page::Pools(0), &state);
        assert_eq!(row(&screen, 0), "Pools           WARN");
        assert_eq!(row(&screen, 1), "tank       OK    87%");
        assert_eq!(&screen[2][..9], b"a-very-lo");
        assert_eq!(screen[2][9], ELLIPSIS);
        assert_eq!(&screen[2][10..], b" DEGR 100%");
        assert_eq!(row(&screen, 3), "                    ");
    }

    #[test]
    fn the_health_page_wraps_the_alert_and_uses_the_degree_sign() {
        let state = PanelState {
            hottest_disk: Some(crate::DiskTemperature {
                name: "WD40EFRX ZX123",
                celsius: 61,
                level: Level::Critical,
            }),
            worst_alert: Some(Alert {
                level: Level::Critical,
                text: "Disk WDC WD40EFRX-68N is failing: 24 reallocated sectors",
            }),
            ..PanelState::default()
        };
        let screen = render_text(Page::Health, &state);
        assert_eq!(&screen[0], b"Health          CRIT");
        assert_eq!(&screen[1][..16], b"WD40EFRX ZX123  ");
        assert_eq!(&screen[1][16..], &[b'6', b'1', DEGREE, b'C'][..]);
        assert_eq!(&screen[2], b"CRIT Disk WDC       ");
        assert_eq!(&screen[3][..19], b"WD40EFRX-68N is fai");
        assert_eq!(screen[3][19], ELLIPSIS);
    }
}
