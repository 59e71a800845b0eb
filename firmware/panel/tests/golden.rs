//! Golden images of every page: each case (a healthy box, a degraded pool, a critical disk,
//! a stale backup, first boot, long names) is rendered page by page into a [`Frame`],
//! enlarged into a PNG that looks like the OLED, and compared with
//! `tests/golden/<case>-<page>.png`; the 20×4 LCD layout of the same pages is compared with
//! `tests/golden/<case>.lcd.txt`. `WIZFS_BLESS=1 cargo test -p wizfs-panel` rewrites them
//! and their copies `docs/screenshots/panel-<case>-<page>.png` (look at them before
//! committing); a mismatch leaves the actual image in the test's temporary target folder.

use std::fs;
use std::path::{Path, PathBuf};

use wizfs_panel::{
    Alert, Backup, COLUMNS, DEGREE, DiskTemperature, ELLIPSIS, Frame, HEIGHT, Level, Page,
    PanelState, PoolHealth, PoolSummary, WIDTH, pages, render, render_text,
};

const TIB: u64 = 1 << 40;
const HOUR: u64 = 3600;
const DAY: u64 = 24 * HOUR;

/// Each panel pixel becomes a `SCALE`×`SCALE` square, light on near-black like the OLED.
const SCALE: usize = 4;
const LIT: u8 = 0xF0;
const UNLIT: u8 = 0x14;

fn pool(name: &str, health: PoolHealth, allocated_tib: u64, size_tib: u64) -> PoolSummary<'_> {
    PoolSummary {
        name,
        health,
        allocated_bytes: allocated_tib * TIB,
        size_bytes: size_tib * TIB,
    }
}

const HEALTHY_POOLS: [PoolSummary<'static>; 2] = [
    PoolSummary {
        name: "tank",
        health: PoolHealth::Online,
        allocated_bytes: 5 * TIB,
        size_bytes: 12 * TIB,
    },
    PoolSummary {
        name: "backup",
        health: PoolHealth::Online,
        allocated_bytes: 3 * TIB,
        size_bytes: 4 * TIB,
    },
];

fn healthy() -> PanelState<'static> {
    PanelState {
        host_name: "wizfs-cupboard",
        address: "192.168.1.20",
        pools: &HEALTHY_POOLS,
        hottest_disk: Some(DiskTemperature {
            name: "WD40EFRX WD-3K7",
            celsius: 38,
            level: Level::Ok,
        }),
        worst_alert: None,
        backup: Some(Backup {
            target: "offsite.example.net",
            age_seconds: Some(5 * HOUR + 240),
            stale: false,
        }),
        setup_code: None,
    }
}

fn cases() -> Vec<(&'static str, PanelState<'static>)> {
    let degraded_pools: &'static [PoolSummary<'static>] = Box::leak(Box::new([
        pool("tank", PoolHealth::Degraded, 9, 12),
        pool("backup", PoolHealth::Online, 3, 4),
    ]));
    let faulted_pools: &'static [PoolSummary<'static>] = Box::leak(Box::new([
        pool("tank", PoolHealth::Online, 11, 12),
        pool("scratch", PoolHealth::Faulted, 0, 2),
    ]));
    let long_pools: &'static [PoolSummary<'static>] = Box::leak(Box::new([
        pool(
            "a-pool-whose-name-goes-on-and-on-and-on",
            PoolHealth::Suspended,
            12,
            12,
        ),
        pool(
            "photos-and-home-videos-2019-2026",
            PoolHealth::Online,
            1,
            40,
        ),
        pool("zz\u{202e}evil\nname\ttab", PoolHealth::Degraded, 2, 3),
        pool("fourth", PoolHealth::Online, 0, 1),
    ]));

    let mut degraded = healthy();
    degraded.pools = degraded_pools;
    degraded.worst_alert = Some(Alert {
        level: Level::Warning,
        text: "Pool tank is degraded: disk WD40EFRX WD-9Q2 is offline",
    });

    let mut critical_disk = healthy();
    critical_disk.pools = faulted_pools;
    critical_disk.hottest_disk = Some(DiskTemperature {
        name: "ST8000VN004 ZA1X",
        celsius: 61,
        level: Level::Critical,
    });
    critical_disk.worst_alert = Some(Alert {
        level: Level::Critical,
        text: "Disk ST8000VN004 ZA1X is failing: 312 reallocated sectors, SMART says FAILED",
    });

    let mut stale_backup = healthy();
    stale_backup.backup = Some(Backup {
        target: "offsite.example.net",
        age_seconds: Some(9 * DAY + 3 * HOUR),
        stale: true,
    });

    let first_boot = PanelState {
        host_name: "wizfs",
        address: "192.168.1.20",
        pools: &[],
        hottest_disk: Some(DiskTemperature {
            name: "WD40EFRX WD-3K7",
            celsius: 31,
            level: Level::Ok,
        }),
        worst_alert: None,
        backup: None,
        setup_code: Some("4821-9305"),
    };

    let long_names = PanelState {
        host_name: "nas-in-the-cupboard-under-the-stairs.home.example.org",
        address: "fd12:3456:789a:1::20 (nas-in-the-cupboard.local)",
        pools: long_pools,
        hottest_disk: Some(DiskTemperature {
            name: "Samsung SSD 990 PRO with Heatsink 4TB S7DSNJ0X123456",
            celsius: -5,
            level: Level::Warning,
        }),
        worst_alert: Some(Alert {
            level: Level::Critical,
            text: "Pool a-pool-whose-name-goes-on-and-on-and-on is suspended: I/O failures on every device, data written since may be lost",
        }),
        backup: Some(Backup {
            target: "backup-server-with-a-very-long-name.example.org:tank/backups/wizfs",
            age_seconds: None,
            stale: true,
        }),
        setup_code: Some("ABCD-EFGH-IJKL-MNOP-QRST"),
    };

    vec![
        ("healthy", healthy()),
        ("degraded-pool", degraded),
        ("critical-disk", critical_disk),
        ("stale-backup", stale_backup),
        ("first-boot", first_boot),
        ("long-names", long_names),
    ]
}

