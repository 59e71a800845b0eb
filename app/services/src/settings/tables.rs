//! The tables of `wizfsd.toml` the console changes, edited in a `toml_edit` document so that
//! everything else in the file stays as it was: other tables, comments, blank lines, the
//! order and spelling of keys. A key whose value does not change is not touched (its
//! trailing comment stays); a key set to its default is removed (the file keeps saying only
//! what differs from the defaults, as the samples do); keys the console does not set (a
//! policy's hooks, a channel's time-out) are kept. Pure: text in, text out.

use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, Value};
use wizfs_api::health::{ChannelEdit, ChannelKind, Severity};
use wizfs_api::policies::PolicyEdit;

use crate::ServiceError;

/// Every key a channel of any kind may have that the console sets.
const CHANNEL_KEYS: [&str; 13] = [
    "min_severity",
    "smtp_host",
    "smtp_port",
    "security",
    "username",
    "password",
    "password_file",
    "from",
    "to",
    "url",
    "server",
    "topic",
    "token",
];

/// Adds (`original` none), changes or removes (`policy` none) one `[[policy]]` table.
pub(crate) fn change_policy(
    document: &mut DocumentMut,
    original: Option<&str>,
    policy: Option<&PolicyEdit>,
) -> Result<(), ServiceError> {
    let tables = tables_at(document.as_table_mut(), "policy", "a policy")?;
    let index = match original {
        Some(id) => Some(position(tables.as_deref(), "id", id).ok_or_else(|| {
            ServiceError::NotFound(format!("no policy `{id}` is configured in the file"))
        })?),
        None => None,
    };
    if let Some(policy) = policy {
        let taken = tables
            .as_deref()
            .and_then(|tables| position(Some(tables), "id", &policy.id));
        if taken.is_some() && taken != index {
            return Err(ServiceError::Conflict(format!(
                "a policy `{}` exists already: choose another id",
                policy.id
            )));
        }
    }
    edit(
        document.as_table_mut(),
        "policy",
        index,
        policy.map(|policy| move |table: &mut Table| write_policy(table, policy)),
    )
}

/// Adds (`original` none), changes or removes (`channel` none) one `[[health.notify]]`
/// table.
pub(crate) fn change_channel(
    document: &mut DocumentMut,
    original: Option<&str>,
    channel: Option<&ChannelEdit>,
) -> Result<(), ServiceError> {
    let root = document.as_table_mut();
    if !root.contains_key("health") {
        let mut health = Table::new();
        health.set_implicit(true);
        root.insert("health", Item::Table(health));
    }
    let health = root
        .get_mut("health")
        .and_then(Item::as_table_mut)
        .ok_or_else(|| by_hand("`health` is not a table"))?;
    let tables = tables_at(health, "notify", "a channel")?;
    let index = match original {
        Some(name) => Some(position(tables.as_deref(), "name", name).ok_or_else(|| {
            ServiceError::NotFound(format!("no channel `{name}` is configured in the file"))
        })?),
        None => None,
    };
    let before = index.and_then(|index| tables.as_deref()?.get(index).cloned());
    if let Some(channel) = channel {
        let taken = position(tables.as_deref(), "name", &channel.name);
        if taken.is_some() && taken != index {
            return Err(ServiceError::Conflict(format!(
                "a channel `{}` exists already: choose another name",
                channel.name
            )));
        }
    }
    edit(
        health,
        "notify",
        index,
        channel
            .map(|channel| move |table: &mut Table| write_channel(table, before.as_ref(), channel)),
    )
}

/// The array of tables `key` of `table`, if there is one (a missing key is none; anything
/// else there is refused: the file is then edited by hand).
fn tables_at<'a>(
    table: &'a mut Table,
    key: &str,
    what: &str,
) -> Result<Option<&'a mut ArrayOfTables>, ServiceError> {
    match table.get_mut(key) {
        None => Ok(None),
        Some(Item::ArrayOfTables(tables)) => Ok(Some(tables)),
        Some(_) => Err(by_hand(&format!(
            "`{key}` is not written as `[[…]]` tables, so {what} cannot be changed from the console"
        ))),
    }
}

fn by_hand(reason: &str) -> ServiceError {
    ServiceError::Conflict(format!(
        "the configuration file is written in a way the console does not change ({reason}): edit it by hand"
    ))
}

/// The index of the table whose `key` is the string `value`.
fn position(tables: Option<&ArrayOfTables>, key: &str, value: &str) -> Option<usize> {
    tables?
        .iter()
        .position(|table| table.get(key).and_then(Item::as_str) == Some(value))
}

