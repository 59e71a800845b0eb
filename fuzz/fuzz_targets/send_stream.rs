//! Fuzzes the send-stream record reader (`wizfs_zfs::objects::scan_objects`): any bytes, as
//! if `zfs send` wrote them, must give a scan or an error — never a panic, a hang or an
//! allocation beyond the payload limit. A scan it returns is consistent: every object with
//! decoded attributes is one of the objects read, in the same order.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wizfs_zfs::objects::scan_objects;

fuzz_target!(|data: &[u8]| {
    let mut stream = data;
    if let Ok(scan) = scan_objects(&mut stream) {
        let mut objects = scan.objects.iter().map(|(object, _)| *object);
        for (object, _) in &scan.attributes {
            assert!(
                objects.any(|read| read == *object),
                "attributes of object {object} that the scan did not list in order"
            );
        }
        assert!(
            scan.data_bytes <= data.len() as u64,
            "more data than the stream holds"
        );
    }
});
