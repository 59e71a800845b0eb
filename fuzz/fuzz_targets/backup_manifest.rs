//! Fuzzes the file target's manifest reader (`wizfs_backup::ChainManifest::parse`, what
//! `wizfs backup verify` and `restore` read from disks that outlive the program that wrote
//! them) on any bytes. Properties: no panic, also in the error's message; a manifest that
//! parses is written back as JSON that parses to the same manifest and is written the same
//! again; the planner's chain has one link per stream; every volume name is one of the
//! writer's own, of its stream and position (so no name leads out of the chain directory).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wizfs_backup::ChainManifest;
use wizfs_backup::names::parse_volume_name;

fuzz_target!(|data: &[u8]| {
    let manifest = match ChainManifest::parse(data) {
        Ok(manifest) => manifest,
        Err(error) => {
            let _ = error.to_string();
            return;
        }
    };
    let json = manifest.to_json();
    let again = ChainManifest::parse(json.as_bytes()).expect("a written manifest reads back");
    assert_eq!(again, manifest, "the manifest changed through JSON");
    assert_eq!(again.to_json(), json, "the JSON changed when written again");
    assert_eq!(manifest.to_planner().chain.len(), manifest.streams.len());
    for stream in &manifest.streams {
        for (index, volume) in stream.volumes.iter().enumerate() {
            let (number, position, suffix) =
                parse_volume_name(&volume.name).expect("a volume name of the writer's");
            assert_eq!((number, position as usize), (stream.number, index + 1));
            assert_eq!(suffix, stream.suffix());
        }
    }
});
