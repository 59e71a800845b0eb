//! The parser of `zpool status -p` (C locale, UTC): pool state, the "status:"/"action:"
//! texts, the vdev tree with its error counters, the latest scrub or resilver, and the data
//! error count. `zpool status` has no scripted mode before OpenZFS 2.3 (`-j`), so this reads
//! the human layout, which has been stable for years; it is tested on output captured from
//! 2.1 and 2.3 in the VM and on hand-written cases for states the VM cannot produce.

use wizfs_core::{
    CivilDateTimeUtc, PoolHealth, PoolStatus, ScanFunction, ScanState, ScrubInfo, Timestamp, Vdev,
};

use super::{Parsed, error};

/// Every pool in the output, in order. Capacity and fragmentation are left `None` (they come
/// from `zpool list`).
pub fn pool_statuses(output: &str) -> Parsed<Vec<PoolStatus>> {
    if output.trim() == "no pools available" {
        return Ok(Vec::new());
    }
    let mut pools = Vec::new();
    let mut block: Vec<&str> = Vec::new();
    for line in output.lines() {
        if line.trim_start().starts_with("pool: ") && !block.is_empty() {
            pools.push(pool(&block)?);
            block.clear();
        }
        block.push(line);
    }
    if block.iter().any(|line| !line.trim().is_empty()) {
        pools.push(pool(&block)?);
    }
    Ok(pools)
}

/// One `key: value` header line ("  pool: tank", " state: ONLINE").
fn header(line: &str) -> Option<(&str, &str)> {
    if line.starts_with('\t') {
        return None;
    }
    let (key, value) = line.trim_start().split_once(':')?;
    let known = [
        "pool",
        "id",
        "state",
        "status",
        "action",
        "see",
        "scan",
        "config",
        "errors",
        "remove",
        "checkpoint",
        "expand",
        "comment",
    ];
    known
        .contains(&key)
        .then(|| (key, value.strip_prefix(' ').unwrap_or(value)))
}

fn pool(lines: &[&str]) -> Parsed<PoolStatus> {
    let mut fields: Vec<(&str, String)> = Vec::new();
    let mut config: Vec<&str> = Vec::new();
    let mut in_config = false;
    for &line in lines {
        if let Some((key, value)) = header(line) {
            in_config = key == "config";
            fields.push((key, value.trim().to_owned()));
        } else if in_config {
            config.push(line);
        } else if let Some((_, value)) = fields.last_mut() {
            // A continuation line of the previous field.
            let more = line.trim();
            if !more.is_empty() {
                if !value.is_empty() {
                    value.push(' ');
                }
                value.push_str(more);
            }
        }
    }
    let field = |key: &str| {
        fields
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, value)| value.as_str())
    };
    let first = lines.first().copied().unwrap_or_default();
    let name = field("pool").ok_or_else(|| error(first, "no `pool:` line"))?;
    let state = field("state").ok_or_else(|| error(first, "no `state:` line"))?;
    Ok(PoolStatus {
        name: name.to_owned(),
        state: PoolHealth::parse(state),
        status: field("status").map(str::to_owned),
        action: field("action").map(str::to_owned),
        vdevs: vdev_tree(&config)?,
        capacity_percent: None,
        fragmentation_percent: None,
        data_errors: field("errors").map(data_errors).transpose()?,
        scrub: field("scan").map(scan).transpose()?.flatten(),
    })
}

/// "No known data errors" → 0; "3 data errors, use '-v' for a list" → 3.
fn data_errors(text: &str) -> Parsed<u64> {
    if text.starts_with("No known data errors") {
        return Ok(0);
    }
    text.split_whitespace()
        .next()
        .and_then(|count| count.parse().ok())
        .ok_or_else(|| error(text, "unexpected `errors:` text"))
}