/// Writes the table at `index` of the array `key` (a new one at the end when none) with
/// `write`, or removes it when `write` is none.
fn edit(
    parent: &mut Table,
    key: &str,
    index: Option<usize>,
    write: Option<impl FnOnce(&mut Table) -> Result<(), ServiceError>>,
) -> Result<(), ServiceError> {
    match (index, write) {
        (Some(index), Some(write)) => {
            let tables = parent
                .get_mut(key)
                .and_then(Item::as_array_of_tables_mut)
                .and_then(|tables| tables.get_mut(index))
                .ok_or_else(|| ServiceError::Internal("the table went missing".into()))?;
            write(tables)
        }
        (None, Some(write)) => {
            let mut table = Table::new();
            // A blank line before it, as between the tables of the samples.
            table.decor_mut().set_prefix("\n");
            write(&mut table)?;
            match parent.get_mut(key).and_then(Item::as_array_of_tables_mut) {
                Some(tables) => tables.push(table),
                None => {
                    let mut tables = ArrayOfTables::new();
                    tables.push(table);
                    parent.insert(key, Item::ArrayOfTables(tables));
                }
            }
            Ok(())
        }
        (Some(index), None) => {
            if let Some(tables) = parent.get_mut(key).and_then(Item::as_array_of_tables_mut) {
                tables.remove(index);
                if tables.is_empty() {
                    parent.remove(key);
                }
            }
            Ok(())
        }
        (None, None) => Err(ServiceError::BadRequest(
            "nothing to change: name what to change or remove".into(),
        )),
    }
}

/// Sets `key` to `value`, or removes it when none. An unchanged value is left as written;
/// a changed one keeps the old value's surrounding space and trailing comment.
fn set(table: &mut Table, key: &str, value: Option<Value>) {
    let Some(mut value) = value else {
        table.remove(key);
        return;
    };
    match table.get_mut(key).and_then(Item::as_value_mut) {
        Some(old) if same(old, &value) => {}
        Some(old) => {
            let decor = old.decor().clone();
            *value.decor_mut() = decor;
            *old = value;
        }
        None => {
            table.insert(key, Item::Value(value));
        }
    }
}

/// Whether two values are the same, however they are written.
fn same(left: &Value, right: &Value) -> bool {
    let mut left = left.clone();
    let mut right = right.clone();
    left.decor_mut().clear();
    right.decor_mut().clear();
    if let (Some(left), Some(right)) = (left.as_integer(), right.as_integer()) {
        return left == right;
    }
    left.to_string() == right.to_string()
}

fn text(value: &str) -> Option<Value> {
    Some(Value::from(value))
}

fn number(value: u32, default: u32) -> Option<Value> {
    (value != default).then(|| Value::from(i64::from(value)))
}

fn flag(value: bool) -> Option<Value> {
    value.then(|| Value::from(true))
}

fn list(values: &[String]) -> Option<Value> {
    (!values.is_empty())
        .then(|| Value::Array(values.iter().map(|value| value.trim()).collect::<Array>()))
}

/// A text field of a form: trimmed, none when empty.
fn given(value: Option<&String>) -> Option<&str> {
    value
        .map(|value| value.trim())
        .filter(|value| !value.is_empty())
}

fn write_policy(table: &mut Table, policy: &PolicyEdit) -> Result<(), ServiceError> {
    set(table, "id", text(policy.id.trim()));
    set(table, "dataset", text(policy.dataset.trim()));
    set(table, "recursive", flag(policy.recursive));
    set(table, "exclude", list(&policy.exclude));
    set(table, "frequently", number(policy.frequently, 0));
    let period = (policy.frequently > 0)
        .then_some(policy.frequent_period_minutes)
        .and_then(|minutes| number(minutes, 15));
    set(table, "frequent_period_minutes", period);
    set(table, "hourly", number(policy.hourly, 0));
    set(table, "daily", number(policy.daily, 0));
    set(table, "weekly", number(policy.weekly, 0));
    set(table, "monthly", number(policy.monthly, 0));
    set(table, "yearly", number(policy.yearly, 0));
    set(table, "min_keep", number(policy.min_keep, 0));
    set(table, "skip_empty", flag(policy.skip_empty));
    set(
        table,
        "free_space_floor_percent",
        policy
            .free_space_floor_percent
            .map(|percent| Value::from(i64::from(percent))),
    );
    // Written as chosen, UTC too: without the key the appliance's own zone applies.
    set(
        table,
        "timezone",
        given(policy.timezone.as_ref()).and_then(text),
    );
    Ok(())
}