fn page_name(page: Page) -> String {
    match page {
        Page::Setup => "setup".into(),
        Page::Overview => "overview".into(),
        Page::Pools(index) => format!("pools-{}", index + 1),
        Page::Health => "health".into(),
        Page::Backup => "backup".into(),
    }
}

fn golden_folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn screenshot_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/screenshots")
        .join(format!("panel-{name}.png"))
}

fn blessing() -> bool {
    std::env::var_os("WIZFS_BLESS").is_some_and(|value| value == "1")
}

fn draw(page: Page, state: &PanelState<'_>) -> Frame {
    let mut frame = Frame::new();
    let Ok(()) = render(page, state, &mut frame);
    frame
}

/// The frame enlarged to grey levels, row by row.
fn enlarge(frame: &Frame) -> Vec<u8> {
    let width = WIDTH as usize * SCALE;
    let mut grey = vec![UNLIT; width * HEIGHT as usize * SCALE];
    for y in 0..HEIGHT as usize {
        for x in 0..WIDTH as usize {
            let level = if frame.is_on(x as u32, y as u32) {
                LIT
            } else {
                UNLIT
            };
            for dy in 0..SCALE {
                for dx in 0..SCALE {
                    grey[(y * SCALE + dy) * width + x * SCALE + dx] = level;
                }
            }
        }
    }
    grey
}

fn encode_png(grey: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, WIDTH * SCALE as u32, HEIGHT * SCALE as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().expect("PNG header");
    writer.write_image_data(grey).expect("PNG data");
    writer.finish().expect("PNG end");
    bytes
}

fn decode_png(bytes: &[u8]) -> Vec<u8> {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("golden PNG header");
    let mut grey = vec![0; reader.output_buffer_size().expect("PNG size")];
    let info = reader.next_frame(&mut grey).expect("golden PNG data");
    assert_eq!(
        (info.width, info.height, info.color_type),
        (
            WIDTH * SCALE as u32,
            HEIGHT * SCALE as u32,
            png::ColorType::Grayscale
        ),
        "golden PNG of another shape"
    );
    grey.truncate(info.buffer_size());
    grey
}

/// The LCD screens of every page as text: the ellipsis as `…`, the degree sign as `°`.
fn lcd_text(state: &PanelState<'_>) -> String {
    let mut text = String::new();
    for page in pages(state).as_slice() {
        text.push_str(&format!("[{}]\n", page_name(*page)));
        for row in render_text(*page, state) {
            assert_eq!(row.len(), COLUMNS);
            text.push('|');
            for byte in row {
                match byte {
                    ELLIPSIS => text.push('…'),
                    DEGREE => text.push('°'),
                    b' '..=b'}' => text.push(char::from(byte)),
                    other => panic!("byte {other:#04x} the LCD does not show"),
                }
            }
            text.push_str("|\n");
        }
    }
    text
}

