//! Fuzzes name and path validation: `PoolName`, `DatasetName`, `SnapshotName`,
//! `BookmarkName`, `ZfsObjectName`, `validate_short_name` and `RelativePath` of
//! `wizfs-core`, and the property names, hold tags and resume tokens of `wizfs-zfs`. The
//! input is the name (lossy UTF-8 for names; the raw bytes for the path). Properties: no
//! panic; a name that validates prints back to itself and parses to the same value; the
//! names derived from a valid one (its pool, parent, components, a snapshot's bookmark)
//! validate too; a path's parent joined with its file name is the path again.
#![no_main]

use std::fmt::Debug;
use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use wizfs_core::{
    BookmarkName, DatasetName, NameKind, PoolName, RelativePath, SnapshotName, ZfsObjectName,
    validate_short_name,
};
use wizfs_zfs::{HoldTag, PropertyName, ResumeToken};

fn round_trips<T>(name: &T, text: &str)
where
    T: std::fmt::Display + FromStr + PartialEq + Debug,
    T::Err: Debug,
{
    assert_eq!(name.to_string(), text, "a valid name prints as given");
    let again: T = text.parse().expect("a valid name parses again");
    assert_eq!(&again, name);
}

fn dataset(name: &DatasetName) {
    round_trips(name, name.as_str());
    round_trips(&name.pool(), name.pool().as_str());
    let components: Vec<&str> = name.components().collect();
    assert_eq!(components.join("/"), name.as_str());
    assert_eq!(components.len(), name.depth() + 1);
    match name.parent() {
        Some(parent) => {
            assert!(name.is_same_or_descendant_of(&parent));
            assert_eq!(parent.child(name.last_component()).as_ref(), Ok(name));
        }
        None => assert!(name.is_root()),
    }
}

fn check_text(text: &str) {
    if let Ok(pool) = PoolName::new(text) {
        round_trips(&pool, text);
        assert_eq!(pool.root_dataset().pool(), pool);
    }
    let as_dataset = DatasetName::new(text);
    if let Ok(name) = &as_dataset {
        dataset(name);
    }
    let as_snapshot = SnapshotName::new(text);
    if let Ok(snapshot) = &as_snapshot {
        round_trips(snapshot, text);
        dataset(snapshot.dataset());
        let rebuilt = SnapshotName::from_parts(snapshot.dataset().clone(), snapshot.short_name());
        assert_eq!(rebuilt.as_ref(), Ok(snapshot));
        let bookmark = snapshot.to_bookmark_name();
        assert_eq!(BookmarkName::new(bookmark.as_str()).as_ref(), Ok(&bookmark));
    }
    let as_bookmark = BookmarkName::new(text);
    if let Ok(bookmark) = &as_bookmark {
        round_trips(bookmark, text);
        dataset(bookmark.dataset());
        let rebuilt = BookmarkName::from_parts(bookmark.dataset().clone(), bookmark.short_name());
        assert_eq!(rebuilt.as_ref(), Ok(bookmark));
    }
    match ZfsObjectName::parse(text) {
        Ok(ZfsObjectName::Dataset(name)) => assert_eq!(as_dataset.as_ref(), Ok(&name)),
        Ok(ZfsObjectName::Snapshot(name)) => assert_eq!(as_snapshot.as_ref(), Ok(&name)),
        Ok(ZfsObjectName::Bookmark(name)) => assert_eq!(as_bookmark.as_ref(), Ok(&name)),
        Err(_) => assert!(as_dataset.is_err() && as_snapshot.is_err() && as_bookmark.is_err()),
    }
    for kind in [
        NameKind::Pool,
        NameKind::Dataset,
        NameKind::Snapshot,
        NameKind::Bookmark,
    ] {
        let _ = validate_short_name(kind, text);
    }
    if let Ok(property) = PropertyName::new(text) {
        assert_eq!(property.as_str(), text);
    }
    if let Ok(tag) = HoldTag::new(text) {
        assert_eq!(tag.as_str(), text);
    }
    if let Ok(token) = ResumeToken::new(text) {
        assert_eq!(token.as_str(), text);
    }
}

fn check_path(bytes: &[u8]) {
    let Ok(path) = RelativePath::new(bytes) else {
        return;
    };
    assert_eq!(path.as_bytes(), bytes);
    let components: Vec<&[u8]> = path.components().collect();
    assert_eq!(components.join(&b'/'), bytes);
    let _ = (path.display(), path.to_string());
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => {
            assert_eq!(parent.join(name).as_ref(), Ok(&path));
            assert!(path.starts_with(&parent));
            let below = path.strip_prefix(&parent).expect("below its parent");
            assert_eq!(below.as_bytes(), name);
            assert_eq!(parent.join_path(&below).as_ref(), Ok(&path));
        }
        (None, None) => assert!(path.is_root()),
        other => panic!("parent and file name disagree: {other:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    check_text(&String::from_utf8_lossy(data));
    check_path(data);
});