/// The vdev lines below "config:": a tab, two spaces per level, then NAME STATE READ WRITE
/// CKSUM [note]. Level 0 is the pool itself or a group header (`logs`, `cache`, `spares`,
/// `special`, `dedup`); the pool's own line is dropped (its state is the pool's).
fn vdev_tree(lines: &[&str]) -> Parsed<Vec<Vdev>> {
    // (level, vdev) in order; built into a tree afterwards.
    let mut flat: Vec<(usize, Vdev)> = Vec::new();
    let mut seen_heading = false;
    let mut pool_line_seen = false;
    for &line in lines {
        let Some(body) = line.strip_prefix('\t') else {
            if line.trim().is_empty() {
                continue;
            }
            return Err(error(
                line,
                "a configuration line that does not start with a tab",
            ));
        };
        if body.trim().is_empty() {
            continue;
        }
        if !seen_heading {
            if body.split_whitespace().next() == Some("NAME") {
                seen_heading = true;
                continue;
            }
            return Err(error(
                line,
                "expected the NAME STATE READ WRITE CKSUM heading",
            ));
        }
        let indent = body.len() - body.trim_start_matches(' ').len();
        let level = indent / 2;
        let vdev = vdev_line(line, body.trim())?;
        if level == 0 && !pool_line_seen {
            pool_line_seen = true;
            continue;
        }
        flat.push((level, vdev));
    }
    Ok(tree(flat))
}

/// Nests `(level, vdev)` lines: each vdev becomes a child of the nearest earlier vdev with a
/// smaller level, or a top-level vdev when there is none (group headers have level 0, the
/// pool's top-level vdevs level 1, so a group's devices land inside it).
fn tree(flat: Vec<(usize, Vdev)>) -> Vec<Vdev> {
    let mut parents: Vec<Option<usize>> = Vec::with_capacity(flat.len());
    let mut stack: Vec<usize> = Vec::new();
    for (index, (level, _)) in flat.iter().enumerate() {
        while stack.last().is_some_and(|&top| flat[top].0 >= *level) {
            stack.pop();
        }
        parents.push(stack.last().copied());
        stack.push(index);
    }
    let mut nodes: Vec<Option<Vdev>> = flat.into_iter().map(|(_, vdev)| Some(vdev)).collect();
    // Children come after their parents: attach from the last line backwards.
    for index in (0..nodes.len()).rev() {
        if let Some(parent) = parents[index]
            && let Some(child) = nodes[index].take()
            && let Some(parent) = nodes[parent].as_mut()
        {
            parent.children.insert(0, child);
        }
    }
    nodes.into_iter().flatten().collect()
}

fn vdev_line(line: &str, text: &str) -> Parsed<Vdev> {
    let mut words = text.split_whitespace();
    let name = words
        .next()
        .ok_or_else(|| error(line, "an empty vdev line"))?;
    let rest: Vec<&str> = words.collect();
    let state = rest.first().copied().unwrap_or_default();
    let counters: Vec<Option<u64>> = rest
        .iter()
        .skip(1)
        .take(3)
        .map(|word| word.parse().ok())
        .collect();
    let (read, write, checksum, note_from) = match counters.as_slice() {
        [Some(read), Some(write), Some(checksum)] => (*read, *write, *checksum, 4),
        _ => (0, 0, 0, 1),
    };
    let note = rest.get(note_from..).unwrap_or_default().join(" ");
    Ok(Vdev {
        name: name.to_owned(),
        state: PoolHealth::parse(state),
        read_errors: read,
        write_errors: write,
        checksum_errors: checksum,
        note: (!note.is_empty()).then_some(note),
        children: Vec::new(),
    })
}

