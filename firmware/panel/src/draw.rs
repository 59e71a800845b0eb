//! The pages drawn for a 128×64 one-bit display: an inverted header line (title and the
//! worst level), then lines of the 6×10 font (21 cells), capacity bars, and the 10×20 font
//! for what must read from across a room (the setup code, the backup's age). Every string
//! is drawn cell by cell through [`text::fit`], so a long name ends in an ellipsis and
//! nothing is ever drawn outside the panel; control characters show as `?`.

use embedded_graphics::Drawable;
use embedded_graphics::mono_font::iso_8859_1::{FONT_4X6, FONT_6X10, FONT_10X20};
use embedded_graphics::mono_font::{MonoFont, MonoTextStyle};
use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::{DrawTarget, Point, Primitive, Size};
use embedded_graphics::primitives::{PrimitiveStyle, Rectangle};
use embedded_graphics::text::{Baseline, Text};

use crate::Page;
use crate::state::{Level, PanelState};
use crate::text::{self, TextBuffer, cell_count, fit, wrap};

/// Panel width in pixels.
pub const WIDTH: u32 = 128;
/// Panel height in pixels.
pub const HEIGHT: u32 = 64;

const HEADER_HEIGHT: u32 = 11;
const MARGIN: i32 = 1;
/// Tops of the four body lines of the 6×10 font under the header.
const LINES: [i32; 4] = [13, 26, 39, 52];
const BODY_CELLS: usize = ((WIDTH as i32 - 2 * MARGIN) / 6) as usize;