fn write_channel(
    table: &mut Table,
    before: Option<&Table>,
    channel: &ChannelEdit,
) -> Result<(), ServiceError> {
    let kind = channel.kind;
    let same_kind = before
        .and_then(|before| before.get("type")?.as_str())
        .is_some_and(|old| old == kind.as_str());
    // What the kind keeps of the old table when the form leaves it blank: its address
    // (a webhook's URL, an ntfy topic) and its secret, never across kinds.
    let kept = |key: &str| {
        same_kind
            .then(|| before?.get(key)?.as_value().cloned())
            .flatten()
    };
    let secret_key = kind.secret_name();
    let file_key = match kind {
        ChannelKind::Email => "password_file",
        _ => "token_file",
    };
    let secret = match (
        given(channel.secret.as_ref()),
        given(channel.secret_file.as_ref()),
    ) {
        (Some(secret), _) => text(secret),
        (None, Some(_)) => None,
        (None, None) if channel.clear_secret => None,
        (None, None) => kept(secret_key),
    };
    let secret_file = if given(channel.secret.as_ref()).is_some() {
        None
    } else {
        given(channel.secret_file.as_ref()).and_then(text)
    };
    let address_key = match kind {
        ChannelKind::Webhook => Some("url"),
        ChannelKind::Ntfy => Some("topic"),
        ChannelKind::Email | ChannelKind::Gotify => None,
    };
    let address = match address_key {
        Some(key) => match given(channel.address.as_ref())
            .and_then(text)
            .or_else(|| kept(key))
        {
            Some(address) => Some((key, address)),
            None => {
                return Err(ServiceError::BadRequest(match kind {
                    ChannelKind::Webhook => "a webhook needs the URL it posts to".into(),
                    _ => "an ntfy channel needs its topic".into(),
                }));
            }
        },
        None => None,
    };
    let server_key = match kind {
        ChannelKind::Email => Some("smtp_host"),
        ChannelKind::Ntfy => Some("server"),
        ChannelKind::Gotify => Some("url"),
        ChannelKind::Webhook => None,
    };
    let mut wanted: Vec<(&str, Option<Value>)> = vec![
        ("type", text(kind.as_str())),
        ("name", text(channel.name.trim())),
        (
            "min_severity",
            (channel.min_severity != Severity::Warning)
                .then(|| Value::from(channel.min_severity.as_str())),
        ),
    ];
    if let Some(key) = server_key {
        let server = given(channel.server.as_ref()).ok_or_else(|| {
            ServiceError::BadRequest(match kind {
                ChannelKind::Email => "an email channel needs its SMTP server".to_owned(),
                _ => format!("a {kind} channel needs its server"),
            })
        })?;
        wanted.push((key, text(server)));
    }
    if let Some((key, address)) = address {
        wanted.push((key, Some(address)));
    }
    if kind == ChannelKind::Email {
        let security = given(channel.security.as_ref()).unwrap_or("starttls");
        if !["starttls", "tls", "none"].contains(&security) {
            return Err(ServiceError::BadRequest(format!(
                "`{security}` is not a way to protect SMTP: starttls, tls or none"
            )));
        }
        let from = given(channel.from.as_ref())
            .ok_or_else(|| ServiceError::BadRequest("an email channel needs a sender".into()))?;
        if channel.to.iter().all(|to| to.trim().is_empty()) {
            return Err(ServiceError::BadRequest(
                "an email channel needs at least one recipient".into(),
            ));
        }
        let to: Vec<String> = channel
            .to
            .iter()
            .map(|to| to.trim().to_owned())
            .filter(|to| !to.is_empty())
            .collect();
        wanted.extend([
            (
                "smtp_port",
                channel.smtp_port.map(|port| Value::from(i64::from(port))),
            ),
            (
                "security",
                (security != "starttls").then(|| Value::from(security)),
            ),
            ("username", given(channel.username.as_ref()).and_then(text)),
            ("from", text(from)),
            ("to", Some(Value::Array(to.iter().collect()))),
        ]);
    }
    wanted.extend([(secret_key, secret), (file_key, secret_file)]);
    // Keys of other kinds go (all of them when the kind changed, so the table reads in the
    // usual order); the rest (a time-out) stays.
    for key in CHANNEL_KEYS.into_iter().chain(["token_file"]) {
        if !same_kind || !wanted.iter().any(|(wanted, _)| *wanted == key) {
            table.remove(key);
        }
    }
    for (key, value) in wanted {
        set(table, key, value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"# The appliance's configuration.
listen = "0.0.0.0:8080"

# Alice's files every hour.
[[policy]]
id = "alice"
dataset = "tank/home/alice"
hourly = 24 # a day of hours
daily = 7
pre_hook = ["/usr/local/bin/flush-db"]

[[policy]]
id = "media"
dataset = "tank/media"
weekly = 4

[health.pools]
capacity_percent = { warning = 80, critical = 90 }

# Where alerts go.
[[health.notify]]
type = "ntfy"
name = "phone"
server = "https://ntfy.sh"
topic = "secret-topic"
token = "tk_1"
"#;

    fn policy(id: &str, dataset: &str) -> PolicyEdit {
        PolicyEdit::new(id, dataset)
    }

    fn channel(kind: ChannelKind, name: &str) -> ChannelEdit {
        ChannelEdit::new(kind, name)
    }

    fn document() -> DocumentMut {
        FILE.parse().expect("the sample parses")
    }

    #[test]
    fn a_changed_policy_keeps_comments_hooks_and_unchanged_keys() {
        let mut document = document();
        let mut alice = policy("alice", "tank/home/alice");
        alice.hourly = 24;
        alice.daily = 14;
        alice.skip_empty = true;
        change_policy(&mut document, Some("alice"), Some(&alice)).expect("changes");
        let text = document.to_string();
        let expected = FILE.replace("daily = 7\n", "daily = 14\n").replace(
            "pre_hook = [\"/usr/local/bin/flush-db\"]\n",
            "pre_hook = [\"/usr/local/bin/flush-db\"]\nskip_empty = true\n",
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn defaults_are_removed_and_a_changed_value_keeps_its_comment() {
        let mut document = document();
        let mut alice = policy("alice", "tank/home/alice");
        alice.hourly = 48;
        change_policy(&mut document, Some("alice"), Some(&alice)).expect("changes");
        let text = document.to_string();
        assert!(text.contains("hourly = 48 # a day of hours\n"), "{text}");
        assert!(!text.contains("daily"), "daily 0 is the default: {text}");
        // UTC chosen is written: without the key the appliance's own zone would apply.
        alice.timezone = Some("UTC".into());
        change_policy(&mut document, Some("alice"), Some(&alice)).expect("changes");
        assert!(
            document.to_string().contains("timezone = \"UTC\"\n"),
            "{document}"
        );
        assert!(text.contains("pre_hook"), "{text}");
    }

    #[test]
    fn a_new_policy_goes_after_the_others_and_a_removed_one_takes_its_comment() {
        let mut document = document();
        let mut new = policy("projects", "tank/projects");
        new.frequently = 4;
        new.frequent_period_minutes = 30;
        new.timezone = Some("Europe/Berlin".into());
        new.exclude = vec!["tank/projects/scratch".into()];
        change_policy(&mut document, None, Some(&new)).expect("adds");
        change_policy(&mut document, Some("alice"), None).expect("removes");
        let text = document.to_string();
        assert!(!text.contains("alice"), "{text}");
        assert!(
            !text.contains("every hour"),
            "the removed table's comment: {text}"
        );
        let media = text.find("id = \"media\"").expect("media stays");
        let projects = text.find("id = \"projects\"").expect("projects added");
        let health = text.find("[health.pools]").expect("health stays");
        assert!(
            media < projects && projects < health,
            "with its siblings: {text}"
        );
        assert!(
            text.contains(
                "\n[[policy]]\nid = \"projects\"\ndataset = \"tank/projects\"\nexclude = [\"tank/projects/scratch\"]\nfrequently = 4\nfrequent_period_minutes = 30\ntimezone = \"Europe/Berlin\"\n"
            ),
            "{text}"
        );
        change_policy(&mut document, Some("media"), None).expect("removes the last");
        change_policy(&mut document, Some("projects"), None).expect("removes the last");
        assert!(!document.to_string().contains("policy"), "{document}");
    }

    #[test]
    fn policy_ids_are_unique_and_must_exist_to_change() {
        let mut document = document();
        let taken = change_policy(&mut document, None, Some(&policy("media", "tank/x")));
        assert!(matches!(taken, Err(ServiceError::Conflict(_))), "{taken:?}");
        let renamed_onto = change_policy(
            &mut document,
            Some("alice"),
            Some(&policy("media", "tank/x")),
        );
        assert!(
            matches!(renamed_onto, Err(ServiceError::Conflict(_))),
            "{renamed_onto:?}"
        );
        let missing = change_policy(&mut document, Some("nobody"), None);
        assert!(
            matches!(missing, Err(ServiceError::NotFound(_))),
            "{missing:?}"
        );
        assert_eq!(document.to_string(), FILE, "nothing changed");
    }

    #[test]
    fn a_channel_keeps_its_secrets_unless_replaced() {
        let mut document = document();
        let mut phone = channel(ChannelKind::Ntfy, "phone");
        phone.server = Some("https://ntfy.sh".into());
        phone.min_severity = Severity::Critical;
        change_channel(&mut document, Some("phone"), Some(&phone)).expect("changes");
        let text = document.to_string();
        assert!(
            text.contains(
                "topic = \"secret-topic\"\ntoken = \"tk_1\"\nmin_severity = \"critical\"\n"
            ),
            "{text}"
        );
        phone.secret_file = Some("/etc/wizfs/ntfy-token".into());
        phone.address = Some("new-topic".into());
        change_channel(&mut document, Some("phone"), Some(&phone)).expect("changes");
        let text = document.to_string();
        assert!(!text.contains("tk_1"), "the inline token went: {text}");
        assert!(
            text.contains("token_file = \"/etc/wizfs/ntfy-token\""),
            "{text}"
        );
        assert!(text.contains("topic = \"new-topic\""), "{text}");
        assert!(
            text.contains("# Where alerts go.\n[[health.notify]]"),
            "{text}"
        );
    }

    #[test]
    fn a_channel_of_another_kind_keeps_nothing_of_the_old_one() {
        let mut document = document();
        let mut phone = channel(ChannelKind::Gotify, "phone");
        phone.server = Some("https://gotify.lan".into());
        phone.secret = Some("A1b2".into());
        change_channel(&mut document, Some("phone"), Some(&phone)).expect("changes");
        let text = document.to_string();
        let table = &text[text.find("[[health.notify]]").expect("the table")..];
        assert_eq!(
            table,
            "[[health.notify]]\ntype = \"gotify\"\nname = \"phone\"\nurl = \"https://gotify.lan\"\ntoken = \"A1b2\"\n"
        );
        // A webhook without its URL is refused: the old kind's is never taken.
        let webhook = channel(ChannelKind::Webhook, "phone");
        let refused = change_channel(&mut document, Some("phone"), Some(&webhook));
        assert!(
            matches!(refused, Err(ServiceError::BadRequest(_))),
            "{refused:?}"
        );
    }

    #[test]
    fn email_channels_are_checked_and_new_ones_make_their_table() {
        let mut document: DocumentMut = "listen = \"127.0.0.1:8080\"\n".parse().expect("parses");
        let mut mail = channel(ChannelKind::Email, "mail");
        mail.server = Some("smtp.example.org".into());
        let refused = change_channel(&mut document, None, Some(&mail));
        assert!(
            matches!(refused, Err(ServiceError::BadRequest(message)) if message.contains("sender"))
        );
        mail.from = Some("WiZFS <nas@example.org>".into());
        mail.to = vec!["admin@example.org".into(), " ".into()];
        mail.security = Some("tls".into());
        mail.username = Some("nas".into());
        mail.secret_file = Some("/etc/wizfs/smtp".into());
        change_channel(&mut document, None, Some(&mail)).expect("adds");
        assert_eq!(
            document.to_string(),
            "listen = \"127.0.0.1:8080\"\n\n[[health.notify]]\ntype = \"email\"\nname = \"mail\"\nsmtp_host = \"smtp.example.org\"\nsecurity = \"tls\"\nusername = \"nas\"\nfrom = \"WiZFS <nas@example.org>\"\nto = [\"admin@example.org\"]\npassword_file = \"/etc/wizfs/smtp\"\n"
        );
        change_channel(&mut document, Some("mail"), None).expect("removes");
        assert_eq!(document.to_string(), "listen = \"127.0.0.1:8080\"\n");
    }

    #[test]
    fn tables_written_another_way_are_left_to_the_person() {
        let mut document: DocumentMut = "policy = []\n".parse().expect("parses");
        let refused = change_policy(&mut document, None, Some(&policy("a", "tank/a")));
        assert!(
            matches!(refused, Err(ServiceError::Conflict(message)) if message.contains("by hand"))
        );
    }
}