#[test]
fn every_page_of_every_case_matches_its_golden_image() {
    let mut failures = Vec::new();
    for (case, state) in cases() {
        for page in pages(&state).as_slice() {
            let name = format!("{case}-{}", page_name(*page));
            let frame = draw(*page, &state);
            assert_eq!(frame.pixels_outside(), 0, "{name}: pixels outside 128×64");
            let grey = enlarge(&frame);
            let path = golden_folder().join(format!("{name}.png"));
            if blessing() {
                let png = encode_png(&grey);
                fs::write(&path, &png).expect("write golden PNG");
                fs::write(screenshot_path(&name), &png).expect("write screenshot");
                continue;
            }
            let golden = match fs::read(&path) {
                Ok(bytes) => decode_png(&bytes),
                Err(error) => {
                    failures.push(format!("{name}: {error} (WIZFS_BLESS=1 writes it)"));
                    continue;
                }
            };
            if golden != grey {
                let actual = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.png"));
                fs::write(&actual, encode_png(&grey)).expect("write actual PNG");
                failures.push(format!("{name}: differs; actual in {}", actual.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_screenshots_in_the_docs_are_the_golden_images() {
    if blessing() {
        return;
    }
    for (case, state) in cases() {
        for page in pages(&state).as_slice() {
            let name = format!("{case}-{}", page_name(*page));
            let golden = fs::read(golden_folder().join(format!("{name}.png")));
            let screenshot = fs::read(screenshot_path(&name));
            assert!(
                golden.is_ok() && golden.ok() == screenshot.ok(),
                "docs/screenshots/panel-{name}.png differs from the golden image (WIZFS_BLESS=1 copies it)"
            );
        }
    }
}

#[test]
fn every_case_matches_its_golden_lcd_text() {
    for (case, state) in cases() {
        let text = lcd_text(&state);
        let path = golden_folder().join(format!("{case}.lcd.txt"));
        if blessing() {
            fs::write(&path, &text).expect("write golden text");
            continue;
        }
        let golden = fs::read_to_string(&path).unwrap_or_else(|error| {
            panic!("{}: {error} (WIZFS_BLESS=1 writes it)", path.display())
        });
        assert_eq!(
            text,
            golden,
            "{case}: LCD layout differs from {}",
            path.display()
        );
    }
}

#[test]
fn text_stays_inside_the_margins() {
    for (case, state) in cases() {
        for page in pages(&state).as_slice() {
            let frame = draw(*page, &state);
            for y in 11..HEIGHT {
                assert!(
                    !frame.is_on(0, y) && !frame.is_on(WIDTH - 1, y),
                    "{case}-{}: a pixel on the edge at row {y}",
                    page_name(*page)
                );
            }
        }
    }
}

#[test]
fn a_long_name_never_covers_the_state_beside_it() {
    let short = [pool("t", PoolHealth::Suspended, 1, 2)];
    let long = [pool(
        "a-pool-whose-name-goes-on-and-on-and-on",
        PoolHealth::Suspended,
        1,
        2,
    )];
    let short_state = PanelState {
        pools: &short,
        ..healthy()
    };
    let long_state = PanelState {
        pools: &long,
        ..healthy()
    };
    let short_frame = draw(Page::Pools(0), &short_state);
    let long_frame = draw(Page::Pools(0), &long_state);
    // "SUSPENDED" as a badge takes the right 9 × 6 + 2 pixels of the first pool's line.
    let label_left = WIDTH - 1 - (9 * 6 + 2);
    for y in 11..24 {
        for x in label_left - 3..WIDTH {
            assert_eq!(
                short_frame.is_on(x, y),
                long_frame.is_on(x, y),
                "pixel ({x}, {y}) changed with the name's length"
            );
        }
    }
    // And the long name shows up to the gap before the label, ending in an ellipsis.
    assert!((1..label_left - 6).any(|x| long_frame.is_on(x, 20)));
}

#[test]
fn the_setup_page_comes_and_goes_with_the_setup_code() {
    let mut state = healthy();
    assert!(!pages(&state).contains(Page::Setup));
    state.setup_code = Some("4821-9305");
    assert_eq!(pages(&state).as_slice()[0], Page::Setup);
}
