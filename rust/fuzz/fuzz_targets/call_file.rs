//! Arbitrary values straight into the call-file renderer, bypassing validation: it must either
//! refuse or produce exactly one line per key, never an injected line.
#![no_main]

use apicall_request::callfile::CallFile;
use apicall_request::fields::{CallerId, Destination};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (String, String, String, String, String, u32)| {
    let (number, name, context, exten, message, n) = input;
    let dest = Destination { context: context.clone(), exten, priority: "1".into() };
    let cid = CallerId { name: Some(name), number: number.clone() };
    let Ok(file) = CallFile::for_message("ab12", &number, "from-internal", cid, (n, n, n), Some(std::path::Path::new(&message)), &dest) else {
        return;
    };
    if let Ok(text) = file.render() {
        // 8 fixed lines + 5 variables + Archive.
        assert_eq!(text.lines().count(), 14, "{text:?}");
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text:?}");
    }
});