/// Draws `page` of `state` over the whole 128×64 target (cleared first).
pub fn render<D>(page: Page, state: &PanelState<'_>, target: &mut D) -> Result<(), D::Error>
where
    D: DrawTarget<Color = BinaryColor>,
{
    target.clear(BinaryColor::Off)?;
    match page {
        Page::Setup => setup(state, target),
        Page::Overview => overview(state, target),
        Page::Pools(index) => pools(state, usize::from(index), target),
        Page::Health => health(state, target),
        Page::Backup => backup(state, target),
    }
}

fn setup<D>(state: &PanelState<'_>, target: &mut D) -> Result<(), D::Error>
where
    D: DrawTarget<Color = BinaryColor>,
{
    header(target, "First boot", Some("SETUP"))?;
    line(target, LINES[0] - 1, "Open in a browser:", &FONT_6X10)?;
    line(target, LINES[0] + 9, state.address, &FONT_6X10)?;
    line(target, LINES[0] + 20, "Setup code:", &FONT_6X10)?;
    let code = state.setup_code.unwrap_or("");
    let big_cells = (WIDTH as i32 - 2 * MARGIN) as usize / 10;
    if cell_count(code) <= big_cells {
        cells(
            target,
            Point::new(MARGIN, 44),
            code,
            &FONT_10X20,
            BinaryColor::On,
            big_cells,
        )?;
    } else {
        line(target, 48, code, &FONT_6X10)?;
    }
    Ok(())
}

fn overview<D>(state: &PanelState<'_>, target: &mut D) -> Result<(), D::Error>
where
    D: DrawTarget<Color = BinaryColor>,
{
    header(target, state.host_name, Some(state.overall_level().tag()))?;
    line(target, LINES[0], state.address, &FONT_6X10)?;

    match state.worst_pool() {
        None => line(target, LINES[1], "No pools", &FONT_6X10)?,
        Some(worst) if worst.health.level() == Level::Ok => {
            let plural = if state.pools.len() == 1 { "" } else { "s" };
            let summary: TextBuffer<32> =
                text::format(format_args!("{} pool{plural} ONLINE", state.pools.len()));
            line(target, LINES[1], summary.as_str(), &FONT_6X10)?;
        }
        Some(worst) => {
            labelled(
                target,
                LINES[1],
                worst.name,
                worst.health.label(),
                worst.health.level() >= Level::Critical,
            )?;
        }
    }

    match state.worst_alert {
        None => line(target, LINES[2], "No open alerts", &FONT_6X10)?,
        Some(alert) => {
            let tag_width = badge(target, Point::new(MARGIN, LINES[2]), alert.level.tag())?;
            let x = MARGIN + tag_width + 3;
            let room = ((WIDTH as i32 - MARGIN - x) / 6) as usize;
            cells(
                target,
                Point::new(x, LINES[2]),
                alert.text,
                &FONT_6X10,
                BinaryColor::On,
                room,
            )?;
        }
    }

    if let Some(backup) = state.backup {
        let age = backup_age(backup.age_seconds);
        let summary: TextBuffer<32> = text::format(format_args!("Backup {}", age.as_str()));
        if backup.stale {
            labelled(target, LINES[3], summary.as_str(), "STALE", true)?;
        } else {
            line(target, LINES[3], summary.as_str(), &FONT_6X10)?;
        }
    } else if let Some(disk) = state.hottest_disk {
        disk_line(target, LINES[3], disk.name, disk.celsius, disk.level)?;
    }
    Ok(())
}

fn pools<D>(state: &PanelState<'_>, index: usize, target: &mut D) -> Result<(), D::Error>
where
    D: DrawTarget<Color = BinaryColor>,
{
    let crate::PoolsPage {
        shown,
        worst,
        title,
    } = crate::pools_page(state, index);
    header(target, title.as_str(), Some(worst.tag()))?;

    for (slot, pool) in shown.iter().enumerate() {
        let top = HEADER_HEIGHT as i32 + 1 + 17 * slot as i32;
        labelled(
            target,
            top,
            pool.name,
            pool.health.label(),
            pool.health.level() >= Level::Critical,
        )?;
        let percent = pool.percent_used();
        let bar_width: u32 = 104;
        Rectangle::new(Point::new(MARGIN, top + 11), Size::new(bar_width, 5))
            .into_styled(PrimitiveStyle::with_stroke(BinaryColor::On, 1))
            .draw(target)?;
        let filled = (bar_width - 2) * u32::from(percent) / 100;
        if filled > 0 {
            Rectangle::new(Point::new(MARGIN + 1, top + 12), Size::new(filled, 3))
                .into_styled(PrimitiveStyle::with_fill(BinaryColor::On))
                .draw(target)?;
        }
        let label: TextBuffer<8> = text::format(format_args!("{percent}%"));
        right(target, top + 10, label.as_str(), &FONT_4X6, BinaryColor::On)?;
    }
    Ok(())
}

fn health<D>(state: &PanelState<'_>, target: &mut D) -> Result<(), D::Error>
where
    D: DrawTarget<Color = BinaryColor>,
{
    let disk_level = state.hottest_disk.map_or(Level::Ok, |disk| disk.level);
    let alert_level = state.worst_alert.map_or(Level::Ok, |alert| alert.level);
    header(target, "Health", Some(disk_level.max(alert_level).tag()))?;

    match state.hottest_disk {
        Some(disk) => disk_line(target, LINES[0], disk.name, disk.celsius, disk.level)?,
        None => line(target, LINES[0], "No disk temperature", &FONT_6X10)?,
    }

    let Some(alert) = state.worst_alert else {
        return line(target, LINES[1], "No open alerts", &FONT_6X10);
    };
    let tag_width = badge(target, Point::new(MARGIN, LINES[1]), alert.level.tag())?;
    let x = MARGIN + tag_width + 3;
    let first_cells = ((WIDTH as i32 - MARGIN - x) / 6) as usize;
    let (first, mut rest) = wrap(alert.text, first_cells);
    cells(
        target,
        Point::new(x, LINES[1]),
        first,
        &FONT_6X10,
        BinaryColor::On,
        first_cells,
    )?;
    for (number, top) in LINES[2..].iter().enumerate() {
        if rest.is_empty() {
            break;
        }
        let last = number + 3 == LINES.len();
        let (shown, remaining) = if last {
            (rest, "")
        } else {
            wrap(rest, BODY_CELLS)
        };
        line(target, *top, shown, &FONT_6X10)?;
        rest = remaining;
    }
    Ok(())
}

fn backup<D>(state: &PanelState<'_>, target: &mut D) -> Result<(), D::Error>
where
    D: DrawTarget<Color = BinaryColor>,
{
    let Some(backup) = state.backup else {
        header(target, "Backup", None)?;
        return line(target, LINES[0], "No backup configured", &FONT_6X10);
    };
    header(target, "Backup", Some(backup.level().tag()))?;
    let caption = if backup.age_seconds.is_some() {
        "Last good backup"
    } else {
        "No good backup yet"
    };
    line(target, LINES[0], caption, &FONT_6X10)?;
    if backup.age_seconds.is_some() {
        let age = backup_age(backup.age_seconds);
        cells(
            target,
            Point::new(MARGIN, 26),
            age.as_str(),
            &FONT_10X20,
            BinaryColor::On,
            12,
        )?;
    }
    let target_line: TextBuffer<96> = text::format(format_args!("to {}", backup.target));
    if backup.stale {
        labelled(target, LINES[3], target_line.as_str(), "STALE", true)
    } else {
        line(target, LINES[3], target_line.as_str(), &FONT_6X10)
    }
}

fn backup_age(age_seconds: Option<u64>) -> TextBuffer<16> {
    match age_seconds {
        Some(seconds) => text::age(seconds),
        None => text::format(format_args!("never")),
    }
}

/// `name` on the left and `°C` on the right, the temperature inverted when it is a
/// warning or worse.
fn disk_line<D>(
    target: &mut D,
    top: i32,
    name: &str,
    celsius: i16,
    level: Level,
) -> Result<(), D::Error>
where
    D: DrawTarget<Color = BinaryColor>,
{
    let temperature: TextBuffer<12> = text::format(format_args!("{celsius}°C"));
    let label: TextBuffer<96> = text::format(format_args!("Disk {name}"));
    labelled(
        target,
        top,
        label.as_str(),
        temperature.as_str(),
        level >= Level::Warning,
    )
}

/// The inverted header line: `title` on the left, `tag` on the right.
fn header<D>(target: &mut D, title: &str, tag: Option<&str>) -> Result<(), D::Error>
where
    D: DrawTarget<Color = BinaryColor>,
{
    Rectangle::new(Point::zero(), Size::new(WIDTH, HEADER_HEIGHT))
        .into_styled(PrimitiveStyle::with_fill(BinaryColor::On))
        .draw(target)?;
    let tag_left = match tag {
        Some(tag) => right(target, 1, tag, &FONT_6X10, BinaryColor::Off)?,
        None => WIDTH as i32 - MARGIN,
    };
    let room = ((tag_left - 2 - 6) / 6).max(0) as usize;
    cells(
        target,
        Point::new(2, 1),
        title,
        &FONT_6X10,
        BinaryColor::Off,
        room,
    )?;
    Ok(())
}

/// `text` on the left of a body line and `label` on its right (inverted when `loud`), the
/// text cut to leave a cell between them.
fn labelled<D>(
    target: &mut D,
    top: i32,
    text: &str,
    label: &str,
    loud: bool,
) -> Result<(), D::Error>
where
    D: DrawTarget<Color = BinaryColor>,
{
    let label_left = if loud {
        let width = badge_width(label);
        badge(
            target,
            Point::new(WIDTH as i32 - MARGIN - width, top),
            label,
        )?;
        WIDTH as i32 - MARGIN - width
    } else {
        right(target, top, label, &FONT_6X10, BinaryColor::On)?
    };
    let room = ((label_left - MARGIN - 6) / 6).max(0) as usize;
    cells(
        target,
        Point::new(MARGIN, top),
        text,
        &FONT_6X10,
        BinaryColor::On,
        room,
    )?;
    Ok(())
}

fn badge_width(text: &str) -> i32 {
    (cell_count(text).min(BODY_CELLS) * 6) as i32 + 2
}

/// `text` inverted in a box as tall as the font and a pixel wider than the text on each
/// side; returns its width.
fn badge<D>(target: &mut D, top_left: Point, text: &str) -> Result<i32, D::Error>
where
    D: DrawTarget<Color = BinaryColor>,
{
    let width = badge_width(text);
    Rectangle::new(top_left, Size::new(width as u32, 10))
        .into_styled(PrimitiveStyle::with_fill(BinaryColor::On))
        .draw(target)?;
    cells(
        target,
        top_left + Point::new(1, 0),
        text,
        &FONT_6X10,
        BinaryColor::Off,
        BODY_CELLS,
    )?;
    Ok(width)
}

/// One body line in `font`, cut to the panel's width.
fn line<D>(target: &mut D, top: i32, text: &str, font: &MonoFont<'_>) -> Result<(), D::Error>
where
    D: DrawTarget<Color = BinaryColor>,
{
    let room = ((WIDTH as i32 - 2 * MARGIN) as u32 / font.character_size.width) as usize;
    cells(
        target,
        Point::new(MARGIN, top),
        text,
        font,
        BinaryColor::On,
        room,
    )?;
    Ok(())
}

/// `text` ending at the right margin; returns the x where it starts.
fn right<D>(
    target: &mut D,
    top: i32,
    text: &str,
    font: &MonoFont<'_>,
    color: BinaryColor,
) -> Result<i32, D::Error>
where
    D: DrawTarget<Color = BinaryColor>,
{
    let cell_width = font.character_size.width as i32;
    let room = ((WIDTH as i32 - 2 * MARGIN) / cell_width) as usize;
    let fitted = fit(text, room);
    let left = WIDTH as i32 - MARGIN - fitted.cells() as i32 * cell_width;
    cells(target, Point::new(left, top), text, font, color, room)?;
    Ok(left)
}

/// Draws `text` from `top_left` in at most `room` cells of `font`, one character per cell
/// (control characters as `?`), ending in an ellipsis when cut. Returns the cells taken.
fn cells<D>(
    target: &mut D,
    top_left: Point,
    text: &str,
    font: &MonoFont<'_>,
    color: BinaryColor,
    room: usize,
) -> Result<usize, D::Error>
where
    D: DrawTarget<Color = BinaryColor>,
{
    let style = MonoTextStyle::new(font, color);
    let cell_width = font.character_size.width as i32;
    let fitted = fit(text, room);
    let mut position = top_left;
    for character in fitted.shown.chars() {
        let character = if character.is_control() {
            '?'
        } else {
            character
        };
        let mut bytes = [0u8; 4];
        let glyph = character.encode_utf8(&mut bytes);
        Text::with_baseline(glyph, position, style, Baseline::Top).draw(target)?;
        position.x += cell_width;
    }
    if fitted.ellipsis {
        let dot = if cell_width >= 10 { 2 } else { 1 };
        let dot_top = position.y + font.baseline as i32 + 1 - dot;
        for number in 0..3 {
            Rectangle::new(
                Point::new(position.x + number * 2 * dot, dot_top),
                Size::new(dot as u32, dot as u32),
            )
            .into_styled(PrimitiveStyle::with_fill(color))
            .draw(target)?;
        }
    }
    Ok(fitted.cells())
}