/// The "scan:" text; `None` for "none requested".
fn scan(text: &str) -> Parsed<Option<ScrubInfo>> {
    let fail = |reason: &str| error(text, reason.to_owned());
    if text.starts_with("none requested") {
        return Ok(None);
    }
    let (function, rest) = if let Some(rest) = text.strip_prefix("scrub ") {
        (ScanFunction::Scrub, rest)
    } else if let Some(rest) = text.strip_prefix("resilver ") {
        (ScanFunction::Resilver, rest)
    } else if let Some(rest) = text.strip_prefix("resilvered ") {
        // "resilvered 1.2G in 00:01:02 with 0 errors on <date>"
        (ScanFunction::Resilver, rest)
    } else {
        return Err(fail("unknown scan kind"));
    };
    let finished_resilver = text.starts_with("resilvered ");
    if let Some(since) = rest
        .strip_prefix("in progress since ")
        .or_else(|| rest.strip_prefix("paused since "))
    {
        return Ok(Some(ScrubInfo {
            function,
            state: ScanState::Scanning,
            started: Some(ctime(&leading_date(since)).ok_or_else(|| fail("bad date"))?),
            ended: None,
            errors: 0,
            repaired_bytes: 0,
        }));
    }
    if let Some(on) = rest.strip_prefix("canceled on ") {
        return Ok(Some(ScrubInfo {
            function,
            state: ScanState::Canceled,
            started: None,
            ended: Some(ctime(&leading_date(on)).ok_or_else(|| fail("bad date"))?),
            errors: 0,
            repaired_bytes: 0,
        }));
    }
    // "[scrub ]repaired 48M in 00:00:02 with 0 errors on Thu Nov 26 11:56:38 2026"
    let rest = if finished_resilver {
        rest
    } else {
        rest.strip_prefix("repaired ")
            .ok_or_else(|| fail("unknown scan state"))?
    };
    let (amount, rest) = rest.split_once(" in ").ok_or_else(|| fail("no duration"))?;
    let (duration, rest) = rest
        .split_once(" with ")
        .ok_or_else(|| fail("no error count"))?;
    let (errors, date) = rest
        .split_once(" errors on ")
        .ok_or_else(|| fail("no end date"))?;
    let ended = ctime(date).ok_or_else(|| fail("bad end date"))?;
    let seconds = duration_seconds(duration).ok_or_else(|| fail("bad duration"))?;
    Ok(Some(ScrubInfo {
        function,
        state: ScanState::Finished,
        started: Some(Timestamp(ended.seconds() - seconds)),
        ended: Some(ended),
        errors: errors.trim().parse().map_err(|_| fail("bad error count"))?,
        repaired_bytes: size(amount).ok_or_else(|| fail("bad size"))?,
    }))
}

/// The date at the start of `text` (five words: "Thu Nov 26 11:56:38 2026").
fn leading_date(text: &str) -> String {
    text.split_whitespace()
        .take(5)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `ctime` format in the C locale and UTC: "Thu Nov 26 11:56:38 2026" (the day may be padded).
fn ctime(text: &str) -> Option<Timestamp> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let words: Vec<&str> = text.split_whitespace().collect();
    let [_weekday, month, day, time, year] = words.as_slice() else {
        return None;
    };
    let month = MONTHS.iter().position(|name| name == month)? + 1;
    let mut clock = time.split(':').map(|part| part.parse::<u8>().ok());
    let (hour, minute, second) = (clock.next()??, clock.next()??, clock.next()??);
    Timestamp::from_civil_utc(CivilDateTimeUtc {
        year: year.parse().ok()?,
        month: u8::try_from(month).ok()?,
        day: day.parse().ok()?,
        hour,
        minute,
        second,
    })
}

/// "00:00:02", "1 days 02:03:04" → seconds (`None` for a duration beyond `i64` seconds).
fn duration_seconds(text: &str) -> Option<i64> {
    let (days, clock) = match text.split_once(" days ") {
        Some((days, clock)) => (days.trim().parse::<i64>().ok()?, clock),
        None => (0, text),
    };
    let parts: Vec<i64> = clock
        .trim()
        .split(':')
        .map(|part| part.parse().ok())
        .collect::<Option<_>>()?;
    let [hours, minutes, seconds] = parts.as_slice() else {
        return None;
    };
    days.checked_mul(86_400)?
        .checked_add(hours.checked_mul(3_600)?)?
        .checked_add(minutes.checked_mul(60)?)?
        .checked_add(*seconds)
}

/// "0B", "48M", "1.50G", "123456" (exact with some versions) → bytes (binary units).
fn size(text: &str) -> Option<u64> {
    let text = text.trim();
    let (number, unit) = match text.find(|character: char| character.is_ascii_alphabetic()) {
        Some(position) => text.split_at(position),
        None => (text, ""),
    };
    let shift = match unit {
        "" | "B" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        "P" => 50,
        "E" => 60,
        _ => return None,
    };
    let value: f64 = number.parse().ok()?;
    (value.is_finite() && value >= 0.0).then(|| (value * (1u64 << shift) as f64).round() as u64)
}

#[cfg(test)]
mod tests;
